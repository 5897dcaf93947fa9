"""PyTorch reference of the project's ScoreNet (epsilon-prediction DDPM on MNIST).

This is the classic score-based-model tutorial U-Net ("ScoreNet"), used here to
predict the noise epsilon (the output is NOT divided by a marginal std).
Shared by bench/scorenet_torch.py (CPU/GPU benchmark) and
bench/make_torch_fixture.py (numerical fixture for the Go tests).

Layout conventions (PyTorch): activations NCHW; Conv2d weight [Cout,Cin,kh,kw];
ConvTranspose2d weight [Cin,Cout,kh,kw]; Linear weight [out,in]; GroupNorm eps 1e-5.

Spatial sizes with the MNIST 28x28 input (no padding anywhere):
  encoder 28 -> 26 -> 12 -> 5 -> 2, decoder 2 -> 5 -> 12 -> 26 -> 28.
"""

import math

import torch
import torch.nn as nn

DEFAULT_CHANNELS = (32, 64, 128, 256)
DEFAULT_EMBED_DIM = 256
FOURIER_SCALE = 30.0
# Trainable parameters of the default configuration (plus 128 fixed Fourier weights).
DEFAULT_TRAINABLE_PARAMS = 1_115_297
DEFAULT_FIXED_PARAMS = 128


def swish(x):
    return x * torch.sigmoid(x)


