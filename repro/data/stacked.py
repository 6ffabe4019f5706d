"""Stacked (three-digit RGB) sets: 004 §5.3 "MNIST-3", 1000 modes.

Each item stacks three independently, uniformly chosen grey digits on the R, G, B channels; its label
is the mode 100·d_R + 10·d_G + d_B in 0..999. The digit triples are drawn once from a seeded
generator, so a stacked set is a fixed, reproducible dataset. 004 does not state the set size; the
default is the size of the base split (60,000 for MNIST train), a common choice (VEEGAN, PacGAN use
comparable fixed sizes).
"""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from .tensors import take_rows, to_signed_unit


class StackedDigits(Dataset):
    """``base_pixels``: uint8 N×1×H×W grey digits; ``base_labels``: their classes 0-9."""

    def __init__(self, base_pixels: torch.Tensor, base_labels, size: int | None = None, seed: int = 0):
        if base_pixels.dim() != 4 or base_pixels.shape[1] != 1:
            raise ValueError(f"stacking needs grey N×1×H×W digits, got shape {tuple(base_pixels.shape)}")
        self.base = base_pixels
        self.base_labels = torch.as_tensor(np.asarray(base_labels), dtype=torch.long)
        n = base_pixels.shape[0] if size is None else int(size)
        rng = np.random.default_rng(seed)
        self.triples = torch.from_numpy(rng.integers(0, base_pixels.shape[0], size=(n, 3)))
        digits = self.base_labels[self.triples]
        self.labels = digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]

    def __len__(self) -> int:
        return self.triples.shape[0]

    def _images(self, rows: torch.Tensor) -> torch.Tensor:
        picked = take_rows(self.base, take_rows(self.triples, rows).reshape(-1))  # (B·3)×1×H×W
        return to_signed_unit(picked.reshape(len(rows), 3, *self.base.shape[2:]))

    def __getitem__(self, index: int):
        return self._images([index])[0], int(self.labels[index])

    def __getitems__(self, indices):
        images, labels = self._images(indices), take_rows(self.labels, indices).tolist()
        return [(images[i], labels[i]) for i in range(len(labels))]
