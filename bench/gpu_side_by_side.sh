#!/usr/bin/env bash
# GPU side by side (the GPU issue), in one run on one GPU: the ScoreNet train step at batch 100 and
# 512 and the sampler step at batch 1000 on GoMLX/XLA (CUDA PJRT plugin), PyTorch eager and
# torch.compile; then 1000 samples × 200 DDPM steps drawn for real by `ddpm sample`.
#
# Prepared for a machine with an NVIDIA GPU, JAX's CUDA PJRT plugin and a CUDA build of PyTorch ≥ 2
# (such as the lent H100: it has no Go, so build the binary on an x86-64 Linux machine first:
# `GOEXPERIMENT=simd go build -o bench/out/ddpm ./cmd/ddpm`, and carry bench/out/ddpm there).
# NOT RUN YET: no GPU was available when it was written.
#
# Usage: bench/gpu_side_by_side.sh [DDPM_BINARY]          (default bench/out/ddpm)
#   PYTHON=python3                 the Python with torch (and jax_plugins) installed
#   PLUGIN=/path/xla_cuda_plugin.so default: found in that Python's jax_plugins.xla_cuda13
#   OUT=bench/out-gpu              results: go.json, torch_eager.json, torch_compile.json, summary
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3 # go.mod needs Go 1.27 (GoMLX v0.28.16): fetched once from the module proxy
BIN=${1:-bench/out/ddpm}
PY=${PYTHON:-python3}
OUT=${OUT:-bench/out-gpu}
mkdir -p "$OUT"
if [ -z "${PLUGIN:-}" ]; then
  PLUGIN=$("$PY" -c 'import glob, os, jax_plugins.xla_cuda13 as p; print(sorted(glob.glob(os.path.join(os.path.dirname(p.__file__), "*.so")))[0])')
fi
export GOMLX_BACKEND="xla:$PLUGIN" GOMLX_NO_AUTO_INSTALL=1
if [ -z "${XLA_FLAGS:-}" ] && command -v nvcc >/dev/null; then
  export XLA_FLAGS="--xla_gpu_cuda_data_dir=$(dirname "$(dirname "$(command -v nvcc)")")"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
"$BIN" doctor
"$BIN" bench --batches 100,512 --sample-batch 1000 --steps 50 --warmup 5 --json "$OUT/go.json"
"$PY" bench/scorenet_torch.py --device cuda --batch 100 512 --forward-batch 1000 --steps 50 --json "$OUT/torch_eager.json" | tail -8
"$PY" bench/scorenet_torch.py --device cuda --compile --batch 100 512 --forward-batch 1000 --steps 50 --json "$OUT/torch_compile.json" | tail -8
start=$(date +%s.%N)
"$BIN" sample --model models/scorenet --n 1000 --batch 1000 --sampler ddpm --steps 200 --out "$OUT/samples.png"
end=$(date +%s.%N)
echo "ddpm sample: 1000 images x 200 DDPM steps, wall $("$PY" -c "print(round($end - $start, 2))") s (compilation included)"
"$PY" - "$OUT" <<'PY' | tee "$OUT/summary.md"
import json, sys
out = sys.argv[1]
go = json.load(open(f"{out}/go.json"))
tor = {m: json.load(open(f"{out}/torch_{m}.json")) for m in ("eager", "compile")}
def go_ms(what, batch):
    return next(r["median_ms"] for r in go["rows"] if r["what"].startswith(what) and r["batch"] == batch)
def torch_ms(j, kind, batch):
    if kind == "sampler":
        return j["results"]["forward"]["median_ms"]
    return next(r["median_ms"] for r in j["results"]["train"] if r["batch"] == batch)
print("| step | batch | GoMLX/XLA ms | PyTorch eager ms | torch.compile ms | eager / Go | compile / Go |")
print("|---|---|---|---|---|---|---|")
for kind, what, batch in [("train", "train step", 100), ("train", "train step", 512), ("sampler", "sampler step", 1000)]:
    g, e, c = go_ms(what, batch), torch_ms(tor["eager"], kind, batch), torch_ms(tor["compile"], kind, batch)
    print(f"| {kind} | {batch} | {g:.2f} | {e:.2f} | {c:.2f} | {e / g:.2f}× | {c / g:.2f}× |")
PY