class GaussianFourierProjection(nn.Module):
    """Fixed random Fourier features of the (normalized) time t in (0,1]."""

    def __init__(self, embed_dim, scale=FOURIER_SCALE):
        super().__init__()
        self.W = nn.Parameter(torch.randn(embed_dim // 2) * scale, requires_grad=False)

    def forward(self, t):
        x_proj = t[:, None] * self.W[None, :] * 2 * math.pi
        return torch.cat([torch.sin(x_proj), torch.cos(x_proj)], dim=-1)


class Dense(nn.Module):
    """Linear layer whose output is reshaped to [B, C, 1, 1] (broadcast over H, W)."""

    def __init__(self, input_dim, output_dim):
        super().__init__()
        self.dense = nn.Linear(input_dim, output_dim)

    def forward(self, x):
        return self.dense(x)[..., None, None]


class ScoreNet(nn.Module):
    """Time-conditioned U-Net predicting epsilon from (x_t, t/T)."""

    def __init__(self, channels=DEFAULT_CHANNELS, embed_dim=DEFAULT_EMBED_DIM):
        super().__init__()
        c = list(channels)
        assert len(c) == 4, "channels must have 4 entries"
        self.embed = nn.Sequential(
            GaussianFourierProjection(embed_dim=embed_dim),
            nn.Linear(embed_dim, embed_dim),
        )
        # Encoder.
        self.conv1 = nn.Conv2d(1, c[0], 3, stride=1, bias=False)
        self.dense1 = Dense(embed_dim, c[0])
        self.gnorm1 = nn.GroupNorm(4, num_channels=c[0])
        self.conv2 = nn.Conv2d(c[0], c[1], 3, stride=2, bias=False)
        self.dense2 = Dense(embed_dim, c[1])
        self.gnorm2 = nn.GroupNorm(32, num_channels=c[1])
        self.conv3 = nn.Conv2d(c[1], c[2], 3, stride=2, bias=False)
        self.dense3 = Dense(embed_dim, c[2])
        self.gnorm3 = nn.GroupNorm(32, num_channels=c[2])
        self.conv4 = nn.Conv2d(c[2], c[3], 3, stride=2, bias=False)
        self.dense4 = Dense(embed_dim, c[3])
        self.gnorm4 = nn.GroupNorm(32, num_channels=c[3])
        # Decoder.
        self.tconv4 = nn.ConvTranspose2d(c[3], c[2], 3, stride=2, bias=False)
        self.dense5 = Dense(embed_dim, c[2])
        self.tgnorm4 = nn.GroupNorm(32, num_channels=c[2])
        self.tconv3 = nn.ConvTranspose2d(c[2] + c[2], c[1], 3, stride=2, bias=False, output_padding=1)
        self.dense6 = Dense(embed_dim, c[1])
        self.tgnorm3 = nn.GroupNorm(32, num_channels=c[1])
        self.tconv2 = nn.ConvTranspose2d(c[1] + c[1], c[0], 3, stride=2, bias=False, output_padding=1)
        self.dense7 = Dense(embed_dim, c[0])
        self.tgnorm2 = nn.GroupNorm(32, num_channels=c[0])
        self.tconv1 = nn.ConvTranspose2d(c[0] + c[0], 1, 3, stride=1)

    def forward(self, x, t, acts=None):
        """x: [B,1,28,28] float; t: [B] normalized time t_int/T in (0,1].

        If acts is a dict, intermediate activations are stored in it (debugging/fixtures).
        """
        embed = swish(self.embed(t))
        # Encoder.
        h1 = self.conv1(x) + self.dense1(embed)
        h1 = swish(self.gnorm1(h1))
        h2 = self.conv2(h1) + self.dense2(embed)
        h2 = swish(self.gnorm2(h2))
        h3 = self.conv3(h2) + self.dense3(embed)
        h3 = swish(self.gnorm3(h3))
        h4 = self.conv4(h3) + self.dense4(embed)
        h4 = swish(self.gnorm4(h4))
        # Decoder.
        h = self.tconv4(h4) + self.dense5(embed)
        h = swish(self.tgnorm4(h))
        d4 = h
        h = self.tconv3(torch.cat([h, h3], dim=1)) + self.dense6(embed)
        h = swish(self.tgnorm3(h))
        d3 = h
        h = self.tconv2(torch.cat([h, h2], dim=1)) + self.dense7(embed)
        h = swish(self.tgnorm2(h))
        d2 = h
        h = self.tconv1(torch.cat([h, h1], dim=1))
        if acts is not None:
            acts.update(embed=embed, h1=h1, h2=h2, h3=h3, h4=h4, d4=d4, d3=d3, d2=d2)
        return h


def count_params(model):
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    fixed = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return trainable, fixed


class LinearSchedule:
    """DDPM linear beta schedule, beta_1..beta_T (index 0 <-> t=1)."""

    def __init__(self, beta_start=1e-4, beta_end=0.02, T=1000, device="cpu"):
        self.T = T
        self.betas = torch.linspace(beta_start, beta_end, T, dtype=torch.float64)
        self.alphas = 1.0 - self.betas
        self.alpha_bars = torch.cumprod(self.alphas, dim=0)
        f32 = lambda v: v.to(dtype=torch.float32, device=device)
        self.sqrt_ab = f32(self.alpha_bars.sqrt())
        self.sqrt_1mab = f32((1.0 - self.alpha_bars).sqrt())
        self.betas32 = f32(self.betas)
        self.sqrt_alphas32 = f32(self.alphas.sqrt())


def train_step(model, opt, sched, x0, generator=None):
    """One DDPM epsilon-prediction training step; returns the loss tensor (not synced)."""
    B = x0.shape[0]
    dev = x0.device
    t_int = torch.randint(1, sched.T + 1, (B,), device=dev, generator=generator)
    eps = torch.randn(x0.shape, device=dev, generator=generator)
    idx = t_int - 1
    a = sched.sqrt_ab[idx].view(B, 1, 1, 1)
    s = sched.sqrt_1mab[idx].view(B, 1, 1, 1)
    x_t = a * x0 + s * eps
    t = t_int.to(torch.float32) / sched.T
    pred = model(x_t, t)
    loss = torch.mean((pred - eps) ** 2)
    loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)
    return loss


@torch.no_grad()
def sampler_step(model, sched, x_t, t_int, generator=None):
    """One ancestral DDPM sampling step x_t -> x_{t-1} (sigma_t^2 = beta_t), same t for the batch."""
    B = x_t.shape[0]
    i = t_int - 1
    t = torch.full((B,), t_int / sched.T, device=x_t.device, dtype=torch.float32)
    eps_hat = model(x_t, t)
    beta = sched.betas32[i]
    mean = (x_t - beta / sched.sqrt_1mab[i] * eps_hat) / sched.sqrt_alphas32[i]
    if t_int > 1:
        z = torch.randn(x_t.shape, device=x_t.device, generator=generator)
        return mean + beta.sqrt() * z
    return mean
