#!/usr/bin/env bash
# rootline vs PyTorch sentence-transformers: embedding throughput on the same CPU, same corpus.
#
# Owns the head-to-head embedding benchmark (documented in bench/README.md). It:
#   1. makes a Python venv (default target/bench-venv) with torch + sentence-transformers from
#      plain PyPI, once; the model is loaded from models/all-MiniLM-L6-v2, never from a hub;
#   2. builds rootline's `embed_bench` example in release;
#   3. writes a deterministic corpus from our own sentences (256-token passages, short sentences);
#   4. for each (corpus, batch) runs PyTorch and rootline interleaved, ROUNDS times each, both on
#      THREADS threads, and prints median tokens/s, the ratio rootline/PyTorch and the cosine
#      agreement of the two engines' vectors.
#
# Env: THREADS (2), ROUNDS (3), BATCHES ("1 8 32"), CORPORA ("passage256 short"),
#      VENV (target/bench-venv), MODEL_DIR (models/all-MiniLM-L6-v2), OUT (target/vs-pytorch).
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
BATCHES=${BATCHES:-"1 8 32"}
CORPORA=${CORPORA:-"passage256 short"}
VENV=${VENV:-target/bench-venv}
MODEL_DIR=${MODEL_DIR:-models/all-MiniLM-L6-v2}
OUT=${OUT:-target/vs-pytorch}
mkdir -p "$OUT"

# Same thread count on both sides; OMP/MKL for torch, RAYON for any rayon pool in rootline.
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS RAYON_NUM_THREADS=$THREADS
export ROOTLINE_THREADS=$THREADS
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

if [ ! -f "$MODEL_DIR/model.safetensors" ]; then
    echo "== fetching the model into $MODEL_DIR"
    cargo run --release --quiet -- fetch-model
fi

if ! "$VENV/bin/python" -c 'import torch, sentence_transformers' 2>/dev/null; then
    echo "== creating $VENV (torch + sentence-transformers from PyPI; large, once)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet torch sentence-transformers
fi
PY="$VENV/bin/python"

echo "== building rootline (release)"
cargo build --release --quiet --example embed_bench
RL=target/release/examples/embed_bench

echo "== corpus"
"$PY" - "$OUT" <<'EOF'
# Deterministic corpus from our own sentences: no shared data, no randomness across runs.
import json, sys, random
out = sys.argv[1]
S = [
    "The checkout service returned HTTP 502 for eleven minutes after the config push.",
    "Memory on the ingest workers grew steadily until the OOM killer restarted them.",
    "We rolled back release 4.2.1 and error rates returned to normal.",
    "An upstream payment provider timed out on roughly a third of requests.",
    "The on-call engineer acknowledged the page four minutes later.",
    "Root cause: the connection pool limit was lowered from 200 to 20.",
    "DNS resolution failed for internal hosts after the resolver change.",
    "Disk usage on the log volume reached 100% and writes began to fail.",
    "A feature flag enabled the new cache path for all tenants at once.",
    "Latency on the search API rose above two seconds at the 99th percentile.",
    "The certificate for the internal gateway expired at midnight UTC.",
    "Replication lag on the primary database exceeded five minutes.",
    "A retry storm from mobile clients amplified the outage.",
    "We paused the deploy pipeline and drained traffic from the affected region.",
    "Customers could not log in while the identity provider was degraded.",
    "The queue consumer leaked file descriptors on every reconnect.",
]
rng = random.Random(20261121)
short = [rng.choice(S) for _ in range(256)]
passages = []
for i in range(64):
    words = []
    while len(words) < 260:  # well past 256 tokens: every passage is truncated to the window
        words.extend(rng.choice(S).split())
    passages.append(" ".join(words))
for name, texts in (("short", short), ("passage256", passages)):
    with open(f"{out}/{name}.jsonl", "w") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"id": f"{name}-{i}", "text": t}) + "\n")
EOF

