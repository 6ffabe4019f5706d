"""DCGAN generator and discriminator of 003 Tables S1 (CIFAR-10 32², STL-10 48²) and S2 (CelebA and
LSUN 64²), hyper-parameters from Miyato et al. (2018).

Generator: z ∈ R^128 → dense (linear) → h×w×C0 → 4×4 stride-2 deconvs with BN + ReLU → 3×3 conv to
3 channels, Tanh. Discriminator: alternating 3×3 stride-1 and 4×4 stride-2 convs with LReLU, then a
dense linear layer to ``out_dim`` = s outputs (s = 16 for MMD losses, 1 for non-saturating/hinge).

Choices the seed leaves open (Miyato et al.'s where they give one):
* padding 1 for every 3×3 and 4×4 layer (sizes halve/double exactly);
* LReLU slope 0.1 (Miyato et al.);
* no BN or activation after the generator's dense layer (003 Table S1 says "dense, linear");
* PyTorch default initialisation; biases everywhere;
* Table S2's final dense layer reads "4 × 4 × 512 → s" but follows a 1024-channel conv: we use 4×4×1024.
"""
from __future__ import annotations

import torch
from torch import nn

Z_DIM = 128  # 003 Table S1
LRELU_SLOPE = 0.1  # Miyato et al. 2018

# resolution -> (bottom spatial size h=w, generator channels, discriminator channel plan)
_PLANS = {
    32: (4, (512, 256, 128, 64), (64, 128, 128, 256, 256, 512, 512)),  # Table S1, CIFAR-10
    48: (6, (512, 256, 128, 64), (64, 128, 128, 256, 256, 512, 512)),  # Table S1, STL-10
    64: (4, (1024, 512, 256, 128, 64), (64, 128, 128, 256, 256, 512, 512, 1024, 1024)),  # Table S2
}


def _plan(resolution: int):
    if resolution not in _PLANS:
        raise ValueError(f"DCGAN nets exist for resolutions {sorted(_PLANS)} (003 Tables S1/S2); got {resolution}.")
    return _PLANS[resolution]


class DCGANGenerator(nn.Module):
    def __init__(self, resolution: int = 32, z_dim: int = Z_DIM, channels: int = 3):
        super().__init__()
        bottom, widths, _ = _plan(resolution)
        self.z_dim, self.bottom, self.c0 = z_dim, bottom, widths[0]
        self.dense = nn.Linear(z_dim, bottom * bottom * widths[0])
        layers: list[nn.Module] = []
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.BatchNorm2d(c_out), nn.ReLU()]
        layers += [nn.Conv2d(widths[-1], channels, 3, 1, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(self.dense(z).view(z.shape[0], self.c0, self.bottom, self.bottom))


class DCGANDiscriminator(nn.Module):
    def __init__(self, resolution: int = 32, out_dim: int = 16, channels: int = 3):
        super().__init__()
        bottom, _, widths = _plan(resolution)
        layers: list[nn.Module] = []
        c_in = channels
        for i, c_out in enumerate(widths):
            stride_two = i % 2 == 1  # 3×3 s1, 4×4 s2, 3×3 s1, ...
            layers += [nn.Conv2d(c_in, c_out, 4 if stride_two else 3, 2 if stride_two else 1, 1),
                       nn.LeakyReLU(LRELU_SLOPE)]
            c_in = c_out
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(bottom * bottom * c_in, out_dim)
        self.out_dim = out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).flatten(1))


def dcgan_pair(resolution: int = 32, out_dim: int = 16, z_dim: int = Z_DIM) -> tuple[DCGANGenerator, DCGANDiscriminator]:
    return DCGANGenerator(resolution, z_dim), DCGANDiscriminator(resolution, out_dim)
