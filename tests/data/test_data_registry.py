"""Registry contents, data-root resolution, errors, stand-ins, and the `data` CLI."""
import argparse
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from repro.data import DATASETS, DatasetMissing, data_root, get_dataset, get_sampler, get_spec
from repro.data import cli as data_cli

_spec = importlib.util.spec_from_file_location("repro_test_data_fixtures", Path(__file__).with_name("fixtures.py"))
fx = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fx)

REQUIRED = {"cifar10", "stl10", "celeba64", "celeba160", "imagenet64", "lsun-bedroom64", "mnist", "binarized-mnist",
            "stacked-mnist", "gmm-grid", "gmm-ring", "ring-noise", "laplace", "gmm-1d", "negative-binomial",
            "poisson-nb-mixture", "gmm-uneven", "digits", "digits32", "stacked-digits", "binarized-digits"}


def test_every_dataset_of_the_issue_is_registered():
    assert REQUIRED <= set(DATASETS)


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("REPRO_DATA", str(tmp_path / "env"))
    assert data_root(tmp_path / "flag") == tmp_path / "flag"
    assert data_root() == tmp_path / "env"
    monkeypatch.delenv("REPRO_DATA")
    assert data_root() == Path.home() / ".cache" / "repro" / "data"


def test_env_root_is_used_by_get_dataset(monkeypatch, tmp_path):
    fx.make_mnist(tmp_path, n_train=3)
    monkeypatch.setenv("REPRO_DATA", str(tmp_path))
    assert len(get_dataset("mnist")) == 3


def test_stand_ins_are_flagged_and_real_sets_are_not():
    for name in ("digits", "digits32", "stacked-digits", "binarized-digits"):
        assert DATASETS[name].stand_in and DATASETS[name].stand_in_for
        assert all(target in DATASETS and not DATASETS[target].stand_in for target in DATASETS[name].stand_in_for)
    for name in ("cifar10", "mnist", "stacked-mnist", "binarized-mnist", "gmm-grid"):
        assert not DATASETS[name].stand_in


@pytest.mark.parametrize("name", [n for n, s in DATASETS.items() if s.kind == "image" and not s.on_disk and s.source is None])
def test_stand_in_items_match_their_spec(name):
    spec = DATASETS[name]
    ds = get_dataset(name, "train")
    x, y = ds[0]
    assert tuple(x.shape) == spec.shape
    images = torch.stack([ds[i][0] for i in range(0, len(ds), 50)])
    if spec.values == "{0, 1}":
        assert set(images.unique().tolist()) <= {0.0, 1.0}
    else:
        assert images.min() >= -1 and images.max() <= 1 and images.min() < -0.99
    assert 0 <= y < spec.num_classes
    assert len(ds) + len(get_dataset(name, "test")) == 1797


def test_digits_are_sklearn_digits_upsampled():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x, y = get_dataset("digits", "test")[5]
    assert y == bunch.target[1500 + 5]
    # average-pooling the 28×28 image back to 7×7-ish blocks must correlate with the 8×8 original
    small = torch.nn.functional.adaptive_avg_pool2d(x[None], 8)[0, 0].flatten().numpy()
    assert np.corrcoef(small, bunch.images[1505].flatten())[0, 1] > 0.9


def test_stacked_digits_have_all_three_channel_digits_in_label():
    from sklearn.datasets import load_digits

    targets = load_digits().target[:1500]
    ds = get_dataset("stacked-digits")
    labels = [ds[i][1] for i in range(len(ds))]
    assert len(set(labels)) > 600  # 1500 draws from 1000 modes cover about 78% of them
    # label digits are the classes of the stacked source digits
    triples = ds.triples[:20].numpy()
    for t, lab in zip(triples, labels[:20]):
        assert lab == 100 * targets[t[0]] + 10 * targets[t[1]] + targets[t[2]]


def test_binarized_digits_are_fixed():
    a = get_dataset("binarized-digits")[3][0]
    b = get_dataset("binarized-digits")[3][0]
    assert torch.equal(a, b)


def test_unknown_name_and_split_are_value_errors():
    with pytest.raises(ValueError, match="known datasets"):
        get_dataset("cifar-10")
    with pytest.raises(ValueError, match="splits"):
        get_dataset("digits", "valid")
    with pytest.raises(ValueError, match="get_sampler"):
        get_dataset("gmm-grid")
    with pytest.raises(ValueError, match="get_dataset"):
        get_sampler("cifar10")


def run_cli(argv):
    parser = argparse.ArgumentParser(prog="repro")
    data_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_list_shows_missing_present_and_verified(tmp_path, capsys, monkeypatch):
    from repro.data import binarized_mnist

    fx.make_cifar10(tmp_path)
    sizes = {"train": 5, "valid": 3, "test": 2}
    fx.make_binarized_mnist(tmp_path, sizes=sizes)
    monkeypatch.setattr(binarized_mnist, "EXPECTED_ROWS", sizes)  # published sizes scaled down to the fixture
    assert run_cli(["data", "list", "--root", str(tmp_path)]) == 0
    rows = {r["name"]: r for r in data_cli.dataset_rows(tmp_path)}
    assert rows["cifar10"]["status"] == "present, unverified"
    assert rows["mnist"]["status"] == "missing" and rows["mnist"]["comes from"] == str(tmp_path / "MNIST" / "raw")
    assert rows["digits"]["kind"] == "stand-in"
    out = capsys.readouterr().out
    assert "cifar10" in out and str(tmp_path) in out
    # the fixture's random bytes fail CIFAR-10's md5; a binarized MNIST of the expected size passes the count
    verified = {r["name"]: r["status"] for r in data_cli.dataset_rows(tmp_path, verify=True)}
    assert verified["cifar10"] == "FAILED verification"
    assert verified["binarized-mnist"] == "verified"
    assert {r["name"]: r["status"] for r in data_cli.dataset_rows(tmp_path)}["binarized-mnist"] == "verified"


def test_cli_prepare_reports_errors_in_one_line(tmp_path, capsys):
    assert run_cli(["data", "prepare", "no-such-set", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown dataset") and err.count("\n") == 1
    fx.make_binarized_mnist(tmp_path)  # present (no download attempted) but too small to verify
    assert run_cli(["data", "prepare", "binarized-mnist", "--root", str(tmp_path)]) == 1
    assert "NOT verified" in capsys.readouterr().out


def test_imagenet64_prepare_without_files_names_the_manual_step(tmp_path):
    with pytest.raises(DatasetMissing, match="cannot be downloaded automatically"):
        get_spec("imagenet64").preparer(tmp_path)


@pytest.mark.parametrize("name", ["digits32", "stacked-digits"])
def test_sequence_indexing(name):
    ds = get_dataset(name, "test")
    torch.testing.assert_close(ds[-1][0], ds[len(ds) - 1][0])
    assert ds[-1][1] == ds[len(ds) - 1][1]
    with pytest.raises(IndexError):
        ds[len(ds)]
