#!/usr/bin/env bash
# Side-by-side CPU benchmark of the ScoreNet train step and sampler step: PyTorch (Debian's
# torch + OpenBLAS-openmp, bench/scorenet_torch.py) and this project (`ddpm bench`, GoMLX's
# pure-Go backend), alternated ROUNDS times on the same machine, same sizes (default ScoreNet,
# T=1000, train batches 100 and 32, sampler batch 100), same thread budget (2).
# Results go to $OUT (default bench/out/): torch_<i>.json, go_<i>.json and a summary.
#
# Usage: bench/side_by_side.sh [ROUNDS]      (needs: apt-get install python3-torch libopenblas0-openmp)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
OUT=${OUT:-bench/out}
mkdir -p "$OUT"
GOEXPERIMENT=simd go build -o "$OUT/ddpm" ./cmd/ddpm
for i in $(seq 1 "$ROUNDS"); do
  /usr/bin/python3 bench/scorenet_torch.py --threads 2 --steps 50 --warmup 5 --json "$OUT/torch_$i.json" | tail -15
  "$OUT/ddpm" bench --backend go --batches 100,32 --sample-batch 100 --steps 20 --warmup 3 --json "$OUT/go_$i.json"
done
/usr/bin/python3 - "$OUT" "$ROUNDS" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
torch = [json.load(open(f"{out}/torch_{i}.json")) for i in range(1, rounds + 1)]
go = [json.load(open(f"{out}/go_{i}.json")) for i in range(1, rounds + 1)]
def torch_ms(j, kind, batch):
    if kind == "sampler":
        return j["results"]["forward"]["median_ms"]
    for r in j["results"]["train"]:
        if r["batch"] == batch:
            return r["median_ms"]
def go_ms(j, what, batch):
    for r in j["rows"]:
        if r["what"].startswith(what) and r["batch"] == batch:
            return r["median_ms"]
print(f"\nmedian over {rounds} rounds of per-round medians (ms):")
print("| step | batch | PyTorch eager (2 threads) | GoMLX pure Go | Go / PyTorch |")
print("|---|---|---|---|---|")
for kind, what, batch in [("train", "train step", 100), ("train", "train step", 32), ("sampler", "sampler step", 100)]:
    t = statistics.median(torch_ms(j, kind, batch) for j in torch)
    g = statistics.median(go_ms(j, what, batch) for j in go)
    print(f"| {kind} | {batch} | {t:.1f} | {g:.1f} | {g / t:.2f}× |")
PY
