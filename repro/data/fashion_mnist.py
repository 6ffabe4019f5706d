"""Fashion-MNIST (Xiao et al. 2017): 60,000 / 10,000 grey 28×28 images of 10 clothing classes, IDX files.

Looked for, in order: ``<data root>/fashion-mnist/`` (a copy in the same IDX format, gzipped or not),
then ``/usr/share/datasets/fashion-mnist/``, where Debian's package ``dataset-fashion-mnist`` installs
``{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``. Debian recompresses the archives, so their md5
differs from Zalando's published ones; verification therefore checks the decompressed IDX headers,
the counts (60,000 / 10,000) and the class balance (6,000 / 1,000 per class).

- ``fashion-mnist``: 1×28×28 in [-1, 1], labels 0-9;
- ``fashion32``: zero-padded by 2 pixels to 32×32 (the background is 0), grey copied to 3 channels:
  the offline stand-in for the RGB image sets (CIFAR-10, STL-10, CelebA, ImageNet, LSUN) at scale cpu.
"""
from __future__ import annotations

import gzip
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .errors import DatasetCorrupt, DatasetMissing

FOLDER = "fashion-mnist"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_PACKAGE = "dataset-fashion-mnist"
FILES = {("train", "images"): "train-images-idx3-ubyte", ("train", "labels"): "train-labels-idx1-ubyte",
         ("test", "images"): "t10k-images-idx3-ubyte", ("test", "labels"): "t10k-labels-idx1-ubyte"}
COUNTS = {"train": 60000, "test": 10000}
URL = "https://github.com/zalandoresearch/fashion-mnist/tree/master/data/fashion"
HOW_TO_GET = (f"install Debian's package (`apt-get install {DEBIAN_PACKAGE}`), or download the four "
              f"*-ubyte.gz files from {URL} into <data root>/{FOLDER}/")


def candidate_folders(root: Path) -> list[Path]:
    return [Path(root) / FOLDER, DEBIAN_DIR]


def _file(folder: Path, split: str, kind: str) -> Path | None:
    base = folder / FILES[(split, kind)]
    for path in (base.with_name(base.name + ".gz"), base):
        if path.is_file():
            return path
    return None


def _complete(folder: Path) -> bool:
    return all(_file(folder, s, k) is not None for s, k in FILES)


def fashion_folder(root: Path) -> Path:
    """The first candidate folder holding all four files (else the data-root folder, to report)."""
    for folder in candidate_folders(root):
        if _complete(folder):
            return folder
    return Path(root) / FOLDER


def fashion_missing(root: Path) -> list[str]:
    folder = fashion_folder(root)
    return [FILES[key] + "[.gz]" for key in FILES if _file(folder, *key) is None]


def _reinstall(path: Path) -> str:
    if str(path).startswith(str(DEBIAN_DIR)):
        return f"reinstall it with `apt-get install --reinstall {DEBIAN_PACKAGE}`"
    return f"delete it and copy the original from {URL} (or `repro data prepare fashion-mnist`)"


def read_idx(path: Path, expect_dims: int) -> np.ndarray:
    """An IDX file (gzipped or not) as a uint8 array; DatasetCorrupt (one line) when it is damaged."""
    raw = Path(path).read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise DatasetCorrupt(path, f"not a complete gzip file ({err})", _reinstall(path)) from None
    if len(raw) < 4 + 4 * expect_dims or raw[:3] != b"\x00\x00\x08" or raw[3] != expect_dims:
        raise DatasetCorrupt(path, f"no IDX header for a {expect_dims}-d uint8 array", _reinstall(path))
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(expect_dims)]
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * expect_dims)
    if body.size != int(np.prod(dims)):
        raise DatasetCorrupt(path, f"{body.size} data bytes for a header of {dims} ({int(np.prod(dims))})",
                             _reinstall(path))
    return body.reshape(dims)


@lru_cache(maxsize=4)
def _load(folder: str, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    folder_path = Path(folder)
    images = read_idx(_file(folder_path, split, "images"), 3)
    labels = read_idx(_file(folder_path, split, "labels"), 1)
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
        raise DatasetCorrupt(_file(folder_path, split, "images"),
                             f"{images.shape} images for {labels.shape[0]} labels (expected N×28×28)",
                             _reinstall(folder_path))
    return torch.from_numpy(images.copy()).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))


def fashion_uint8(root: Path, split: str, name: str = "fashion-mnist") -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 N×1×28×28 images and labels 0-9 of ``train`` (60,000) or ``test`` (10,000)."""
    if split not in COUNTS:
        raise ValueError(f"dataset '{name}' has splits ('train', 'test'), got split={split!r}")
    if fashion_missing(root):
        raise DatasetMissing(name, " or ".join(str(f) for f in candidate_folders(root)),
                             "missing " + ", ".join(fashion_missing(root)),
                             fix=f"To get it, {HOW_TO_GET} (`repro data prepare fashion-mnist` explains).")
    return _load(str(fashion_folder(root)), split)


def verify_fashion(root: Path) -> tuple[bool, str]:
    if fashion_missing(root):
        return False, "missing " + ", ".join(fashion_missing(root))
    parts, ok = [], True
    for split, n in COUNTS.items():
        images, labels = fashion_uint8(root, split)
        counts = np.bincount(labels.numpy(), minlength=10)
        good = len(images) == n and (counts == n // 10).all()
        ok &= bool(good)
        parts.append(f"{split} {len(images)} (expect {n}, {n // 10} per class)")
    return ok, f"{fashion_folder(root)}: " + ", ".join(parts)


def prepare_fashion(root: Path) -> None:
    """Nothing is downloaded: say where the files come from (Debian's package or Zalando's repository)."""
    if fashion_missing(root):
        raise DatasetMissing("fashion-mnist", " or ".join(str(f) for f in candidate_folders(root)),
                             "missing " + ", ".join(fashion_missing(root)), fix=f"To get it, {HOW_TO_GET}.")
