"""Tiny datasets written in each real dataset's on-disk format, for tests of the real loaders.

Every ``make_*`` writes under ``root`` exactly where ``repro.data`` looks and returns the ground truth
(uint8 pixels N×C×H×W and labels) so tests can compare what the loader returns against what was
written. Reusable by other test areas, e.g. ``make_cifar10(tmp_path)`` then
``get_dataset("cifar10", root=tmp_path)`` for an image-GAN smoke run.
"""
from __future__ import annotations

import io
import pickle
import struct
from pathlib import Path

import numpy as np


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def make_cifar10(root, n_per_batch: int = 8, n_test: int = 6, seed: int = 0) -> dict:
    """cifar-10-batches-py/: data_batch_1..5, test_batch, batches.meta (python pickles, rows R|G|B planes)."""
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    rng = _rng(seed)
    truth = {}
    train_pix, train_lab = [], []
    for name, n in [(f"data_batch_{i}", n_per_batch) for i in range(1, 6)] + [("test_batch", n_test)]:
        pixels = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n).tolist()
        entry = {"batch_label": name, "labels": labels, "data": pixels.reshape(n, 3072),
                 "filenames": [f"{name}_{i}.png" for i in range(n)]}
        with open(folder / name, "wb") as f:
            pickle.dump(entry, f, protocol=2)
        if name == "test_batch":
            truth["test"] = (pixels, np.array(labels))
        else:
            train_pix.append(pixels)
            train_lab += labels
    truth["train"] = (np.concatenate(train_pix), np.array(train_lab))
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                                     "ship", "truck"], "num_cases_per_batch": n_per_batch, "num_vis": 3072}, f)
    return truth


def make_stl10(root, n_train: int = 5, n_unlabeled: int = 7, n_test: int = 4, seed: int = 0) -> dict:
    """stl10_binary/: {train,unlabeled,test}_X.bin (uint8, each image stored column-major), *_y.bin (1-10)."""
    folder = Path(root) / "stl10_binary"
    folder.mkdir(parents=True, exist_ok=True)
    rng = _rng(seed)
    truth = {}
    for part, n in [("train", n_train), ("unlabeled", n_unlabeled), ("test", n_test)]:
        pixels = rng.integers(0, 256, size=(n, 3, 96, 96), dtype=np.uint8)
        pixels.transpose(0, 1, 3, 2).tofile(folder / f"{part}_X.bin")  # STL-10 stores each channel transposed
        labels = rng.integers(0, 10, size=n)
        if part != "unlabeled":
            (labels + 1).astype(np.uint8).tofile(folder / f"{part}_y.bin")
        else:
            labels = np.full(n, -1)
        truth[part] = (pixels, labels)
    (folder / "class_names.txt").write_text("\n".join(f"class{i}" for i in range(10)) + "\n")
    return truth


def _idx(path: Path, array: np.ndarray) -> None:
    magic = 2051 if array.ndim == 3 else 2049  # idx3 (images) / idx1 (labels), unsigned bytes
    with open(path, "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape))
        f.write(array.astype(np.uint8).tobytes())


def make_mnist(root, n_train: int = 12, n_test: int = 5, seed: int = 0) -> dict:
    """MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte (big-endian idx headers)."""
    folder = Path(root) / "MNIST" / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    rng = _rng(seed)
    truth = {}
    for split, prefix, n in [("train", "train", n_train), ("test", "t10k", n_test)]:
        pixels = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n)
        _idx(folder / f"{prefix}-images-idx3-ubyte", pixels)
        _idx(folder / f"{prefix}-labels-idx1-ubyte", labels)
        truth[split] = (pixels[:, None], labels)
    return truth


CELEBA_W, CELEBA_H = 178, 218


def make_celeba(root, partitions=(0, 0, 0, 1, 1, 2, 2), seed: int = 0) -> dict:
    """celeba/img_align_celeba/NNNNNN.png plus the five annotation files torchvision reads.

    Each face is 178×218 with a border of one colour outside the central 160×160 square and another
    colour inside it, so a correct centre crop sees only the inner colour. Images are PNG (lossless) with
    the .jpg names of the real set (PIL reads by content) so colours can be compared exactly.
    Keep at least two images per partition: torchvision's CelebA fails on a one-image split.
    """
    from PIL import Image

    folder = Path(root) / "celeba"
    images = folder / "img_align_celeba"
    images.mkdir(parents=True, exist_ok=True)
    rng = _rng(seed)
    names = [f"{i + 1:06d}.jpg" for i in range(len(partitions))]
    inner = rng.integers(0, 256, size=(len(names), 3), dtype=np.uint8)
    top, left = (CELEBA_H - 160) // 2, (CELEBA_W - 160) // 2
    for name, colour in zip(names, inner):
        face = np.empty((CELEBA_H, CELEBA_W, 3), np.uint8)
        face[:] = 255 - colour
        face[top : top + 160, left : left + 160] = colour
        Image.fromarray(face).save(images / name, format="PNG")
    attrs = ["5_o_Clock_Shadow", "Smiling"]
    n = len(names)
    (folder / "list_eval_partition.txt").write_text("".join(f"{m} {p}\n" for m, p in zip(names, partitions)))
    (folder / "identity_CelebA.txt").write_text("".join(f"{m} {i + 1}\n" for i, m in enumerate(names)))
    (folder / "list_attr_celeba.txt").write_text(
        f"{n}\n{' '.join(attrs)}\n" + "".join(f"{m} 1 -1\n" for m in names))
    (folder / "list_bbox_celeba.txt").write_text(
        f"{n}\nimage_id x_1 y_1 width height\n" + "".join(f"{m} 10 10 100 120\n" for m in names))
    (folder / "list_landmarks_align_celeba.txt").write_text(
        f"{n}\nlefteye_x lefteye_y\n" + "".join(f"{m} 69 109\n" for m in names))
    return {"names": names, "inner": inner, "partitions": np.array(partitions)}


