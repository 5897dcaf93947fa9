#!/usr/bin/python3
"""Writes ddpm/scorenet/testdata/torch_reference.npz: a small ScoreNet's weights, inputs,
output, loss, gradients and intermediate activations, computed by PyTorch, for the Go tests.

    /usr/bin/python3 bench/make_torch_fixture.py            # write + verify
    /usr/bin/python3 bench/make_torch_fixture.py --verify-only

Verification (always run after writing): reload the .npz, load its state_dict into a freshly
built model, recompute everything with torch and compare; and recompute the forward pass and
loss independently in float64 NumPy (explicit conv / transposed-conv / GroupNorm formulas,
documenting the layout conventions) and compare.
"""

import argparse
import math
import os
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True  # keep bench/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scorenet_model as sm  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "ddpm", "scorenet", "testdata", "torch_reference.npz")
CHANNELS = [32, 64, 64, 64]
EMBED_DIM = 64
SEED = 0
T_VALUES = [0.01, 0.3, 0.77, 1.0]
ACT_NAMES = ["embed", "h1", "h2", "h3", "h4", "d4", "d3", "d2"]


def nchw_to_nhwc(a):
    return np.ascontiguousarray(np.transpose(a, (0, 2, 3, 1)))


def build(perturb_gn=True):
    torch.manual_seed(SEED)
    model = sm.ScoreNet(CHANNELS, EMBED_DIM)
    if perturb_gn:
        # GroupNorm initializes gamma=1, beta=0, which would let a Go port that ignores or
        # mis-maps them pass. Perturb them with a separate generator (the global RNG stream,
        # hence x/t/target, is unaffected).
        g = torch.Generator().manual_seed(SEED + 1)
        with torch.no_grad():
            for name, mod in model.named_modules():
                if isinstance(mod, torch.nn.GroupNorm):
                    mod.weight.copy_(1.0 + 0.2 * torch.randn(mod.weight.shape, generator=g))
                    mod.bias.copy_(0.2 * torch.randn(mod.bias.shape, generator=g))
    x = torch.randn(4, 1, 28, 28)
    t = torch.tensor(T_VALUES, dtype=torch.float32)
    target = torch.randn(4, 1, 28, 28)
    return model, x, t, target


def run(model, x, t, target):
    model.zero_grad(set_to_none=True)
    acts = {}
    out = model(x, t, acts)
    loss = torch.mean((out - target) ** 2)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    return out.detach(), loss.detach(), grads, {k: v.detach() for k, v in acts.items()}


def make(path, perturb_gn):
    model, x, t, target = build(perturb_gn)
    out, loss, grads, acts = run(model, x, t, target)
    # Float64 ground truth: the same weights and inputs, whole forward pass in float64.
    m64 = sm.ScoreNet(CHANNELS, EMBED_DIM).double()
    m64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    with torch.no_grad():
        out64 = m64(x.double(), t.double())
        loss64 = torch.mean((out64 - target.double()) ** 2)

    arrays = {}
    for name, v in model.state_dict().items():
        arrays[name] = v.numpy().astype(np.float32)
    arrays["x"] = x.numpy()
    arrays["t"] = t.numpy()
    arrays["target"] = target.numpy()
    arrays["out"] = out.numpy()
    arrays["loss"] = np.float32(loss.item())
    arrays["loss64"] = np.float64(loss64.item())
    arrays["out64"] = out64.numpy().astype(np.float64)
    for name, g in grads.items():
        arrays["grad/" + name] = g.numpy().astype(np.float32)
    for name in ACT_NAMES:
        arrays["act/" + name] = acts[name].numpy().astype(np.float32)
    arrays["x_nhwc"] = nchw_to_nhwc(arrays["x"])
    arrays["out_nhwc"] = nchw_to_nhwc(arrays["out"])
    arrays["meta/channels"] = np.array(CHANNELS, dtype=np.float32)
    arrays["meta/embed_dim"] = np.float32(EMBED_DIM)
    arrays["meta/fourier_scale"] = np.float32(sm.FOURIER_SCALE)
    arrays["meta/groupnorm_eps"] = np.float32(1e-5)
    arrays["meta/seed"] = np.float32(SEED)
    arrays["meta/gn_perturbed"] = np.float32(1 if perturb_gn else 0)
    # Only little-endian float32 ('<f4') / float64 ('<f8') C-order arrays (meta/* included), so a
    # minimal Go .npy reader suffices; scalars are 0-d arrays (shape ()).
    arrays = {k: np.array(v, order="C") for k, v in arrays.items()}
    for k, v in arrays.items():
        assert v.dtype in (np.float32, np.float64), (k, v.dtype)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.savez(path, **arrays)
    print("wrote %s: %d bytes (%.2f MiB), %d arrays" % (path, os.path.getsize(path),
                                                      os.path.getsize(path) / 2**20, len(arrays)))
    print("loss = %.9g (float32 forward), loss64 = %.12g (float64 forward)" % (arrays["loss"], arrays["loss64"]))


