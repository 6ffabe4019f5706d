"""Generator and discriminator for MNIST-3 (stacked MNIST, 28×28×3) of 004 App. C, sized by K_g and K_d.

004 App. C tables, read as PyTorch layers (choices where the tables are ambiguous, stated here):
Generator: z ~ N(0, I_256) → FC 4·4·64 → TConv 64·K_g (k4, s1, VALID: 4→7) → TConv 32·K_g (k4, s2, SAME:
7→14) → TConv 8·K_g (k4, s1, SAME: 14→14) → 3 channels (k4, s2, SAME: 14→28), tanh.
  * The table calls the last layer a "Convolution" with stride 2, which would give 7×7; only a transposed
    convolution reaches 28×28, so we use one.
  * TF "SAME" with an even kernel pads asymmetrically (1 before, 2 after); a stride-1 transposed
    convolution equals a convolution, so that layer is ZeroPad(1, 2) + Conv2d.
Discriminator: 28×28×3 → 8·K_d (k4, s2, VALID: 28→13) → 16·K_d (k4, s2, SAME: 13→7) → 32·K_d (k4, s1,
SAME: 7→7) → flatten → FC 1 (a logit).
  * The table labels these layers "Transpose Convolution"; a discriminator downsamples and the sizes work
    out only for convolutions, so we use convolutions.
DCGAN conventions (004 §3: "networks set according to DCGAN"): batch norm + ReLU after every hidden
generator layer (FC included); LeakyReLU(0.2) in the discriminator, batch norm on all but its first layer.
Sizes of 004 §5.3: S = (K_g, K_d) = (1, 0.5), M = (1, 1), L = (2, 1).
"""
from __future__ import annotations

import torch
from torch import nn

Z_DIM = 256  # 004 App. C: z ~ N(0, I_256)
SIZES = {"S": (1.0, 0.5), "M": (1.0, 1.0), "L": (2.0, 1.0)}


def network_size(name: str) -> tuple[float, float]:
    if name not in SIZES:
        raise ValueError(f"unknown MNIST-3 network size '{name}'; choose one of {', '.join(SIZES)} (004 §5.3)")
    return SIZES[name]


def _width(base: int, k: float) -> int:
    width = int(round(base * k))
    if width < 1:
        raise ValueError(f"K = {k} makes a layer of width {base}·K < 1")
    return width


def _same_pad() -> nn.ZeroPad2d:
    """TF SAME padding of a 4×4 kernel: 1 before, 2 after (left, right, top, bottom)."""
    return nn.ZeroPad2d((1, 2, 1, 2))


class MNIST3Generator(nn.Module):
    def __init__(self, k_g: float = 1.0, z_dim: int = Z_DIM):
        super().__init__()
        c1, c2, c3 = _width(64, k_g), _width(32, k_g), _width(8, k_g)
        self.z_dim = z_dim
        self.fc = nn.Sequential(nn.Linear(z_dim, 4 * 4 * 64), nn.BatchNorm1d(4 * 4 * 64), nn.ReLU())
        self.body = nn.Sequential(
            nn.ConvTranspose2d(64, c1, 4, stride=1), nn.BatchNorm2d(c1), nn.ReLU(),  # 4 → 7 (VALID)
            nn.ConvTranspose2d(c1, c2, 4, stride=2, padding=1), nn.BatchNorm2d(c2), nn.ReLU(),  # 7 → 14
            _same_pad(), nn.Conv2d(c2, c3, 4, stride=1), nn.BatchNorm2d(c3), nn.ReLU(),  # 14 → 14
            nn.ConvTranspose2d(c3, 3, 4, stride=2, padding=1), nn.Tanh(),  # 14 → 28
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(self.fc(z).view(-1, 64, 4, 4))


class MNIST3Discriminator(nn.Module):
    def __init__(self, k_d: float = 1.0):
        super().__init__()
        c1, c2, c3 = _width(8, k_d), _width(16, k_d), _width(32, k_d)
        self.body = nn.Sequential(
            nn.Conv2d(3, c1, 4, stride=2), nn.LeakyReLU(0.2),  # 28 → 13 (VALID)
            _same_pad(), nn.Conv2d(c1, c2, 4, stride=2), nn.BatchNorm2d(c2), nn.LeakyReLU(0.2),  # 13 → 7
            _same_pad(), nn.Conv2d(c2, c3, 4, stride=1), nn.BatchNorm2d(c3), nn.LeakyReLU(0.2),  # 7 → 7
        )
        self.fc = nn.Linear(c3 * 7 * 7, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B,) of B×3×28×28 images in [-1, 1]."""
        return self.fc(self.body(x).flatten(1)).squeeze(1)


def build_mnist3(size: str) -> tuple[MNIST3Generator, MNIST3Discriminator]:
    k_g, k_d = network_size(size)
    return MNIST3Generator(k_g), MNIST3Discriminator(k_d)
