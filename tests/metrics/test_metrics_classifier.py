"""The suite's digit classifier: trains on the offline digits set, caches, loads; CLI wiring."""
import argparse

import pytest
import torch

from repro.metrics import load_classifier, train_classifier
from repro.metrics.classifier import accuracy, classifier_path
from repro.metrics.cli import add_parser


def test_train_cache_and_load_digits(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_CACHE", str(tmp_path))
    path = train_classifier("digits", epochs=2, progress=lambda *_: None)
    assert path == classifier_path("digits") and path.is_file()
    model = load_classifier("digits")
    from repro.data import get_dataset
    ds = get_dataset("digits", split="test")
    x = torch.stack([ds[i][0] for i in range(len(ds))])
    y = torch.tensor([ds[i][1] for i in range(len(ds))])
    acc = accuracy(model, x, y)
    assert acc == pytest.approx(model.test_accuracy)
    assert acc > 0.5  # 10 classes: chance is 0.1 (2 epochs on 1,500 images)


def test_missing_classifier_names_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_CACHE", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="repro metrics train-classifier mnist"):
        load_classifier("mnist")
    with pytest.raises(ValueError, match="no classifier recipe"):
        train_classifier("cifar10")


def test_cli_group_parses_train_classifier():
    parser = argparse.ArgumentParser(prog="repro")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["metrics", "train-classifier", "digits", "--epochs", "2"])
    assert (args.dataset, args.epochs, args.device) == ("digits", 2, "cpu") and callable(args.func)
    with pytest.raises(SystemExit):
        parser.parse_args(["metrics", "train-classifier", "cifar10"])
