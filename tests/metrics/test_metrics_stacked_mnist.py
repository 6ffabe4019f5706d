"""stacked_mnist_metrics (004 §5.3, Table 2) with a known classifier: closed-form counts and entropies."""
import math

import numpy as np
import pytest
import torch

from repro.metrics import stacked_mnist_metrics

LEVELS = torch.linspace(-1, 1, 10)


class LevelClassifier(torch.nn.Module):
    """Reads the digit from a constant image's grey level; ``sharpness`` sets the confidence."""

    def __init__(self, sharpness):
        super().__init__()
        self.sharpness = sharpness

    def forward(self, x):
        return -self.sharpness * (x.mean(dim=(1, 2, 3))[:, None] - LEVELS[None, :]) ** 2


def _stacked(triples):
    t = torch.as_tensor(triples)
    return LEVELS[t][:, :, None, None].expand(-1, -1, 28, 28).contiguous()


def test_modes_kl_and_confident_scores():
    triples = [[1, 2, 3]] * 6 + [[4, 5, 6]] * 2 + [[7, 8, 9]] * 2
    got = stacked_mnist_metrics(_stacked(triples), LevelClassifier(1e5))
    assert got["modes"] == 3
    p = np.array([0.6, 0.2, 0.2])
    assert got["kl"] == pytest.approx(float(np.sum(p * np.log(p * 1000))), rel=1e-12)
    # Pooled channel labels: 1,2,3 six times each, 4..9 twice each → p(y) over 9 digits.
    py = np.array([6, 6, 6, 2, 2, 2, 2, 2, 2]) / 30
    h_y = -float(np.sum(py * np.log(py)))
    assert got["exp_h_y"] == pytest.approx(math.exp(h_y), rel=1e-9)
    assert got["exp_h_y_given_x"] == pytest.approx(1.0, abs=1e-9)
    assert got["is"] == pytest.approx(math.exp(h_y), rel=1e-9)
    assert got["hq"] == 1.0 and got["num_samples"] == 10


def test_uncertain_classifier_lowers_quality():
    triples = [[d, d, d] for d in range(10)]
    logits = LevelClassifier(1.0)(_stacked(triples)[:, :1])
    p = logits.double().softmax(1)
    h = -(p * p.log()).sum(1).mean()
    got = stacked_mnist_metrics(_stacked(triples), LevelClassifier(1.0))
    assert got["exp_h_y_given_x"] == pytest.approx(float(h.exp()), rel=1e-9)
    assert got["hq"] == float((p.max(1).values > 0.7).double().mean())
    assert got["is"] == pytest.approx(got["exp_h_y"] / got["exp_h_y_given_x"], rel=1e-9)


def test_bad_input_errors():
    with pytest.raises(ValueError, match="3 channels"):
        stacked_mnist_metrics(torch.zeros(2, 1, 28, 28), LevelClassifier(1.0))
    with pytest.raises(ValueError, match=r"\[-1, 1\] is expected"):
        stacked_mnist_metrics(torch.full((2, 3, 28, 28), 5.0), LevelClassifier(1.0))