cat > "$OUT/st_bench.py" <<'EOF'
# PyTorch half: times SentenceTransformer.encode over the corpus at one batch size.
import json, os, resource, statistics, sys, time
import torch
from sentence_transformers import SentenceTransformer
path, batch, runs, model_dir, vec_out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
torch.set_num_threads(int(os.environ.get("THREADS", "2")))
texts = [json.loads(l)["text"] for l in open(path) if l.strip()]
m = SentenceTransformer(model_dir, device="cpu")
m.max_seq_length = 256
tokens = sum(len(x) for x in m.tokenizer(texts, truncation=True, max_length=256)["input_ids"])
enc = lambda: m.encode(texts, batch_size=batch, normalize_embeddings=True, convert_to_numpy=True)
enc()  # warm-up
secs = []
for _ in range(runs):
    t = time.perf_counter(); v = enc(); secs.append(time.perf_counter() - t)
with open(vec_out, "w") as f:
    for row in v:
        f.write(json.dumps([float(x) for x in row]) + "\n")
med = statistics.median(secs)
print(json.dumps({"engine": "pytorch", "torch": torch.__version__, "texts": len(texts), "batch": batch,
                  "tokens": tokens, "runs": secs, "median_s": med, "tokens_per_s": tokens / med,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
EOF

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load: $(cut -d' ' -f1-3 /proc/loadavg)"
RESULTS="$OUT/results.jsonl"
: > "$RESULTS"
: > "$OUT/pytorch.stderr"
for corpus in $CORPORA; do
    for b in $BATCHES; do
        # Interleaved A/B: one timed run of each engine per round, alternating who goes first,
        # so a burst of load from elsewhere hits both engines rather than one.
        for r in $(seq 1 "$ROUNDS"); do
            pt() { THREADS=$THREADS "$PY" "$OUT/st_bench.py" "$OUT/$corpus.jsonl" "$b" 1 "$MODEL_DIR" "$OUT/pt-$corpus-$b.jsonl" 2>>"$OUT/pytorch.stderr"; }
            rl() { "$RL" --input "$OUT/$corpus.jsonl" --batch "$b" --runs 1 --warmup 1 --model-dir "$MODEL_DIR" --vectors "$OUT/rl-$corpus-$b.jsonl"; }
            if [ $((r % 2)) -eq 1 ]; then
                pt | sed "s/^/{\"corpus\":\"$corpus\",\"round\":$r,\"r\":/;s/\$/}/" >> "$RESULTS"
                rl | sed "s/^/{\"corpus\":\"$corpus\",\"round\":$r,\"r\":/;s/\$/}/" >> "$RESULTS"
            else
                rl | sed "s/^/{\"corpus\":\"$corpus\",\"round\":$r,\"r\":/;s/\$/}/" >> "$RESULTS"
                pt | sed "s/^/{\"corpus\":\"$corpus\",\"round\":$r,\"r\":/;s/\$/}/" >> "$RESULTS"
            fi
        done
    done
done

"$PY" - "$OUT" "$RESULTS" "$CORPORA" "$BATCHES" <<'EOF'
# Summary: medians over rounds, ratio, and cosine agreement of the two engines' vectors.
import json, statistics, sys
import numpy as np
out, results, corpora, batches = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4].split()
rows = [json.loads(l) for l in open(results) if l.strip()]
def load(p):
    return np.array([json.loads(l) for l in open(p)], dtype=np.float64)
print(f"{'corpus':<11} {'batch':>5} {'tokens':>7} {'pytorch tok/s':>14} {'rootline tok/s':>15} {'ratio':>6} {'cos min':>9} {'cos mean':>9} {'rl RSS MiB':>10}")
for c in corpora:
    for b in batches:
        sel = [r for r in rows if r["corpus"] == c and r["r"]["batch"] == int(b)]
        pt = statistics.median(r["r"]["tokens_per_s"] for r in sel if r["r"]["engine"] == "pytorch")
        rl = statistics.median(r["r"]["tokens_per_s"] for r in sel if r["r"]["engine"] == "rootline")
        rss = max(r["r"]["peak_rss_mib"] or 0 for r in sel if r["r"]["engine"] == "rootline")
        tok = sel[0]["r"]["tokens"]
        a, v = load(f"{out}/pt-{c}-{b}.jsonl"), load(f"{out}/rl-{c}-{b}.jsonl")
        cos = (a * v).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(v, axis=1))
        print(f"{c:<11} {b:>5} {tok:>7} {pt:>14.0f} {rl:>15.0f} {rl/pt:>6.2f} {cos.min():>9.6f} {cos.mean():>9.6f} {rss:>10.0f}")
EOF
