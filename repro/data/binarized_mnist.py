"""Binarized MNIST: the fixed binarization of Salakhutdinov & Murray (2008), and dynamic binarization.

Fixed: the standard ``binarized_mnist_{train,valid,test}.amat`` files (50,000 / 10,000 / 10,000 rows of
784 space-separated 0/1 values, one stochastic binarization drawn once by the authors), looked for in
``<root>/binarized_mnist/``. The files carry no labels (label -1). 000 §4.2 evaluates NLL on this set.
Dynamic: MNIST grey levels p = pixel/255 re-binarized as Bernoulli(p) at every access (built in
registry.py from the MNIST loader).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from .errors import DatasetMissing
from .tensors import UInt8Images

URL = "http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/binarized_mnist_{split}.amat"
EXPECTED_ROWS = {"train": 50000, "valid": 10000, "test": 10000}
SIDE = 28


def binarized_mnist_folder(root: Path) -> Path:
    return Path(root) / "binarized_mnist"


def amat_file(root: Path, split: str) -> Path:
    return binarized_mnist_folder(root) / f"binarized_mnist_{split}.amat"


def binarized_mnist_missing(root: Path) -> list[str]:
    return [amat_file(root, s).name for s in EXPECTED_ROWS if not amat_file(root, s).exists()]


def read_amat(path: Path) -> np.ndarray:
    """The 0/1 matrix of an .amat file as uint8 N×784 (every '0'/'1' character is one value)."""
    raw = np.frombuffer(Path(path).read_bytes(), dtype=np.uint8)
    digits = raw[(raw == ord("0")) | (raw == ord("1"))] - ord("0")
    n_lines = Path(path).read_bytes().count(b"\n")
    if digits.size % (SIDE * SIDE) != 0:
        raise ValueError(f"{path} holds {digits.size} binary values, not a multiple of {SIDE * SIDE}: the file is "
                         f"damaged; delete it and run `repro data prepare binarized-mnist --root DIR`")
    rows = digits.reshape(-1, SIDE * SIDE)
    if n_lines and rows.shape[0] != n_lines:
        raise ValueError(f"{path}: {rows.shape[0]} rows of 784 values but {n_lines} lines; the file is damaged")
    return rows


def load_binarized_mnist(root: Path, split: str = "train") -> Dataset:
    """The fixed binarization, 1×28×28 float {0, 1}, labels -1."""
    if split not in EXPECTED_ROWS:
        raise ValueError(f"dataset 'binarized-mnist' has splits {tuple(EXPECTED_ROWS)}, got split={split!r}")
    path = amat_file(root, split)
    if not path.exists():
        raise DatasetMissing("binarized-mnist", binarized_mnist_folder(root), f"missing {path.name}")
    rows = read_amat(path)
    return UInt8Images(torch.from_numpy(rows.reshape(-1, 1, SIDE, SIDE).copy()), mode="binary")


def verify_binarized_mnist(root: Path) -> tuple[bool, str]:
    """Row counts of the three files (the files are published without checksums)."""
    missing = binarized_mnist_missing(root)
    if missing:
        return False, "missing " + ", ".join(missing)
    counts = {s: read_amat(amat_file(root, s)).shape[0] for s in EXPECTED_ROWS}
    ok = counts == EXPECTED_ROWS
    return ok, ", ".join(f"{s} {n} (expect {EXPECTED_ROWS[s]})" for s, n in counts.items())


def prepare_binarized_mnist(root: Path) -> None:
    from torchvision.datasets.utils import download_url

    for split in EXPECTED_ROWS:
        if not amat_file(root, split).exists():
            download_url(URL.format(split=split), str(binarized_mnist_folder(root)))