def make_imagenet64(root, batch_sizes=(3, 2, 4, 1, 2, 3, 1, 2, 2, 3), n_val: int = 4, seed: int = 0) -> dict:
    """imagenet64/train_data_batch_{1..10}.npz and val_data.npz: data N×12288 (R|G|B planes), labels 1..1000."""
    folder = Path(root) / "imagenet64"
    folder.mkdir(parents=True, exist_ok=True)
    rng = _rng(seed)
    truth = {"train": ([], [])}
    files = [(f"train_data_batch_{i + 1}.npz", n) for i, n in enumerate(batch_sizes)] + [("val_data.npz", n_val)]
    for name, n in files:
        pixels = rng.integers(0, 256, size=(n, 3, 64, 64), dtype=np.uint8)
        labels = rng.integers(1, 1001, size=n)
        np.savez(folder / name, data=pixels.reshape(n, -1), labels=labels.tolist(),
                 mean=pixels.reshape(n, -1).mean(0))
        if name.startswith("val"):
            truth["test"] = (pixels, labels - 1)
        else:
            truth["train"][0].append(pixels)
            truth["train"][1].append(labels - 1)
    truth["train"] = (np.concatenate(truth["train"][0]), np.concatenate(truth["train"][1]))
    return truth


def _bedroom(rng, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """A landscape image whose central square is one colour and whose side strips are another."""
    colour = rng.integers(0, 256, size=3, dtype=np.uint8)
    img = np.empty((height, width, 3), np.uint8)
    img[:] = 255 - colour
    left = (width - height) // 2
    img[:, left : left + height] = colour
    return img, colour


def make_lsun_folder(root, n: int = 4, seed: int = 0, split_dir: str = "bedroom_train") -> dict:
    """lsun/bedroom_train/<sub>/<id>.png, landscape 96×64 images (exported-folder layout)."""
    from PIL import Image

    rng = _rng(seed)
    colours = []
    for i in range(n):
        img, colour = _bedroom(rng, 96, 64)
        sub = Path(root) / "lsun" / split_dir / f"{i // 2}"  # sorted path order = index order
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(sub / f"{i:04d}.png")
        colours.append(colour)
    return {"colours": np.array(colours)}


def make_lsun_lmdb(root, n: int = 4, seed: int = 0, split: str = "train") -> dict:
    """lsun/bedroom_<split>_lmdb: keys -> encoded image bytes (LSUN's published format). Needs `lmdb`."""
    import lmdb
    from PIL import Image

    rng = _rng(seed)
    path = Path(root) / "lsun" / f"bedroom_{split}_lmdb"
    path.mkdir(parents=True, exist_ok=True)
    colours = []
    with lmdb.open(str(path), map_size=1 << 26) as env, env.begin(write=True) as txn:
        for i in range(n):
            img, colour = _bedroom(rng, 96, 64)
            buf = io.BytesIO()
            Image.fromarray(img).save(buf, format="PNG")
            txn.put(f"{i:040x}".encode(), buf.getvalue())
            colours.append(colour)
    return {"colours": np.array(colours)}


def make_binarized_mnist(root, sizes=None, seed: int = 0) -> dict:
    """binarized_mnist/binarized_mnist_{train,valid,test}.amat: one row of 784 space-separated 0/1 per image."""
    sizes = sizes or {"train": 6, "valid": 3, "test": 2}
    folder = Path(root) / "binarized_mnist"
    folder.mkdir(parents=True, exist_ok=True)
    rng = _rng(seed)
    truth = {}
    for split, n in sizes.items():
        bits = rng.integers(0, 2, size=(n, 784), dtype=np.uint8)
        (folder / f"binarized_mnist_{split}.amat").write_text(
            "".join(" ".join(map(str, row)) + "\n" for row in bits))
        truth[split] = bits.reshape(n, 1, 28, 28)
    return truth
