#!/usr/bin/python3
"""PyTorch side-by-side benchmark of the project's ScoreNet (DDPM epsilon-prediction).

Measures, with warm-up steps excluded and medians over many steps:
  * train step (forward + MSE loss + backward + Adam step + zero_grad) at each --batch,
  * forward-only sampler step (model call + DDPM ancestral update) at --forward-batch,
  * images/s for both.
Inputs are random (seeded); no MNIST needed.

Run with Debian's torch:  /usr/bin/python3 bench/scorenet_torch.py  (see bench/README.md).
"""

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, nargs="+", default=[100, 32], help="train batch sizes (default: 100 32)")
    p.add_argument("--steps", type=int, default=50, help="timed train steps per batch size (default 50)")
    p.add_argument("--warmup", type=int, default=5, help="untimed warm-up steps (default 5)")
    p.add_argument("--forward-batch", type=int, default=100, help="batch of the forward-only sampler step (default 100)")
    p.add_argument("--forward-steps", type=int, default=None, help="timed sampler steps (default: 2*--steps)")
    p.add_argument("--threads", type=int, default=2, help="intra-op threads = OMP/OpenBLAS threads (default 2)")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--compile", action="store_true", help="wrap the model in torch.compile (torch >= 2.0)")
    p.add_argument("--jit", action="store_true", help="wrap the model in torch.jit.trace (works on torch 1.13)")
    p.add_argument("--no-mkldnn", action="store_true",
                   help="disable oneDNN (mkldnn) so convolutions use im2col + BLAS (OpenBLAS)")
    p.add_argument("--channels", type=int, nargs=4, default=[32, 64, 128, 256])
    p.add_argument("--embed-dim", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--beta-start", type=float, default=1e-4)
    p.add_argument("--beta-end", type=float, default=0.02)
    p.add_argument("--T", type=int, default=1000, help="number of diffusion steps (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--profile", action="store_true", help="print the top ops of one train step (torch.profiler)")
    p.add_argument("--json", default=None, help="write results to this JSON file")
    return p.parse_args(argv)


ARGS = parse_args()
# Must be set before torch (and its OpenMP / OpenBLAS) is loaded.
os.environ.setdefault("OMP_NUM_THREADS", str(ARGS.threads))
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.dont_write_bytecode = True  # keep bench/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scorenet_model as sm  # noqa: E402


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
        name = next((l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("model name")), "?")
        flags = next((l.split(":", 1)[1].split() for l in info.splitlines() if l.startswith("flags")), [])
        simd = [x for x in ("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16") if x in flags]
        return name, simd
    except OSError:
        return platform.processor() or "?", []


def loaded_libs():
    """Shared libraries really mapped into this process (BLAS / LAPACK / OpenMP / oneDNN)."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                base = os.path.basename(path)
                if any(k in base for k in ("blas", "lapack", "gomp", "iomp", "dnnl", "mkl")):
                    libs.add(path)
    except OSError:
        pass
    return sorted(libs)


def blas_info():
    cfg = torch.__config__.show()
    build = " ".join(re.findall(r"\b(?:BLAS_INFO|LAPACK_INFO)=[^,\s]*", cfg))
    cap = next((l.split(":", 1)[1].strip() for l in cfg.splitlines() if "CPU capability usage" in l), "?")
    # Make sure a GEMM ran so that the BLAS library is mapped, then look at what is mapped.
    a = torch.randn(64, 64)
    (a @ a).sum().item()
    libs = loaded_libs()
    real = "?"
    for path in libs:
        rp = os.path.realpath(path)
        if "openblas" in rp:
            real = "OpenBLAS (%s)" % ("openmp" if "openmp" in rp else "pthread" if "pthread" in rp else "serial" if "serial" in rp else rp)
            break
        if "mkl" in rp:
            real = "MKL"
        elif "blis" in rp:
            real = "BLIS"
        elif "atlas" in rp:
            real = "ATLAS"
        elif "libblas.so" in rp and real == "?":
            real = "reference BLAS (%s)" % rp
    alt = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    return {"build": build, "cpu_capability": cap, "runtime": real,
            "libblas.so.3 ->": alt, "mapped": libs}


class CPUWatch:
    """Measures how much CPU *other* processes used while a phase ran (system-wide /proc/stat
    busy time minus this process's own CPU time), as a fraction of all CPUs' wall time.
    A quiet machine reads ~0.0; 0.5 on 2 cores means another process kept one core busy."""

    HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    @staticmethod
    def _busy_s():
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:]]
            # user nice system idle iowait irq softirq steal ...
            return (sum(v[:8]) - v[3] - v[4]) / CPUWatch.HZ, v[7] / CPUWatch.HZ
        except (OSError, IndexError, ValueError):
            return float("nan"), float("nan")

    def __enter__(self):
        self.t0 = time.perf_counter()
        self.busy0, self.steal0 = self._busy_s()
        tm = os.times()
        self.own0 = tm.user + tm.system
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.t0
        busy, steal = self._busy_s()
        tm = os.times()
        own = tm.user + tm.system - self.own0
        ncpu = os.cpu_count() or 1
        self.other_cpu_frac = max(0.0, (busy - self.busy0 - own) / (wall * ncpu))
        self.steal_frac = (steal - self.steal0) / (wall * ncpu)
        return False


def calibrate(threads, seconds=0.4, n=512):
    """Contention probe independent of /proc/stat: sgemm n^3 GFLOP/s with 1 thread and with
    `threads` threads. On a quiet machine the speedup is close to `threads`; a neighbour that
    takes a core (even one invisible to this kernel's /proc/stat, e.g. on the hypervisor)
    shows up as a low speedup."""
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    res = {}
    for nt in sorted({1, threads}):
        torch.set_num_threads(nt)
        for _ in range(3):
            torch.mm(a, b)
        best = float("inf")
        t_end = time.perf_counter() + seconds
        while time.perf_counter() < t_end:
            t0 = time.perf_counter()
            torch.mm(a, b)
            best = min(best, time.perf_counter() - t0)
        res[nt] = 2.0 * n ** 3 / best / 1e9
    torch.set_num_threads(threads)
    return {"gflops_1": res[1], "gflops_n": res[threads], "speedup": res[threads] / res[1]}


def stats_ms(times_s):
    ms = [1000.0 * x for x in times_s]
    ms_sorted = sorted(ms)
    return {
        "median_ms": statistics.median(ms),
        "mean_ms": statistics.fmean(ms),
        "min_ms": ms_sorted[0],
        "p90_ms": ms_sorted[min(len(ms) - 1, int(0.9 * len(ms)))],
        "stdev_ms": statistics.stdev(ms) if len(ms) > 1 else 0.0,
        "n": len(ms),
    }


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def build_model(args, device, example_x=None, example_t=None):
    torch.manual_seed(args.seed)
    model = sm.ScoreNet(args.channels, args.embed_dim).to(device)
    trainable, fixed = sm.count_params(model)
    if list(args.channels) == list(sm.DEFAULT_CHANNELS) and args.embed_dim == sm.DEFAULT_EMBED_DIM:
        assert trainable == sm.DEFAULT_TRAINABLE_PARAMS, trainable
        assert fixed == sm.DEFAULT_FIXED_PARAMS, fixed
    fwd = model
    note = "eager"
    if args.compile:
        if not hasattr(torch, "compile"):
            note = "eager (torch.compile unavailable: torch %s has no torch.compile, needs >= 2.0)" % torch.__version__
        else:
            try:
                fwd = torch.compile(model)
                note = "torch.compile"
            except Exception as e:  # pragma: no cover - depends on the torch build
                note = "eager (torch.compile failed: %s: %s)" % (type(e).__name__, str(e).splitlines()[0][:200])
    if args.jit and fwd is model:
        fwd = torch.jit.trace(model, (example_x, example_t), check_trace=False)
        note = "torch.jit.trace" + ("" if note == "eager" else "; " + note.replace("eager ", "", 1))
    return model, fwd, trainable, fixed, note


def bench_train(args, device, batch, sched):
    gen = torch.Generator(device=device).manual_seed(args.seed + batch)
    x0 = (torch.rand((batch, 1, 28, 28), generator=gen, device=device) * 2 - 1)
    t_ex = torch.full((batch,), 0.5, device=device)
    model, fwd, trainable, fixed, note = build_model(args, device, x0, t_ex)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    model.train()
    for _ in range(args.warmup):
        sm.train_step(fwd, opt, sched, x0, gen)
    sync(device)
    times, losses = [], []
    with CPUWatch() as cw:
        for _ in range(args.steps):
            sync(device)
            t0 = time.perf_counter()
            loss = sm.train_step(fwd, opt, sched, x0, gen)
            sync(device)
            times.append(time.perf_counter() - t0)
            losses.append(loss.item())  # after timing: .item() is a sync we do not count
    st = stats_ms(times)
    st.update(other_cpu_frac=cw.other_cpu_frac, steal_frac=cw.steal_frac)
    st.update(batch=batch, images_per_s=batch / (st["median_ms"] / 1000.0),
              first_loss=losses[0], last_loss=losses[-1], mode=note)
    return st, trainable, fixed, note


def bench_forward(args, device, batch, sched):
    gen = torch.Generator(device=device).manual_seed(args.seed + 12345)
    x = torch.randn((batch, 1, 28, 28), generator=gen, device=device)
    model, fwd, _, _, note = build_model(args, device, x, torch.full((batch,), 0.5, device=device))
    model.eval()
    n = args.forward_steps if args.forward_steps is not None else 2 * args.steps
    t_int = sched.T
    for _ in range(args.warmup):
        x = sm.sampler_step(fwd, sched, x, t_int, gen)
        t_int = max(1, t_int - 1)
    sync(device)
    times = []
    with CPUWatch() as cw:
        for _ in range(n):
            sync(device)
            t0 = time.perf_counter()
            x = sm.sampler_step(fwd, sched, x, t_int, gen)
            sync(device)
            times.append(time.perf_counter() - t0)
            t_int = max(1, t_int - 1)
    assert torch.isfinite(x).all()
    st = stats_ms(times)
    st.update(other_cpu_frac=cw.other_cpu_frac, steal_frac=cw.steal_frac)
    st.update(batch=batch, images_per_s=batch / (st["median_ms"] / 1000.0),
              full_sampling_s=st["median_ms"] / 1000.0 * sched.T, mode=note)
    return st


def profile_train(args, device, sched, batch):
    gen = torch.Generator(device=device).manual_seed(args.seed)
    x0 = torch.rand((batch, 1, 28, 28), generator=gen, device=device) * 2 - 1
    model, fwd, _, _, _ = build_model(args, device, x0, torch.full((batch,), 0.5, device=device))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    for _ in range(2):
        sm.train_step(fwd, opt, sched, x0, gen)
    from torch.profiler import ProfilerActivity, profile
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=acts) as prof:
        for _ in range(3):
            sm.train_step(fwd, opt, sched, x0, gen)
        sync(device)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))


def main(args):
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: CUDA is not available in this torch build")
    torch.set_num_threads(args.threads)
    if args.no_mkldnn:
        torch.backends.mkldnn.enabled = False
    sched = sm.LinearSchedule(args.beta_start, args.beta_end, args.T, device=device)

    name, simd = cpu_model()
    blas = blas_info()
    env = {
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "blas": blas,
        "mkldnn_enabled": torch.backends.mkldnn.enabled and torch.backends.mkldnn.is_available(),
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "cpu": name,
        "cpu_simd": simd,
        "cpu_count": os.cpu_count(),
        "device": str(device) + (" (%s)" % torch.cuda.get_device_name(0) if device.type == "cuda" else ""),
        "loadavg_start": os.getloadavg(),
    }
    env["calibration_start"] = calibrate(args.threads)
    cfg = {"channels": args.channels, "embed_dim": args.embed_dim, "lr": args.lr, "T": args.T,
           "beta_start": args.beta_start, "beta_end": args.beta_end, "steps": args.steps,
           "warmup": args.warmup, "seed": args.seed}

    print("ScoreNet PyTorch benchmark")
    print("  torch %s, numpy %s, python %s (%s)" % (env["torch"], env["numpy"], env["python"], sys.executable))
    print("  BLAS: %s  [build: %s; libblas.so.3 -> %s]" % (blas["runtime"], blas["build"], blas["libblas.so.3 ->"]))
    print("  oneDNN(mkldnn) for convolutions: %s; ATen CPU capability: %s" % (env["mkldnn_enabled"], blas["cpu_capability"]))
    print("  threads: %d intra-op (interop %d); CPU: %s x%d %s" % (env["threads"], env["interop_threads"], name,
                                                                   env["cpu_count"] or 0, ",".join(simd)))
    print("  device: %s; channels %s, embed_dim %d; loadavg %s" % (env["device"], args.channels, args.embed_dim,
                                                                  ", ".join("%.2f" % x for x in env["loadavg_start"])))

    if args.profile:
        profile_train(args, device, sched, args.batch[0])

    results = {"train": [], "forward": None}
    trainable = fixed = None
    mode = None
    for b in args.batch:
        st, trainable, fixed, mode = bench_train(args, device, b, sched)
        results["train"].append(st)
    fw = bench_forward(args, device, args.forward_batch, sched)
    results["forward"] = fw
    env["loadavg_end"] = os.getloadavg()
    env["calibration_end"] = calibrate(args.threads)
    print("  params: %d trainable + %d fixed Fourier weights; mode: %s" % (trainable, fixed, mode))
    print()
    hdr = ("what", "batch", "median ms", "min ms", "p90 ms", "images/s", "other CPU")
    print("| %-28s | %6s | %10s | %10s | %10s | %10s | %9s |" % hdr)
    print("|%s|%s|%s|%s|%s|%s|%s|" % ("-" * 30, "-" * 8, "-" * 12, "-" * 12, "-" * 12, "-" * 12, "-" * 11))
    row = "| %-28s | %6d | %10.2f | %10.2f | %10.2f | %10.1f | %8.0f%% |"
    for st in results["train"]:
        print(row % ("train step (fwd+bwd+Adam)", st["batch"], st["median_ms"], st["min_ms"], st["p90_ms"],
                     st["images_per_s"], 100 * st["other_cpu_frac"]))
    print(row % ("sampler step (fwd+update)", fw["batch"], fw["median_ms"], fw["min_ms"], fw["p90_ms"],
                 fw["images_per_s"], 100 * fw["other_cpu_frac"]))
    if max([fw["other_cpu_frac"]] + [st["other_cpu_frac"] for st in results["train"]]) > 0.1:
        print("\n  WARNING: other processes used >10% of the CPUs during a phase: numbers are not clean.")
    cs, ce = env["calibration_start"], env["calibration_end"]
    print("\n  calibration sgemm 512^3: 1 thread %.0f / %.0f GFLOP/s, %d threads %.0f / %.0f GFLOP/s "
          "(speedup %.2f / %.2f) at start / end" % (cs["gflops_1"], ce["gflops_1"], args.threads,
                                                    cs["gflops_n"], ce["gflops_n"], cs["speedup"], ce["speedup"]))
    if args.threads > 1 and min(cs["speedup"], ce["speedup"]) < 0.8 * args.threads:
        print("  WARNING: multi-thread speedup below %.1f: the cores are shared with something else; "
              "numbers are not clean." % (0.8 * args.threads))
    print()
    print("  ('other CPU' = CPU time of other processes visible in /proc/stat during that phase, % of all cores)")
    print("  full %d-step sampling of %d images ~ %.1f s; loadavg at end %s" % (
        args.T, fw["batch"], fw["full_sampling_s"], ", ".join("%.2f" % x for x in env["loadavg_end"])))
    out = {"env": env, "config": cfg, "params": {"trainable": trainable, "fixed": fixed}, "mode": mode,
           "results": results}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
        print("  wrote", args.json)
    return out


if __name__ == "__main__":
    main(ARGS)
