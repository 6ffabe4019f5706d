"""Inception Score against torch-fidelity and closed forms."""
import numpy as np
import pytest
import torch
from torch_fidelity.metric_isc import isc_features_to_metric

from repro.metrics import inception_score


def test_matches_torch_fidelity_without_shuffle():
    logits = np.random.default_rng(0).standard_normal((1000, 30)) * 3
    ref = isc_features_to_metric(torch.from_numpy(logits), splits=10, shuffle=False)
    mean, std = inception_score(logits, splits=10)
    assert mean == pytest.approx(ref["inception_score_mean"], rel=1e-12)
    assert std == pytest.approx(ref["inception_score_std"], rel=1e-9)


def test_uneven_split_sizes_match_torch_fidelity():
    logits = torch.randn(103, 7, generator=torch.Generator().manual_seed(1))
    ref = isc_features_to_metric(logits, splits=4, shuffle=False)
    assert inception_score(logits, splits=4)[0] == pytest.approx(ref["inception_score_mean"], rel=1e-6)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_confident_predictions_spread_evenly_over_k_classes_give_k(k):
    labels = np.arange(k * 5 * 4) % k  # every split holds each class equally often
    logits = np.full((len(labels), 12), -1e4)
    logits[np.arange(len(labels)), labels] = 1e4
    mean, std = inception_score(logits, splits=4)
    assert mean == pytest.approx(k, rel=1e-12)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_identical_logits_give_one():
    logits = np.tile(np.random.default_rng(2).standard_normal(9), (50, 1))
    assert inception_score(logits, splits=5)[0] == pytest.approx(1.0, abs=1e-12)


def test_bad_input_errors():
    with pytest.raises(ValueError, match="splits"):
        inception_score(np.zeros((5, 3)), splits=10)
    with pytest.raises(ValueError, match="NaN or inf"):
        inception_score(np.array([[0.0, np.nan]] * 10), splits=2)
