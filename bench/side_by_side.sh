#!/usr/bin/env bash
# Side-by-side CPU benchmark of the ScoreNet train step and sampler step: PyTorch (Debian's
# torch + OpenBLAS-openmp, bench/scorenet_torch.py) and this project (`ddpm bench`, GoMLX's
# pure-Go backend), alternated ROUNDS times on the same machine, same sizes (default ScoreNet,
# T=1000, train batches 100 and 32, sampler batch 100), same thread budget (2).
# Results go to $OUT (default bench/out/): torch_<i>.json, go_<i>.json and a summary: for each
# side the min and the median over the rounds of the per-round medians, and Go's CPU time per step.
#
# Usage: bench/side_by_side.sh [ROUNDS]      (needs: apt-get install python3-torch libopenblas0-openmp)
#   PATCHED=1  also runs `ddpm` built with the GoMLX backend patches of bench/upstream/ (built by
#              bench/upstream/build.sh) in each round: go-patched_<i>.json, a third column
#   UNET=1     also times the seed-000 U-Net at D=16 (train batch 64, sampler batch 64; Go only)
#   TORCH_PYTHON=PATH  the Python that runs PyTorch (default /usr/bin/python3, Debian's torch 1.13);
#              e.g. a venv with PyPI's torch 2.x: bench/install_torch2.sh prints its path
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3 # go.mod needs Go 1.27 (GoMLX v0.28.16): fetched once from the module proxy
ROUNDS=${1:-3}
OUT=${OUT:-bench/out}
mkdir -p "$OUT"
GOEXPERIMENT=simd go build -o "$OUT/ddpm" ./cmd/ddpm
sides=(go)
if [ "${PATCHED:-}" = 1 ]; then
  bench/upstream/build.sh "$OUT/ddpm-patched" > /dev/null
  sides+=(go-patched)
fi
bin() { if [ "$1" = go ]; then echo "$OUT/ddpm"; else echo "$OUT/ddpm-patched"; fi; }
for i in $(seq 1 "$ROUNDS"); do
  # Neither the tests' nor CI's: OpenBLAS tuning variables are for the PyTorch run alone.
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${TORCH_PYTHON:-/usr/bin/python3}" bench/scorenet_torch.py --threads 2 --steps 50 --warmup 5 --json "$OUT/torch_$i.json" | tail -15
  for s in "${sides[@]}"; do
    "$(bin "$s")" bench --backend go --batches 100,32 --sample-batch 100 --steps 20 --warmup 3 --json "$OUT/${s}_$i.json"
    if [ "${UNET:-}" = 1 ]; then
      "$(bin "$s")" bench --backend go --hidden 16 --batches 64 --sample-batch 64 --steps 10 --warmup 2 --json "$OUT/${s}-unet_$i.json"
    fi
  done
done
/usr/bin/python3 - "$OUT" "$ROUNDS" "${sides[@]}" <<'PY'
import json, os, statistics, sys
out, rounds, sides = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
load = lambda name: [json.load(open(f"{out}/{name}_{i}.json")) for i in range(1, rounds + 1)]
torch = load("torch")
def torch_ms(j, kind, batch):
    if kind == "sampler":
        return j["results"]["forward"]["median_ms"]
    return next(r["median_ms"] for r in j["results"]["train"] if r["batch"] == batch)
def go_row(j, what, batch):
    return next(r for r in j["rows"] if r["what"].startswith(what) and r["batch"] == batch)
def stats(xs):
    return f"{min(xs):.1f} / {statistics.median(xs):.1f}"
print(f"\n{rounds} rounds; each cell: min / median over the rounds of the per-round median (ms);"
      " Go CPU: median CPU-ms per step (all threads)")
head = "| step | batch | PyTorch eager (2 threads) |"
for s in sides:
    head += f" GoMLX {s} | {s} CPU | {s} / PyTorch (median) |"
print(head)
print("|---|---|---|" + "---|---|---|" * len(sides))
for kind, what, batch in [("train", "train step", 100), ("train", "train step", 32), ("sampler", "sampler step", 100)]:
    t = [torch_ms(j, kind, batch) for j in torch]
    line = f"| {kind} | {batch} | {stats(t)} |"
    for s in sides:
        rows = [go_row(j, what, batch) for j in load(s)]
        g = [r["median_ms"] for r in rows]
        cpu = statistics.median(r.get("cpu_ms", 0) for r in rows)
        line += f" {stats(g)} | {cpu:.0f} | {statistics.median(g) / statistics.median(t):.2f}× |"
    print(line)
if all(os.path.exists(f"{out}/{s}-unet_1.json") for s in sides):
    print("\nU-Net D=16 (Go only): min / median (ms), median CPU-ms per step")
    for what, batch in [("train step", 64), ("sampler step", 64)]:
        cells = []
        for s in sides:
            rows = [go_row(j, what, batch) for j in load(f"{s}-unet")]
            cells.append(f"{s}: {stats([r['median_ms'] for r in rows])}, CPU {statistics.median(r.get('cpu_ms', 0) for r in rows):.0f}")
        print(f"- {what} batch {batch}: " + "; ".join(cells))
PY
