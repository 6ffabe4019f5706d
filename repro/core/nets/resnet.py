"""ResNet generator and discriminator for KernelNet's CelebA 160 and ImageNet 64 runs (000 §4.1,
"following Arbel et al. (2018)": a 10-layer ResNet generator on CelebA, 10-layer ResNets for both on
ImageNet).

The seed gives only the layer counts. Blocks follow Miyato et al. (2018) / Gulrajani et al. (2017):
generator block = BN, ReLU, nearest ×2 upsample, 3×3 conv, BN, ReLU, 3×3 conv, plus a 1×1-conv
shortcut on the upsampled input; discriminator block = ReLU, 3×3 conv, ReLU, 3×3 conv, 2×2 average
pool, plus a 1×1-conv + pool shortcut (the first block without the leading ReLU). "10 layers" is read
as ten 3×3 convolutions inside residual blocks (five blocks): generator 5 blocks from a
``bottom``×``bottom`` seed (160 = 5·2⁵; 64 = 4·2⁴ plus one resolution-keeping block), discriminator
5 blocks (4 downsampling, the last keeping the size) then ReLU, global sum pooling and a dense layer.
Widths: Miyato et al.'s ImageNet plan with base ``ch`` = 64 (1024 → 64 in the generator).
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

Z_DIM = 128
N_BLOCKS = 5  # "10-layer": five residual blocks of two 3×3 convolutions each


def _bottom(resolution: int) -> tuple[int, int]:
    """(seed size, number of ×2 upsamplings) with at most ``N_BLOCKS`` upsamplings and a seed in 4..6."""
    for bottom in (4, 5, 6, 3):
        n = math.log2(resolution / bottom)
        if n == int(n) and 1 <= n <= N_BLOCKS:
            return bottom, int(n)
    raise ValueError(f"ResNet nets need a resolution of 4, 5 or 6 × a power of two (at most 2^{N_BLOCKS}); "
                     f"got {resolution}.")


class GBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, upsample: bool):
        super().__init__()
        self.upsample = upsample
        self.bn1, self.bn2 = nn.BatchNorm2d(c_in), nn.BatchNorm2d(c_out)
        self.conv1, self.conv2 = nn.Conv2d(c_in, c_out, 3, 1, 1), nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.shortcut = nn.Conv2d(c_in, c_out, 1) if (c_in != c_out or upsample) else nn.Identity()

    def _up(self, x):
        return F.interpolate(x, scale_factor=2, mode="nearest") if self.upsample else x

    def forward(self, x):
        h = self.conv1(self._up(F.relu(self.bn1(x))))
        h = self.conv2(F.relu(self.bn2(h)))
        return h + self.shortcut(self._up(x))


class DBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, downsample: bool, first: bool = False):
        super().__init__()
        self.downsample, self.first = downsample, first
        self.conv1, self.conv2 = nn.Conv2d(c_in, c_out, 3, 1, 1), nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.shortcut = nn.Conv2d(c_in, c_out, 1) if (c_in != c_out or downsample) else nn.Identity()

    def _down(self, x):
        return F.avg_pool2d(x, 2) if self.downsample else x

    def forward(self, x):
        h = x if self.first else F.relu(x)
        h = self.conv2(F.relu(self.conv1(h)))
        return self._down(h) + self._down(self.shortcut(x))


class ResNetGenerator(nn.Module):
    def __init__(self, resolution: int = 64, z_dim: int = Z_DIM, ch: int = 64, channels: int = 3):
        super().__init__()
        bottom, n_up = _bottom(resolution)
        widths = [ch * m for m in (16, 8, 4, 2, 1, 1)][: N_BLOCKS + 1]
        self.z_dim, self.bottom, self.c0 = z_dim, bottom, widths[0]
        self.dense = nn.Linear(z_dim, bottom * bottom * widths[0])
        ups = [i < n_up for i in range(N_BLOCKS)]  # upsample first, keep size in the remaining blocks
        self.blocks = nn.Sequential(*[GBlock(widths[i], widths[i + 1], ups[i]) for i in range(N_BLOCKS)])
        self.out = nn.Sequential(nn.BatchNorm2d(widths[N_BLOCKS]), nn.ReLU(),
                                 nn.Conv2d(widths[N_BLOCKS], channels, 3, 1, 1), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.dense(z).view(z.shape[0], self.c0, self.bottom, self.bottom)
        return self.out(self.blocks(h))


class ResNetDiscriminator(nn.Module):
    def __init__(self, resolution: int = 64, out_dim: int = 1, ch: int = 64, channels: int = 3):
        super().__init__()
        _, n_down = _bottom(resolution)
        widths = [channels] + [ch * m for m in (1, 2, 4, 8, 16)]
        downs = [i < n_down for i in range(N_BLOCKS)]
        self.blocks = nn.Sequential(*[DBlock(widths[i], widths[i + 1], downs[i], first=(i == 0))
                                      for i in range(N_BLOCKS)])
        self.head = nn.Linear(widths[N_BLOCKS], out_dim)
        self.out_dim = out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.blocks(x)).sum(dim=(2, 3))  # global sum pooling (Miyato et al.)
        return self.head(h)
