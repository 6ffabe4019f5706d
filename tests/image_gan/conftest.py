"""Fixtures for the image-GAN tests: a cheap stand-in feature extractor (the Inception network costs
seconds per image batch on 2 CPU cores; the metric numerics are tested in tests/metrics), and the
real-format dataset fixtures of tests/data/fixtures.py loaded by path."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch


class StubExtractor:
    """Fixed random projection of 8×8-pooled images: 'pool' 32-D, 'logits' 10-D."""

    def __init__(self, calibrated: bool = False):
        self.name, self.calibrated = "stub", calibrated
        g = torch.Generator().manual_seed(0)
        self.w_pool = torch.randn(3 * 64, 32, generator=g)
        self.w_logit = torch.randn(3 * 64, 10, generator=g)

    def __call__(self, images, batch_size: int = 50):
        x = torch.as_tensor(images).float()
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        f = torch.nn.functional.adaptive_avg_pool2d(x, 8).flatten(1)
        return {"pool": (f @ self.w_pool).numpy().astype(np.float32), "logits": (f @ self.w_logit).numpy()}


@pytest.fixture
def stub_extractor(monkeypatch):
    from repro.metrics import evaluator as evaluation

    made = {}

    def resolve(name, device):
        made["name"] = name
        return StubExtractor(calibrated=False)

    monkeypatch.setattr(evaluation, "resolve_extractor", resolve)
    monkeypatch.setattr(evaluation, "calibration_note", lambda ex: None if ex.calibrated else "stub: uncalibrated")
    evaluation._REAL_CACHE.clear()
    yield made
    evaluation._REAL_CACHE.clear()


@pytest.fixture(scope="session")
def data_fixtures():
    path = Path(__file__).resolve().parents[1] / "data" / "fixtures.py"
    spec = importlib.util.spec_from_file_location("repro_test_data_fixtures_image_gan", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
