"""Plain-CNN discriminator of KernelNet's CelebA 160 runs: "a 5-layer CNN discriminator" (000 §4.1,
following Arbel et al. 2018).

The seed gives only the depth. Our reading (DCGAN style, as 003 Table S1 but all convolutions 4×4 with
stride 2): five 4×4 stride-2 convolutions with widths 64, 128, 256, 512, 1024, each followed by
LReLU(0.1) (Miyato et al.'s slope), then a dense layer from the flattened (res/32)² × 1024 map to
``out_dim`` outputs. For CIFAR-10 and STL-10 KernelNet's "7-layer CNN discriminator and 4-layer CNN
generator" are the DCGAN pair of 003 Table S1 (:mod:`repro.core.nets.dcgan`): seven convolutions in D;
dense, three deconvolutions and the output convolution in G.
"""
from __future__ import annotations

import torch
from torch import nn

LRELU_SLOPE = 0.1  # Miyato et al. 2018
WIDTHS = (64, 128, 256, 512, 1024)


class CNN5Discriminator(nn.Module):
    def __init__(self, resolution: int = 160, out_dim: int = 1, channels: int = 3):
        super().__init__()
        if resolution % 32:
            raise ValueError(f"the 5-layer CNN discriminator halves the image five times; the resolution must be "
                             f"a multiple of 32, got {resolution}.")
        layers: list[nn.Module] = []
        c_in = channels
        for c_out in WIDTHS:
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(LRELU_SLOPE)]
            c_in = c_out
        self.body = nn.Sequential(*layers)
        side = resolution // 32
        self.head = nn.Linear(side * side * c_in, out_dim)
        self.out_dim = out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).flatten(1))