# ---------------------------------------------------------------------------------------------
# Independent float64 NumPy forward pass, written from the layout conventions only.


def np_conv2d(x, w, stride):
    """x [B,Cin,H,W], w [Cout,Cin,kh,kw], no padding."""
    B, Cin, H, W = x.shape
    Cout, Cin2, kh, kw = w.shape
    assert Cin == Cin2
    Ho, Wo = (H - kh) // stride + 1, (W - kw) // stride + 1
    out = np.zeros((B, Cout, Ho, Wo))
    for di in range(kh):
        for dj in range(kw):
            patch = x[:, :, di:di + stride * (Ho - 1) + 1:stride, dj:dj + stride * (Wo - 1) + 1:stride]
            out += np.einsum("bchw,oc->bohw", patch, w[:, :, di, dj])
    return out


def np_conv_transpose2d(x, w, stride, output_padding=0, bias=None):
    """x [B,Cin,H,W], w [Cin,Cout,kh,kw]; out[b,o,i*s+di,j*s+dj] += x[b,c,i,j] * w[c,o,di,dj]."""
    B, Cin, H, W = x.shape
    Cin2, Cout, kh, kw = w.shape
    assert Cin == Cin2
    Ho, Wo = (H - 1) * stride + kh + output_padding, (W - 1) * stride + kw + output_padding
    out = np.zeros((B, Cout, Ho, Wo))
    for di in range(kh):
        for dj in range(kw):
            out[:, :, di:di + stride * (H - 1) + 1:stride, dj:dj + stride * (W - 1) + 1:stride] += \
                np.einsum("bchw,co->bohw", x, w[:, :, di, dj])
    if bias is not None:
        out += bias[None, :, None, None]
    return out


