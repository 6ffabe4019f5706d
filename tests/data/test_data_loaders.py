"""The real loaders read tiny files written in each dataset's real on-disk format."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from repro.data import DatasetMissing, get_dataset

# Loaded by path: a stray site-packages "tests" package can shadow this tree, and a bare "fixtures"
# module name could clash with another test area's.
_spec = importlib.util.spec_from_file_location("repro_test_data_fixtures", Path(__file__).with_name("fixtures.py"))
fx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fx)


def signed(pixels: np.ndarray) -> torch.Tensor:
    """Independent reference for the [-1, 1] scaling: x / 127.5 - 1 in float64."""
    return torch.from_numpy(pixels.astype(np.float64) / 127.5 - 1.0)


def all_items(ds):
    images, labels = zip(*(ds[i] for i in range(len(ds))))
    return torch.stack(images), list(labels)


def test_cifar10_pickle_batches(tmp_path):
    truth = fx.make_cifar10(tmp_path)
    for split in ("train", "test"):
        ds = get_dataset("cifar10", split, root=tmp_path)
        pixels, labels = truth[split]
        assert len(ds) == len(pixels)
        x, y = all_items(ds)
        assert x.shape == (len(pixels), 3, 32, 32) and x.dtype == torch.float32
        torch.testing.assert_close(x.double(), signed(pixels), atol=1e-6, rtol=0)
        assert y == labels.tolist()


def test_cifar10_batched_fetch_matches_single_items(tmp_path):
    fx.make_cifar10(tmp_path)
    ds = get_dataset("cifar10", root=tmp_path)
    loader = torch.utils.data.DataLoader(ds, batch_size=7, shuffle=False)
    x, y = next(iter(loader))
    ref_x, ref_y = all_items(ds)
    torch.testing.assert_close(x, ref_x[:7])
    assert y.tolist() == ref_y[:7]


def test_stl10_binaries_unlabeled_plus_train_at_48(tmp_path):
    truth = fx.make_stl10(tmp_path)
    ds = get_dataset("stl10", "train", root=tmp_path)
    pixels = np.concatenate([truth["train"][0], truth["unlabeled"][0]])
    assert len(ds) == len(pixels) == 12
    x, y = all_items(ds)
    assert x.shape == (12, 3, 48, 48)
    assert x.min() >= -1 and x.max() <= 1
    # reference: PIL's antialiased bilinear resize, channel by channel in float mode
    ref = np.stack([[np.asarray(Image.fromarray(ch.astype(np.float32), mode="F").resize((48, 48), Image.BILINEAR))
                     for ch in img] for img in pixels])
    torch.testing.assert_close(x.double(), signed(ref.round().clip(0, 255)), atol=1.01 / 127.5, rtol=0)
    assert y == truth["train"][1].tolist() + [-1] * 7
    test = get_dataset("stl10", "test", root=tmp_path)
    assert len(test) == 4 and all_items(test)[1] == truth["test"][1].tolist()


def test_mnist_idx_files(tmp_path):
    truth = fx.make_mnist(tmp_path)
    for split in ("train", "test"):
        ds = get_dataset("mnist", split, root=tmp_path)
        x, y = all_items(ds)
        assert x.shape == (len(truth[split][0]), 1, 28, 28)
        torch.testing.assert_close(x.double(), signed(truth[split][0]), atol=1e-6, rtol=0)
        assert y == truth[split][1].tolist()


@pytest.mark.parametrize("name,size", [("celeba64", 64), ("celeba160", 160)])
def test_celeba_folder_centre_crop_then_resize(tmp_path, name, size):
    truth = fx.make_celeba(tmp_path)
    ds = get_dataset(name, "train", root=tmp_path)
    assert len(ds) == 7  # train = every image, as the papers use the whole set
    x, y = all_items(ds)
    assert x.shape == (7, 3, size, size) and y == [-1] * 7
    # a correct centre crop sees only the inner colour of each face
    ref = signed(truth["inner"]).view(7, 3, 1, 1).expand(7, 3, size, size)
    torch.testing.assert_close(x.double(), ref, atol=1e-6, rtol=0)
    assert len(get_dataset(name, "valid", root=tmp_path)) == 2
    assert len(get_dataset(name, "test", root=tmp_path)) == 2


def test_imagenet64_npz_batches_and_converted_memmap(tmp_path):
    from repro.data.imagenet64 import convert_imagenet64

    truth = fx.make_imagenet64(tmp_path)
    for split in ("train", "test"):
        ds = get_dataset("imagenet64", split, root=tmp_path)
        x, y = all_items(ds)
        assert x.shape == (len(truth[split][0]), 3, 64, 64)
        torch.testing.assert_close(x.double(), signed(truth[split][0]), atol=1e-6, rtol=0)
        assert y == truth[split][1].tolist() and min(y) >= 0 and max(y) <= 999
    assert convert_imagenet64(tmp_path, "train") == 23
    for f in (tmp_path / "imagenet64").glob("train_data_batch_*.npz"):
        f.unlink()  # the converted file alone must suffice
    x, y = all_items(get_dataset("imagenet64", "train", root=tmp_path))
    torch.testing.assert_close(x.double(), signed(truth["train"][0]), atol=1e-6, rtol=0)


def test_lsun_image_folder_resize_then_centre_crop(tmp_path):
    truth = fx.make_lsun_folder(tmp_path)
    x, y = all_items(get_dataset("lsun-bedroom64", root=tmp_path))
    assert x.shape == (4, 3, 64, 64) and y == [-1] * 4
    ref = signed(truth["colours"]).view(4, 3, 1, 1).expand(4, 3, 64, 64)
    # the centre crop keeps only the central square (edge pixels may blend with the strips when resizing)
    torch.testing.assert_close(x[..., :, 2:-2].double(), ref[..., :, 2:-2], atol=1e-6, rtol=0)


def test_lsun_lmdb(tmp_path):
    pytest.importorskip("lmdb", reason="the optional `lmdb` package reads LSUN's LMDB; not installed here")
    truth = fx.make_lsun_lmdb(tmp_path)
    ds = get_dataset("lsun-bedroom64", root=tmp_path)
    x, y = all_items(ds)
    assert x.shape == (4, 3, 64, 64)
    ref = signed(truth["colours"]).view(4, 3, 1, 1).expand(4, 3, 64, 64)
    torch.testing.assert_close(x[..., :, 2:-2].double(), ref[..., :, 2:-2], atol=1e-6, rtol=0)


def test_binarized_mnist_amat(tmp_path):
    truth = fx.make_binarized_mnist(tmp_path)
    for split in ("train", "valid", "test"):
        x, y = all_items(get_dataset("binarized-mnist", split, root=tmp_path))
        assert x.shape == (len(truth[split]), 1, 28, 28)
        torch.testing.assert_close(x.double(), torch.from_numpy(truth[split]).double())
        assert y == [-1] * len(truth[split])


def test_dynamic_binarization_draws_bernoulli_of_grey_level(tmp_path):
    fx.make_mnist(tmp_path, n_train=2)
    ds = get_dataset("binarized-mnist-dynamic", root=tmp_path)
    grey = (get_dataset("mnist", root=tmp_path)[0][0].double() + 1) / 2
    torch.manual_seed(0)
    draws = torch.stack([ds[0][0] for _ in range(400)]).double()
    assert set(draws.unique().tolist()) <= {0.0, 1.0}
    assert not torch.equal(draws[0], draws[1])  # a fresh draw per access
    # mean of 400 Bernoulli draws within 5 standard errors of the grey level, pixel-wise
    se = (grey * (1 - grey) / 400).sqrt().clamp_min(1e-3)
    assert ((draws.mean(0) - grey).abs() <= 5 * se + 1e-9).all()


def test_labelled_binarization_is_fixed_bernoulli_of_grey_level_with_mnist_labels(tmp_path):
    truth = fx.make_mnist(tmp_path)
    for split in ("train", "test"):
        pixels, labels = truth[split]
        x, y = all_items(get_dataset("binarized-mnist-labelled", split, root=tmp_path))
        assert y == list(labels) and set(x.unique().tolist()) <= {0.0, 1.0}
        again, _ = all_items(get_dataset("binarized-mnist-labelled", split, root=tmp_path))
        assert torch.equal(x, again)  # one fixed draw: same bits on every load (no arithmetic involved)
        # independent reference: the same seeded Bernoulli draw of grey/255
        gen = torch.Generator().manual_seed(0 if split == "train" else 1)
        ref = torch.bernoulli(torch.from_numpy(pixels).float() / 255.0, generator=gen)
        assert torch.equal(x, ref)


def test_stacked_mnist_labels_are_the_three_digits(tmp_path):
    truth = fx.make_mnist(tmp_path)
    pixels, labels = truth["train"]
    ds = get_dataset("stacked-mnist", root=tmp_path)
    assert len(ds) == len(pixels)
    for i in range(len(ds)):
        x, y = ds[i]
        assert x.shape == (3, 28, 28)
        # find each channel's source digit by exact match and rebuild the label independently
        channels = ((x.double() + 1) * 127.5).round().numpy().astype(np.uint8)
        sources = [int(np.flatnonzero((pixels[:, 0] == channels[c]).all(-1).all(-1))[0]) for c in range(3)]
        assert y == 100 * labels[sources[0]] + 10 * labels[sources[1]] + labels[sources[2]]


@pytest.mark.parametrize("name", ["cifar10", "stl10", "celeba64", "celeba160", "imagenet64", "lsun-bedroom64",
                                  "mnist", "binarized-mnist", "binarized-mnist-dynamic", "binarized-mnist-labelled",
                                  "stacked-mnist"])
def test_missing_dataset_is_one_clear_error(tmp_path, name):
    with pytest.raises(DatasetMissing) as err:
        get_dataset(name, root=tmp_path)
    message = str(err.value)
    assert f"'{name}'" in message and str(tmp_path) in message
    assert f"repro data prepare {name} --root DIR" in message
    assert isinstance(err.value, FileNotFoundError)
