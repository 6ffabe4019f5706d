"""LSUN bedrooms at 64×64, from the official LMDB or from a folder of exported images.

Looked for in ``<root>/lsun/bedroom_<split>_lmdb`` (the published LMDB; needs the ``lmdb`` package)
and ``<root>/lsun/bedroom_<split>/`` (any tree of .jpg/.jpeg/.png/.webp files). torchvision's LSUN class
is not used because it writes a key-cache file into the current working directory.
Preprocessing (003 §5.1 gives only "64×64"): resize the shorter side to 64 then centre crop 64×64,
the DCGAN/WGAN convention for LSUN.
"""
from __future__ import annotations

import io
from pathlib import Path

from torch.utils.data import Dataset
from torchvision import transforms as T

from .errors import DatasetMissing
from .tensors import to_signed_unit

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
SPLITS = {"train": "train", "test": "val"}
DOWNLOAD_URL = "http://dl.yf.io/lsun/scenes/bedroom_{split}_lmdb.zip"


def lsun_folder(root: Path) -> Path:
    return Path(root) / "lsun"


def lmdb_path(root: Path, split: str) -> Path:
    return lsun_folder(root) / f"bedroom_{SPLITS[split]}_lmdb"


def image_dir(root: Path, split: str) -> Path:
    return lsun_folder(root) / f"bedroom_{SPLITS[split]}"


def lsun_present(root: Path, split: str = "train") -> bool:
    return (lmdb_path(root, split) / "data.mdb").exists() or image_dir(root, split).is_dir()


def _transform(size: int):
    return T.Compose([T.Resize(size, antialias=True), T.CenterCrop(size), T.PILToTensor()])


class ImageFiles(Dataset):
    """A sorted list of image files, read with PIL, resized and centre-cropped, in [-1, 1]; labels -1."""

    def __init__(self, files: list[Path], size: int):
        self.files, self.transform = files, _transform(size)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int):
        from PIL import Image

        with Image.open(self.files[index]) as img:
            return to_signed_unit(self.transform(img.convert("RGB"))), -1


class LmdbImages(Dataset):
    """Images stored as encoded bytes in an LMDB (LSUN's format); opened lazily per worker process."""

    def __init__(self, path: Path, size: int):
        import lmdb

        self.path, self.transform, self._env = path, _transform(size), None
        with lmdb.open(str(path), readonly=True, lock=False, readahead=False, meminit=False) as env:
            with env.begin(write=False) as txn:
                self.keys = list(txn.cursor().iternext(keys=True, values=False))

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, index: int):
        import lmdb
        from PIL import Image

        if self._env is None:
            self._env = lmdb.open(str(self.path), readonly=True, lock=False, readahead=False, meminit=False)
        with self._env.begin(write=False) as txn:
            blob = txn.get(self.keys[index])
        with Image.open(io.BytesIO(blob)) as img:
            return to_signed_unit(self.transform(img.convert("RGB"))), -1

    def __getstate__(self):  # DataLoader workers re-open the environment
        state = dict(self.__dict__)
        state["_env"] = None
        return state


def load_lsun_bedroom(root: Path, split: str = "train", size: int = 64) -> Dataset:
    if split not in SPLITS:
        raise ValueError(f"dataset 'lsun-bedroom64' has splits {tuple(SPLITS)}, got split={split!r}")
    if (lmdb_path(root, split) / "data.mdb").exists():
        try:
            import lmdb  # noqa: F401
        except ImportError:
            raise DatasetMissing("lsun-bedroom64", lmdb_path(root, split),
                                 "the LMDB is there but the `lmdb` package is not installed (pip install lmdb)") from None
        return LmdbImages(lmdb_path(root, split), size)
    folder = image_dir(root, split)
    if folder.is_dir():
        files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if files:
            return ImageFiles(files, size)
    raise DatasetMissing("lsun-bedroom64", lsun_folder(root),
                         f"expected {lmdb_path(root, split).name}/data.mdb or image files under {folder.name}/")


def verify_lsun_bedroom(root: Path) -> tuple[bool, str]:
    """Counts against the published size (3,033,042 train images); no official checksums exist."""
    if not lsun_present(root, "train"):
        return False, "missing"
    try:
        n = len(load_lsun_bedroom(root, "train"))
    except DatasetMissing as err:
        return False, str(err)
    return n == 3033042, f"{n} train images (expect 3033042)"


def prepare_lsun_bedroom(root: Path) -> None:
    from torchvision.datasets.utils import download_and_extract_archive

    for split in ("train", "val"):
        download_and_extract_archive(DOWNLOAD_URL.format(split=split), str(lsun_folder(root)))