def np_group_norm(x, groups, gamma, beta, eps=1e-5):
    B, C, H, W = x.shape
    g = x.reshape(B, groups, C // groups, H, W)
    mean = g.mean(axis=(2, 3, 4), keepdims=True)
    var = g.var(axis=(2, 3, 4), keepdims=True)  # biased variance
    g = (g - mean) / np.sqrt(var + eps)
    return g.reshape(B, C, H, W) * gamma[None, :, None, None] + beta[None, :, None, None]


def np_swish(x):
    return x / (1.0 + np.exp(-x))


def np_forward(p, x, t):
    P = lambda k: p[k].astype(np.float64)
    lin = lambda v, name: v @ P(name + ".weight").T + P(name + ".bias")
    dense = lambda e, name: lin(e, name + ".dense")[:, :, None, None]
    xp = t[:, None].astype(np.float64) * P("embed.0.W")[None, :] * 2 * math.pi
    e = np_swish(lin(np.concatenate([np.sin(xp), np.cos(xp)], axis=-1), "embed.1"))
    a = {"embed": e}
    h1 = np_swish(np_group_norm(np_conv2d(x, P("conv1.weight"), 1) + dense(e, "dense1"), 4,
                                P("gnorm1.weight"), P("gnorm1.bias")))
    h2 = np_swish(np_group_norm(np_conv2d(h1, P("conv2.weight"), 2) + dense(e, "dense2"), 32,
                                P("gnorm2.weight"), P("gnorm2.bias")))
    h3 = np_swish(np_group_norm(np_conv2d(h2, P("conv3.weight"), 2) + dense(e, "dense3"), 32,
                                P("gnorm3.weight"), P("gnorm3.bias")))
    h4 = np_swish(np_group_norm(np_conv2d(h3, P("conv4.weight"), 2) + dense(e, "dense4"), 32,
                                P("gnorm4.weight"), P("gnorm4.bias")))
    d4 = np_swish(np_group_norm(np_conv_transpose2d(h4, P("tconv4.weight"), 2) + dense(e, "dense5"), 32,
                                P("tgnorm4.weight"), P("tgnorm4.bias")))
    d3 = np_swish(np_group_norm(np_conv_transpose2d(np.concatenate([d4, h3], 1), P("tconv3.weight"), 2, 1)
                                + dense(e, "dense6"), 32, P("tgnorm3.weight"), P("tgnorm3.bias")))
    d2 = np_swish(np_group_norm(np_conv_transpose2d(np.concatenate([d3, h2], 1), P("tconv2.weight"), 2, 1)
                                + dense(e, "dense7"), 32, P("tgnorm2.weight"), P("tgnorm2.bias")))
    out = np_conv_transpose2d(np.concatenate([d2, h1], 1), P("tconv1.weight"), 1, 0, P("tconv1.bias"))
    a.update(h1=h1, h2=h2, h3=h3, h4=h4, d4=d4, d3=d3, d2=d2)
    return out, a


def maxrel(a, b):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / (np.max(np.abs(b)) + 1e-30))


