"""Offline stand-ins built from scikit-learn's 1,797 real 8×8 handwritten digits (ships with sklearn).

Used at scale ``cpu`` when the real image sets are absent; every spec built from them says
``stand_in=True`` so records and tables are labelled. The 8×8 grey levels (0-16) are scaled to 0-255
and upsampled (bilinear) to 28×28 (MNIST's size) or 32×32 (CIFAR-10's size, grey copied to RGB).
Split (sklearn has none): the first 1,500 digits are ``train``, the remaining 297 ``test``.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

N_TRAIN = 1500
BINARIZE_SEED = 0


def _check_split(split: str, name: str) -> str:
    if split not in ("train", "test"):
        raise ValueError(f"dataset '{name}' has splits ('train', 'test'), got split={split!r}")
    return split


@lru_cache(maxsize=None)
def _digits_8x8() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    grey = torch.from_numpy(bunch.images.astype(np.float32) * (255.0 / 16.0)).unsqueeze(1)
    return grey, torch.from_numpy(bunch.target.astype(np.int64))


def digits_uint8(side: int, split: str, name: str = "digits") -> tuple[torch.Tensor, torch.Tensor]:
    """Grey digits upsampled to side×side: (uint8 N×1×side×side, labels 0-9) of one split."""
    _check_split(split, name)
    grey, labels = _digits_8x8()
    big = F.interpolate(grey, size=(side, side), mode="bilinear", align_corners=False)
    pixels = big.round().clamp(0, 255).to(torch.uint8)
    rows = slice(0, N_TRAIN) if split == "train" else slice(N_TRAIN, None)
    return pixels[rows].contiguous(), labels[rows].clone()


def binarized_digits_uint8(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """One fixed stochastic binarization, Bernoulli(grey/255) drawn once with seed 0 — the
    Salakhutdinov & Murray recipe applied to the 28×28 digits. Values {0, 1} (uint8)."""
    pixels, _ = digits_uint8(28, "train", "binarized-digits")
    test, _ = digits_uint8(28, "test", "binarized-digits")
    everything = torch.cat([pixels, test]).to(torch.float32) / 255.0
    draws = torch.bernoulli(everything, generator=torch.Generator().manual_seed(BINARIZE_SEED)).to(torch.uint8)
    _, labels = _digits_8x8()
    rows = slice(0, N_TRAIN) if _check_split(split, "binarized-digits") == "train" else slice(N_TRAIN, None)
    return draws[rows].contiguous(), labels[rows].clone()
