"""Downsampled ImageNet 64×64 (Chrabaszcz et al. 2017) in its published npz batches.

On disk: ``<root>/imagenet64/train_data_batch_{1..10}.npz`` and ``val_data.npz``, each with ``data``
(N×12288 uint8, the R plane then G then B, row-major 64×64) and ``labels`` (1..1000).
``prepare`` converts the batches once into one memory-mapped ``<split>_64x64.npy`` (+ labels) so a run
does not decompress 15 GB into RAM; loading uses the converted file when present, else reads the npz.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from .errors import DatasetMissing
from .tensors import UInt8Images

SIDE = 64
N_TRAIN_BATCHES = 10
EXPECTED = {"train": 1281167, "test": 50000}  # 001: "1 281 167 images"; official 50K validation set as test
DOWNLOAD_PAGE = "https://image-net.org/download-images (Downsampled ImageNet 64x64, npz; needs an account)"


def imagenet64_folder(root: Path) -> Path:
    return Path(root) / "imagenet64"


def batch_files(root: Path, split: str) -> list[Path]:
    folder = imagenet64_folder(root)
    if split == "train":
        return [folder / f"train_data_batch_{i}.npz" for i in range(1, N_TRAIN_BATCHES + 1)]
    return [folder / "val_data.npz"]


def converted_files(root: Path, split: str) -> tuple[Path, Path]:
    folder = imagenet64_folder(root)
    return folder / f"{split}_{SIDE}x{SIDE}.npy", folder / f"{split}_labels.npy"


def _check_split(split: str) -> str:
    if split not in EXPECTED:
        raise ValueError(f"dataset 'imagenet64' has splits {tuple(EXPECTED)}, got split={split!r}")
    return split


def imagenet64_missing(root: Path, split: str = "train") -> list[str]:
    if all(p.exists() for p in converted_files(root, split)):
        return []
    return [p.name for p in batch_files(root, split) if not p.exists()]


def _rows_to_images(rows: np.ndarray) -> np.ndarray:
    return rows.reshape(-1, 3, SIDE, SIDE)  # planes R, G, B of 64×64 each


def read_batches(files: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """All images (uint8 N×3×64×64) and 0-based labels of the given npz batches, in file order."""
    images, labels = [], []
    for f in files:
        with np.load(f) as z:
            images.append(_rows_to_images(z["data"]))
            labels.append(np.asarray(z["labels"], dtype=np.int64) - 1)
    return np.concatenate(images), np.concatenate(labels)


def load_imagenet64(root: Path, split: str = "train") -> Dataset:
    """ImageNet 64×64 (000 §4.1, 001): 1,281,167 train / 50,000 validation images, labels 0-999, [-1, 1]."""
    split = _check_split(split)
    missing = imagenet64_missing(root, split)
    if missing:
        raise DatasetMissing("imagenet64", imagenet64_folder(root), "missing " + ", ".join(missing))
    pixels_file, labels_file = converted_files(root, split)
    if pixels_file.exists() and labels_file.exists():
        pixels = np.load(pixels_file, mmap_mode="c")  # copy-on-write map: writable for torch, never touches the file
        return UInt8Images(torch.from_numpy(pixels), np.load(labels_file))
    pixels, labels = read_batches(batch_files(root, split))
    return UInt8Images(torch.from_numpy(pixels), labels)


def convert_imagenet64(root: Path, split: str) -> int:
    """Write the npz batches of ``split`` into one uint8 .npy (memory-mappable) and a labels .npy."""
    files = batch_files(root, split)
    counts = []
    for f in files:
        with np.load(f) as z:
            counts.append(len(z["labels"]))
    pixels_file, labels_file = converted_files(root, split)
    tmp = pixels_file.with_suffix(".tmp.npy")
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(sum(counts), 3, SIDE, SIDE))
    labels, start = [], 0
    for f, n in zip(files, counts):
        with np.load(f) as z:
            out[start : start + n] = _rows_to_images(z["data"])
            labels.append(np.asarray(z["labels"], dtype=np.int64) - 1)
        start += n
    out.flush()
    del out
    np.save(labels_file, np.concatenate(labels))
    tmp.replace(pixels_file)
    return start


def verify_imagenet64(root: Path) -> tuple[bool, str]:
    """Image counts against the published sizes (the npz batches carry no official checksums)."""
    reports, ok = [], True
    for split, expected in EXPECTED.items():
        if imagenet64_missing(root, split):
            return False, f"{split}: missing " + ", ".join(imagenet64_missing(root, split))
        pixels_file, labels_file = converted_files(root, split)
        if labels_file.exists():
            n = len(np.load(labels_file))
        else:
            n = 0
            for f in batch_files(root, split):
                with np.load(f) as z:
                    n += len(z["labels"])
        ok &= n == expected
        reports.append(f"{split} {n} (expect {expected})")
    return ok, "; ".join(reports)


def prepare_imagenet64(root: Path) -> None:
    for split in EXPECTED:
        if imagenet64_missing(root, split):
            raise DatasetMissing("imagenet64", imagenet64_folder(root),
                                 f"it cannot be downloaded automatically: get the npz batches from {DOWNLOAD_PAGE} "
                                 f"and unpack them into {imagenet64_folder(root)}, then run prepare again")
        convert_imagenet64(root, split)
