#!/usr/bin/env bash
# bench/load.sh — load benchmark of `rootline serve` against offline `rootline label`, same reports,
# same run, same machine (documented in bench/README.md; results in bench/RESULTS.md).
#
#   1. builds release and installs wrk from Debian's packages if it is missing;
#   2. turns bench/reports/*.{txt,md} into request bodies and an offline JSONL;
#   3. offline baseline: `rootline label` on the reports (before and after the served runs; the mean
#      is the baseline, so a neighbour's load on a shared box hits both sides alike);
#   4. throughput: `serve` on 127.0.0.1, POST /v1/analyze at concurrency 1, 8 and 32, a bounded
#      number of requests each; prints requests/s and p50/p99 latency;
#   5. memory: a fresh `serve` with default settings, RSS before any request, after 1,000 and after
#      10,000 requests (c=32).
#
# The embedding cache is OFF (ROOTLINE_CACHE_ENTRIES=0) for steps 3 and 4: the bench reports repeat,
# and a warm cache would make served requests nearly free and the comparison meaningless. Step 5 runs
# the defaults (cache on) because it measures memory in steady service, not model speed.
#
# Env: PORT (18180), OUT (target/load-bench), REQS_C1 (32), REQS_C8 (128), REQS_C32 (384),
#      OFFLINE_COPIES (16: each report this many times, fresh ids), SOAK (10000), SOAK_FIRST (1000),
#      MAX_SECONDS (1200: upper bound of any one wrk run). Everything stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-18180}
OUT=${OUT:-target/load-bench}
REQS_C1=${REQS_C1:-32}
REQS_C8=${REQS_C8:-128}
REQS_C32=${REQS_C32:-384}
OFFLINE_COPIES=${OFFLINE_COPIES:-16}
SOAK=${SOAK:-10000}
SOAK_FIRST=${SOAK_FIRST:-1000}
MAX_SECONDS=${MAX_SECONDS:-1200}
URL="http://127.0.0.1:$PORT"
BIN=target/release/rootline
mkdir -p "$OUT"

if ! command -v wrk >/dev/null; then
    echo "== installing wrk (Debian package)"
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
echo "== cargo build --release"
cargo build --release --quiet

echo "== preparing bodies from bench/reports"
python3 - "$OUT" "$OFFLINE_COPIES" <<'PY'
import json, pathlib, sys
out, copies = pathlib.Path(sys.argv[1]), int(sys.argv[2])
reports = sorted(p for p in pathlib.Path("bench/reports").iterdir() if p.suffix in (".txt", ".md"))
with open(out / "bodies.jsonl", "w") as b, open(out / "offline.jsonl", "w") as o:
    for p in reports:
        b.write(json.dumps({"id": p.stem, "text": p.read_text()}) + "\n")
    for k in range(copies):
        for p in reports:
            o.write(json.dumps({"id": f"{p.stem}-{k}", "text": p.read_text()}) + "\n")
words = [len(p.read_text().split()) for p in reports]
print(f"{len(reports)} reports, {min(words)}-{max(words)} words; offline input {len(reports) * copies} records")
PY

SERVER_PID=""
stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        wait "$SERVER_PID" || echo "warning: server exited with status $?"
    fi
    SERVER_PID=""
}
trap stop_server EXIT

start_server() { # extra env assignments as arguments
    env "$@" ROOTLINE_LOG=warn "$BIN" serve --host 127.0.0.1 --port "$PORT" \
        --queue-capacity 256 --request-timeout 900 2>>"$OUT/server.log" &
    SERVER_PID=$!
    for _ in $(seq 1 600); do
        if curl -fsS "$URL/health" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    echo "server did not become healthy; see $OUT/server.log" >&2
    exit 1
}

rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER_PID/status"; }

