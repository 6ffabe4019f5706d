"""CIFAR-10, STL-10, MNIST and CelebA read with torchvision's dataset classes.

torchvision's classes run an md5 check of every file on each construction. Loading here only checks
that the files are present (so tiny CI fixtures in the real formats load, and a 3 GB STL-10 is not
re-hashed per run); the md5 check is kept for ``verify_*`` (``repro data list`` / ``prepare``), using
torchvision's own checksum tables.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch.utils.data import Dataset
from torchvision import datasets as tvd
from torchvision import transforms as T
from torchvision.datasets.utils import check_integrity

from .errors import DatasetMissing
from .tensors import UInt8Images, to_signed_unit


def _missing(folder: Path, names) -> list[str]:
    return [n for n in names if not (folder / n).exists()]


def _md5_report(folder: Path, table) -> tuple[bool, str]:
    """(all files match torchvision's md5 table, short report)."""
    bad = [name for name, md5 in table if not check_integrity(str(folder / name), md5)]
    return (not bad, "md5 ok" if not bad else "md5 mismatch or missing: " + ", ".join(bad))


def _split(split: str, allowed: tuple[str, ...], name: str) -> str:
    if split not in allowed:
        raise ValueError(f"dataset '{name}' has splits {allowed}, got split={split!r}")
    return split


# ---------------------------------------------------------------- CIFAR-10 (python pickle batches)

class _CIFAR10Present(tvd.CIFAR10):
    """torchvision's CIFAR-10 reader with the md5 check replaced by a presence check."""

    def _check_integrity(self) -> bool:
        folder = Path(self.root) / self.base_folder
        return not _missing(folder, [n for n, _ in self.train_list + self.test_list])

    def _load_meta(self) -> None:
        self.classes = [str(i) for i in range(10)]


def cifar10_folder(root: Path) -> Path:
    return Path(root) / tvd.CIFAR10.base_folder


def cifar10_missing(root: Path) -> list[str]:
    return _missing(cifar10_folder(root), [n for n, _ in tvd.CIFAR10.train_list + tvd.CIFAR10.test_list])


def load_cifar10(root: Path, split: str = "train") -> Dataset:
    """The 50K training (or 10K test) images at 32×32, labels 0-9, pixels in [-1, 1]."""
    split = _split(split, ("train", "test"), "cifar10")
    if cifar10_missing(root):
        raise DatasetMissing("cifar10", cifar10_folder(root), "missing " + ", ".join(cifar10_missing(root)))
    raw = _CIFAR10Present(str(root), train=split == "train")
    return UInt8Images(torch.from_numpy(raw.data).permute(0, 3, 1, 2).contiguous(), raw.targets)


def verify_cifar10(root: Path) -> tuple[bool, str]:
    return _md5_report(cifar10_folder(root), tvd.CIFAR10.train_list + tvd.CIFAR10.test_list)


def prepare_cifar10(root: Path) -> None:
    tvd.CIFAR10(str(root), train=True, download=True)


# ---------------------------------------------------------------- STL-10 (binary files)

class _STL10Present(tvd.STL10):
    def _check_integrity(self) -> bool:
        folder = Path(self.root) / self.base_folder
        return not _missing(folder, [n for n, _ in self.train_list + self.test_list])


def stl10_folder(root: Path) -> Path:
    return Path(root) / tvd.STL10.base_folder


def stl10_missing(root: Path) -> list[str]:
    return _missing(stl10_folder(root), [n for n, _ in tvd.STL10.train_list + tvd.STL10.test_list])


def load_stl10(root: Path, split: str = "train", size: int = 48) -> Dataset:
    """STL-10 at ``size``×``size`` (000 §4.1, 003 §5.1: 48×48).

    ``train`` = the 100K unlabeled + 5K labeled training images (labels -1 on the unlabeled ones);
    ``test`` = the 8K test images. The 96×96 originals are resized on access (antialiased bilinear).
    """
    split = _split(split, ("train", "test"), "stl10")
    if stl10_missing(root):
        raise DatasetMissing("stl10", stl10_folder(root), "missing " + ", ".join(stl10_missing(root)))
    raw = _STL10Present(str(root), split="train+unlabeled" if split == "train" else "test")
    return UInt8Images(torch.from_numpy(raw.data), raw.labels, size=size)


def verify_stl10(root: Path) -> tuple[bool, str]:
    return _md5_report(stl10_folder(root), tvd.STL10.train_list + tvd.STL10.test_list)


def prepare_stl10(root: Path) -> None:
    tvd.STL10(str(root), split="test", download=True)


# ---------------------------------------------------------------- MNIST (idx files)

MNIST_RAW_FILES = [os.path.splitext(n)[0] for n, _ in tvd.MNIST.resources]


def mnist_folder(root: Path) -> Path:
    return Path(root) / "MNIST" / "raw"


def mnist_missing(root: Path) -> list[str]:
    return _missing(mnist_folder(root), MNIST_RAW_FILES)


def mnist_uint8(root: Path, split: str, name: str = "mnist") -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST pixels (uint8 N×1×28×28) and labels, via torchvision's idx reader."""
    split = _split(split, ("train", "test"), name)
    if mnist_missing(root):
        raise DatasetMissing(name, mnist_folder(root), "missing " + ", ".join(mnist_missing(root)))
    raw = tvd.MNIST(str(root), train=split == "train")
    return raw.data.unsqueeze(1).contiguous(), raw.targets


def load_mnist(root: Path, split: str = "train") -> Dataset:
    """MNIST 60K train / 10K test, 1×28×28 in [-1, 1], labels 0-9."""
    pixels, labels = mnist_uint8(root, split)
    return UInt8Images(pixels, labels)


def verify_mnist(root: Path) -> tuple[bool, str]:
    folder = mnist_folder(root)
    if all((folder / n).exists() for n, _ in tvd.MNIST.resources):
        return _md5_report(folder, tvd.MNIST.resources)
    missing = mnist_missing(root)
    if missing:
        return False, "missing " + ", ".join(missing)
    sizes_ok = (len(tvd.MNIST(str(root), train=True)) == 60000 and len(tvd.MNIST(str(root), train=False)) == 10000)
    return sizes_ok, "60000/10000 images (no .gz archives to md5)" if sizes_ok else "wrong image counts"


def prepare_mnist(root: Path) -> None:
    tvd.MNIST(str(root), train=True, download=True)


# ---------------------------------------------------------------- CelebA (aligned image folder + txt files)

CELEBA_TEXT_FILES = [f for _, _, f in tvd.CelebA.file_list if not f.endswith(".zip")]
CELEBA_CROP = 160  # centre crop of the 178×218 aligned faces (Bińkowski et al. / Arbel et al. 160×160 protocol)


class _CelebAPresent(tvd.CelebA):
    def _check_integrity(self) -> bool:
        folder = Path(self.root) / self.base_folder
        return not _missing(folder, CELEBA_TEXT_FILES + ["img_align_celeba"])


def celeba_folder(root: Path) -> Path:
    return Path(root) / tvd.CelebA.base_folder


def celeba_missing(root: Path) -> list[str]:
    return _missing(celeba_folder(root), CELEBA_TEXT_FILES + ["img_align_celeba"])


class CelebAFaces(Dataset):
    """Aligned CelebA faces: centre crop ``crop``×``crop``, then resize to ``size`` (antialiased), [-1, 1].

    Labels are -1 (the GAN experiments are unconditional).
    """

    def __init__(self, files: list[Path], size: int, crop: int = CELEBA_CROP):
        self.files = files
        self.transform = T.Compose([T.CenterCrop(crop), T.Resize(size, antialias=True), T.PILToTensor()])

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int):
        from PIL import Image

        with Image.open(self.files[index]) as img:
            return to_signed_unit(self.transform(img.convert("RGB"))), -1


