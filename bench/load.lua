-- wrk script for bench/load.sh: POSTs the bench reports to /v1/analyze in turn, stops each wrk
-- thread after REQS_PER_THREAD responses (so a run is bounded by count), and prints one RESULT line.
-- wrk's main thread sleeps for the whole -d duration whatever its threads do, so each thread also
-- drops a marker file in MARK_DIR when done; load.sh then interrupts wrk, which reports at once.
-- Env: BODIES (file, one JSON request body a line), REQS_PER_THREAD, MARK_DIR.

local bodies = {}
for line in io.lines(os.getenv("BODIES")) do
  if #line > 0 then bodies[#bodies + 1] = line end
end
local quota = tonumber(os.getenv("REQS_PER_THREAD") or "100")
local next_body, answered, bad = 0, 0, 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local threads_seen = 0
function setup(thread)
  -- Threads start at different reports so concurrent requests are not all the same text.
  threads_seen = threads_seen + 1
  thread:set("start_at", threads_seen * 5)
  thread:set("thread_no", threads_seen)
end

function init(args)
  next_body = (start_at or 0) % #bodies
end

function request()
  next_body = next_body % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[next_body])
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then bad = bad + 1 end
  if answered == quota then
    local f = io.open(os.getenv("MARK_DIR") .. "/done-" .. tostring(thread_no), "w")
    if f then f:close() end
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.3f p50_ms=%.1f p99_ms=%.1f socket_errors=%d non_2xx=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