# run_wrk CONCURRENCY REQUESTS -> prints the RESULT line
run_wrk() {
    local c=$1 n=$2 t=2
    if ((c < 2)); then t=1; fi
    local marks="$OUT/marks" wrk_out="$OUT/wrk.out"
    rm -rf "$marks" && mkdir -p "$marks"
    BODIES="$OUT/bodies.jsonl" REQS_PER_THREAD=$(((n + t - 1) / t)) MARK_DIR="$marks" \
        wrk -t"$t" -c"$c" -d"${MAX_SECONDS}s" --timeout 900s -s bench/load.lua "$URL/v1/analyze" >"$wrk_out" &
    local wrk_pid=$!
    # Every thread has met its quota: interrupt wrk so it reports now, not after -d.
    while kill -0 "$wrk_pid" 2>/dev/null && (($(find "$marks" -type f | wc -l) < t)); do sleep 0.05; done
    kill -INT "$wrk_pid" 2>/dev/null || true
    wait "$wrk_pid" || true
    grep '^RESULT' "$wrk_out"
}
field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

offline() {
    local log="$OUT/label-$1.log"
    ROOTLINE_CACHE_ENTRIES=0 "$BIN" label --input "$OUT/offline.jsonl" --output "$OUT/offline-$1.out.jsonl" 2>"$log"
    sed -n 's/.*(\([0-9.]*\) reports\/s).*/\1/p' "$log"
}

echo "== machine"
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "nproc=$(nproc) cpu=\"$CPU\" load_avg=\"$(cut -d' ' -f1-3 /proc/loadavg)\""

echo "== offline baseline (before)"
OFF1=$(offline before)
echo "rootline label: $OFF1 reports/s"

echo "== served throughput (cache off)"
start_server ROOTLINE_CACHE_ENTRIES=0
run_wrk 1 3 >/dev/null # warm-up: first-touch of the model's pages
declare -A RPS P50 P99 BAD
for c in 1 8 32; do
    case $c in 1) n=$REQS_C1 ;; 8) n=$REQS_C8 ;; 32) n=$REQS_C32 ;; esac
    r=$(run_wrk "$c" "$n")
    echo "c=$c: $r"
    RPS[$c]=$(field rps "$r")
    P50[$c]=$(field p50_ms "$r")
    P99[$c]=$(field p99_ms "$r")
    BAD[$c]=$(($(field non_2xx "$r") + $(field socket_errors "$r")))
done
stop_server

echo "== offline baseline (after)"
OFF2=$(offline after)
echo "rootline label: $OFF2 reports/s"
OFF=$(python3 -c "print(f'{($OFF1 + $OFF2) / 2:.3f}')")
RATIO=$(python3 -c "print(f'{${RPS[32]} / $OFF:.2f}')")

echo "== memory soak (default settings, cache on, c=32)"
start_server
RSS0=$(rss_mib)
r1=$(run_wrk 32 "$SOAK_FIRST")
RSS1=$(rss_mib)
r2=$(run_wrk 32 $((SOAK - SOAK_FIRST)))
RSS2=$(rss_mib)
N1=$(field requests "$r1")
N2=$(($(field requests "$r1") + $(field requests "$r2")))
SOAK_BAD=$(($(field non_2xx "$r1") + $(field socket_errors "$r1") + $(field non_2xx "$r2") + $(field socket_errors "$r2")))
GROWTH=$(python3 -c "print(f'{($RSS2 - $RSS1) / $RSS1 * 100:+.1f}')")
echo "soak: $r1"
echo "soak: $r2"
stop_server

{
    echo "machine: $(nproc) cores, $CPU; load average at start $LOAD_AT_START"
    echo
    echo "| run | requests/s (= reports/s) | p50 ms | p99 ms | failed |"
    echo "|---|---|---|---|---|"
    echo "| offline \`rootline label\` (mean of before $OFF1 / after $OFF2) | $OFF | | | |"
    for c in 1 8 32; do
        echo "| served \`/v1/analyze\` c=$c | ${RPS[$c]} | ${P50[$c]} | ${P99[$c]} | ${BAD[$c]} |"
    done
    echo
    echo "served c=32 / offline = **$RATIO** (target >= 0.9)"
    echo
    echo "| memory (RSS of serve, default settings) | MiB |"
    echo "|---|---|"
    echo "| model loaded, before any request | $RSS0 |"
    echo "| after $N1 requests | $RSS1 |"
    echo "| after $N2 requests | $RSS2 |"
    echo
    echo "RSS growth from $N1 to $N2 requests: **$GROWTH%** (target within ±10%); failed soak requests: $SOAK_BAD"
} | tee "$OUT/results.md"
