"""Small fully connected networks shared by the toy models of 004 §5.2."""
from __future__ import annotations

from typing import Sequence

from torch import nn


def mlp(in_dim: int, hidden: Sequence[int], out_dim: int) -> nn.Sequential:
    """Linear -> ReLU -> ... -> Linear (no output activation)."""
    layers: list[nn.Module] = []
    width = in_dim
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


def toy_generator(z_dim: int, x_dim: int = 2, hidden: int = 100) -> nn.Sequential:
    """The generator every model of 004 Table 1 shares: two hidden layers of ``hidden`` ReLU units (004 §5.2)."""
    return mlp(z_dim, [hidden, hidden], x_dim)