def load_celeba(root: Path, split: str = "train", size: int = 64, name: str = "celeba64") -> Dataset:
    """CelebA aligned faces at ``size`` (64: 003 §5.1; 160: 000 §4.1 / 001).

    ``train`` = all 202,599 images (003: "about 203K images": the papers train on the whole set);
    ``valid`` / ``test`` = the official partitions of list_eval_partition.txt.
    """
    split = _split(split, ("train", "valid", "test"), name)
    if celeba_missing(root):
        raise DatasetMissing(name, celeba_folder(root), "missing " + ", ".join(celeba_missing(root)))
    raw = _CelebAPresent(str(root), split="all" if split == "train" else split, target_type=[])
    folder = celeba_folder(root) / "img_align_celeba"
    return CelebAFaces([folder / f for f in raw.filename], size=size)


def verify_celeba(root: Path) -> tuple[bool, str]:
    missing = celeba_missing(root)
    if missing:
        return False, "missing " + ", ".join(missing)
    ok, report = _md5_report(celeba_folder(root), [(f, md5) for _, md5, f in tvd.CelebA.file_list
                                                   if not f.endswith(".zip")])
    n_images = sum(1 for _ in (celeba_folder(root) / "img_align_celeba").iterdir())
    return ok and n_images == 202599, f"{report}; {n_images} images (expect 202599)"


def prepare_celeba(root: Path) -> None:
    tvd.CelebA(str(root), split="all", target_type=[], download=True)