def verify(path):
    z = np.load(path)
    keys = list(z.keys())
    print("verifying %s (%d arrays)" % (path, len(keys)))
    # 1. Torch recompute from the saved state_dict, in a model built with a different seed.
    torch.manual_seed(12345)
    model = sm.ScoreNet([int(c) for c in z["meta/channels"]], int(z["meta/embed_dim"]))
    sd_keys = list(model.state_dict().keys())
    missing = [k for k in sd_keys if k not in z]
    assert not missing, missing
    model.load_state_dict({k: torch.from_numpy(z[k]) for k in sd_keys})
    x, t, target = (torch.from_numpy(z[k]) for k in ("x", "t", "target"))
    out, loss, grads, acts = run(model, x, t, target)
    worst = 0.0
    checks = [("out", out.numpy(), z["out"]), ("loss", loss.numpy(), z["loss"])]
    checks += [("grad/" + n, g.numpy(), z["grad/" + n]) for n, g in grads.items()]
    checks += [("act/" + n, acts[n].numpy(), z["act/" + n]) for n in ACT_NAMES]
    for name, got, want in checks:
        assert got.shape == want.shape, (name, got.shape, want.shape)
        r = maxrel(got, want)
        worst = max(worst, r)
        assert r < 1e-5, (name, r)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert sorted("grad/" + n for n in trainable) == sorted(k for k in keys if k.startswith("grad/"))
    assert "grad/embed.0.W" not in keys
    np.testing.assert_array_equal(z["x_nhwc"], np.transpose(z["x"], (0, 2, 3, 1)))
    np.testing.assert_array_equal(z["out_nhwc"], np.transpose(z["out"], (0, 2, 3, 1)))
    print("  torch recompute: %d checks, worst max-rel diff %.3g" % (len(checks), worst))
    # 2. Independent float64 NumPy forward pass.
    out_np, acts_np = np_forward(z, z["x"].astype(np.float64), z["t"])
    loss_np = np.mean((out_np - z["target"].astype(np.float64)) ** 2)
    r_out = maxrel(z["out"], out_np)
    r_out64 = maxrel(z["out64"], out_np)
    r_acts = max(maxrel(z["act/" + n], acts_np[n]) for n in ACT_NAMES)
    print("  numpy float64 forward: out vs float32 torch max-rel %.3g, vs float64 torch %.3g; acts %.3g"
          % (r_out, r_out64, r_acts))
    print("  loss: float32 torch %.9g, float64 torch %.12g, float64 numpy %.12g"
          % (z["loss"], z["loss64"], loss_np))
    assert r_out < 1e-4 and r_acts < 1e-4 and r_out64 < 1e-10, (r_out, r_acts, r_out64)
    assert abs(loss_np - z["loss64"]) < 1e-10 * abs(loss_np)
    assert abs(float(z["loss"]) - loss_np) < 1e-5 * abs(loss_np)
    # 3. float32 gradients vs float64 autograd gradients, relative to each tensor's max magnitude.
    m64 = sm.ScoreNet([int(c) for c in z["meta/channels"]], int(z["meta/embed_dim"])).double()
    m64.load_state_dict({k: torch.from_numpy(z[k]).double() for k in sd_keys})
    x64, t64, tg64 = x.double(), t.double(), target.double()
    torch.mean((m64(x64, t64) - tg64) ** 2).backward()
    grads64 = {n: p.grad.detach().clone().numpy() for n, p in m64.named_parameters() if p.requires_grad}
    worst_g, dead = 0.0, []
    for name, g64 in grads64.items():
        if np.max(np.abs(g64)) < 1e-9:
            # Mathematically zero gradient: dense7 adds a per-channel constant right before
            # tgnorm2 = GroupNorm(32 groups, 32 channels), i.e. one channel per group, whose mean
            # subtraction removes it. The float32 gradient there is pure rounding noise.
            dead.append("%s (float32 max |g| %.2g)" % (name, np.max(np.abs(z["grad/" + name]))))
            assert np.max(np.abs(z["grad/" + name])) < 1e-5
            continue
        worst_g = max(worst_g, maxrel(z["grad/" + name], g64))
    print("  float32 grads vs float64 grads: worst max-rel diff %.3g; zero-gradient params: %s"
          % (worst_g, ", ".join(dead) or "none"))
    assert worst_g < 1e-4, worst_g
    # 4. The float64 autograd gradients vs central finite differences in float64 on a few entries
    #    (error relative to the entry, floored at 1e-3 of the tensor's max magnitude).
    lossf = lambda: torch.mean((m64(x64, t64) - tg64) ** 2).item()
    params = dict(m64.named_parameters())
    rng = np.random.default_rng(0)
    worst_fd, n_fd = 0.0, 0
    with torch.no_grad():
        for name in ["conv1.weight", "tconv3.weight", "tconv1.bias", "gnorm2.weight", "tgnorm4.bias",
                     "dense6.dense.weight", "embed.1.weight", "conv4.weight"]:
            flat = params[name].data.view(-1)
            g64 = grads64[name].reshape(-1)
            for i in rng.choice(flat.numel(), size=min(3, flat.numel()), replace=False):
                old = flat[i].item()
                h = 1e-6
                flat[i] = old + h
                lp = lossf()
                flat[i] = old - h
                lm = lossf()
                flat[i] = old
                fd = (lp - lm) / (2 * h)
                n_fd += 1
                err = abs(fd - g64[i]) / max(abs(fd), 1e-3 * np.max(np.abs(g64)))
                worst_fd = max(worst_fd, err)
    print("  finite differences vs float64 autograd on %d entries: worst rel err %.3g" % (n_fd, worst_fd))
    assert worst_fd < 1e-4, worst_fd
    print("OK")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--verify-only", action="store_true")
    ap.add_argument("--no-perturb-gn", action="store_true",
                    help="keep PyTorch's GroupNorm init (gamma=1, beta=0) instead of perturbing it")
    args = ap.parse_args()
    torch.set_num_threads(1)  # deterministic-ish and not competing for the 2 cores
    print("torch %s, numpy %s" % (torch.__version__, np.__version__))
    if not args.verify_only:
        make(args.out, not args.no_perturb_gn)
    verify(args.out)


if __name__ == "__main__":
    main()
