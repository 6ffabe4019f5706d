"""In-memory image datasets: uint8 pixels kept once, converted to float per item.

Holding the raw uint8 array (not PIL images) makes one item a slice plus one multiply-add, which is
what keeps loading far faster than a training step (benchmarks/bench_data.py).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset


def to_signed_unit(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1] (003 §5.1: "images were scaled to range [-1, 1]").

    Computed in numpy on purpose: these element-wise ops are tiny, and torch's intra-op thread pool
    (shared with the training step) makes them 30-50× slower on a busy 2-core machine.
    """
    out = pixels.numpy().astype(np.float32)
    out *= np.float32(2.0 / 255.0)
    out -= np.float32(1.0)
    return torch.from_numpy(out)


def take_rows(pixels: torch.Tensor, rows) -> torch.Tensor:
    """``pixels[rows]`` gathered by numpy (single-threaded, see :func:`to_signed_unit`)."""
    return torch.from_numpy(np.take(pixels.numpy(), np.asarray(rows, dtype=np.int64), axis=0))


def resize_uint8(images: torch.Tensor, size: int) -> torch.Tensor:
    """Antialiased bilinear resize of a uint8 N×C×H×W batch to size×size, kept uint8."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    out = F.interpolate(images.to(torch.float32), size=(size, size), mode="bilinear",
                        antialias=True, align_corners=False)
    return out.round_().clamp_(0, 255).to(torch.uint8)


class UInt8Images(Dataset):
    """Items ``(image C×H×W float32, label int)``.

    ``pixels``: uint8 N×C×H×W. ``labels``: length-N ints (-1 when the set has none).
    ``mode``: ``"signed"`` -> [-1, 1]; ``"binary"`` -> pixels already {0, 1}, returned as float {0, 1};
    ``"dynamic-binary"`` -> a fresh Bernoulli(pixel/255) draw per access from torch's global RNG
    (the run's seed and checkpointed RNG state make it reproducible).
    ``size``: resize on access (antialiased bilinear) when the stored resolution differs.
    """

    MODES = ("signed", "binary", "dynamic-binary")

    def __init__(self, pixels, labels=None, mode: str = "signed", size: int | None = None):
        pixels = torch.as_tensor(np.ascontiguousarray(pixels)) if isinstance(pixels, np.ndarray) else pixels
        if pixels.dtype != torch.uint8 or pixels.dim() != 4:
            raise ValueError(f"pixels must be a uint8 N×C×H×W array, got {pixels.dtype} of shape {tuple(pixels.shape)}")
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        self.pixels = pixels
        n = pixels.shape[0]
        self.labels = torch.full((n,), -1, dtype=torch.long) if labels is None else torch.as_tensor(
            np.asarray(labels), dtype=torch.long)
        if self.labels.shape != (n,):
            raise ValueError(f"{n} images but {tuple(self.labels.shape)} labels")
        self.mode = mode
        self.size = size

    def __len__(self) -> int:
        return self.pixels.shape[0]

    def _convert(self, raw: torch.Tensor) -> torch.Tensor:
        if self.size is not None:
            raw = resize_uint8(raw, self.size)
        if self.mode == "signed":
            return to_signed_unit(raw)
        if self.mode == "binary":
            return torch.from_numpy(raw.numpy().astype(np.float32))
        return torch.bernoulli(raw.to(torch.float32) / 255.0)

    def __getitem__(self, index: int):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for a dataset of {n} images")
        index %= n
        return self._convert(self.pixels[index : index + 1])[0], int(self.labels[index])

    def __getitems__(self, indices):
        """Batched fetch used by DataLoader: one gather and one conversion for the whole batch."""
        images = self._convert(take_rows(self.pixels, indices))
        labels = take_rows(self.labels, indices).tolist()
        return [(images[i], labels[i]) for i in range(len(labels))]
