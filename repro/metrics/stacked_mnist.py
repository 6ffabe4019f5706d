"""Stacked-MNIST (MNIST-3) mode metrics of 004 §5.3 and Table 2.

An MNIST-3 image has three 28×28 digit images on its channels; its mode is the digit triple
(100·d₁ + 10·d₂ + d₃, 1000 modes). A digit classifier labels each channel.
- ``modes``: number of triples with at least one sample (004: "at least one sample");
- ``kl``: KL(P_g ‖ P_d), P_g the histogram of predicted triples, P_d uniform over 1000 (empty bins
  of P_g contribute 0);
- IS-style numbers (004 eq. 13), computed on the 3N channel images pooled as one set of digit images
  with 10 classes and one split (004 does not say how channels enter; pooling is our choice, and
  004's numbers satisfy IS ≈ exp H(y) / exp H(y|x), which holds for one split):
  ``is`` = exp(H(y) − E H(y|x)), ``exp_h_y_given_x`` = exp(E_x H(y|x)), ``exp_h_y`` = exp H(p̄(y)),
  ``hq`` = proportion of digit images whose top class probability exceeds 0.7.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ._checks import image_batch


@torch.no_grad()
def digit_probabilities(images: torch.Tensor, classifier: Callable, batch_size: int = 1000) -> torch.Tensor:
    """Class probabilities (float64, M×10) of M×1×28×28 digit images from a logits-returning classifier."""
    out = []
    for start in range(0, images.shape[0], batch_size):
        logits = classifier(images[start:start + batch_size])
        out.append(torch.as_tensor(logits).double().cpu().softmax(dim=1))
    return torch.cat(out)


def _device_of(classifier, default: torch.device) -> torch.device:
    params = list(classifier.parameters()) if isinstance(classifier, torch.nn.Module) else []
    return params[0].device if params else default


def stacked_mnist_metrics(samples, classifier: Callable, confidence: float = 0.7, num_modes: int = 1000,
                          batch_size: int = 1000) -> dict:
    """Metrics of N×3×28×28 samples in [-1, 1]; ``classifier`` maps B×1×28×28 (same range) to B×10 logits."""
    x = image_batch(samples, "stacked-MNIST samples")
    n, c = x.shape[:2]
    if c != 3:
        raise ValueError(f"stacked-MNIST samples must have 3 channels (one digit each); got {c}.")
    device = _device_of(classifier, x.device)
    digits = x.reshape(n * 3, 1, *x.shape[2:]).to(device)
    p = digit_probabilities(digits, classifier, batch_size)  # rows: sample 0 ch 0, 0/1, 0/2, 1/0, ...
    labels = p.argmax(dim=1).reshape(n, 3)
    triples = (labels[:, 0] * 100 + labels[:, 1] * 10 + labels[:, 2]).numpy()
    p_g = np.bincount(triples, minlength=num_modes) / n
    nz = p_g > 0
    kl = float(np.sum(p_g[nz] * np.log(p_g[nz] * num_modes)))
    plogp = torch.where(p > 0, p * p.log(), torch.zeros_like(p))
    h_y_given_x = float(-plogp.sum(dim=1).mean())
    marginal = p.mean(dim=0)
    h_y = float(-(marginal[marginal > 0] * marginal[marginal > 0].log()).sum())
    return {
        "modes": int(nz.sum()),
        "kl": kl,
        "is": float(np.exp(h_y - h_y_given_x)),
        "hq": float((p.max(dim=1).values > confidence).double().mean()),
        "exp_h_y_given_x": float(np.exp(h_y_given_x)),
        "exp_h_y": float(np.exp(h_y)),
        "num_samples": n,
    }
