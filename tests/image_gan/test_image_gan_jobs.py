"""Every image-GAN job spec: valid, every grid method resolves, and one smoke run per job goes through
``repro.worker.execute`` on the real-format fixtures (feature extractor stubbed: see conftest)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from repro.core.image_gan import resolve_recipe
from repro.spec import expand, load_spec
from repro.tasks.image_gan import _per_method
from repro.worker import execute

JOBS_DIR = Path(__file__).resolve().parents[2] / "jobs"
JOBS = ["kernelnet-table1", "kernelnet-table2", "repulsive-table1", "repulsive-fig3", "repulsive-figS2",
        "repulsive-tableS3", "repulsive-tableS4", "repulsive-tableS5", "repulsive-fig4", "sig-table3"]
# the smoke run each job exercises: (method, dataset, axes subset)
PICK = {
    "kernelnet-table1": ("rep-gan-dk", "cifar10", {}),  # DK kernel, n_dis 1 (cheapest DK run)
    "kernelnet-table2": ("cr-gan", "cifar10", {}),
    "repulsive-table1": ("mmd-rep-b", "cifar10", {}),
    "repulsive-fig3": ("mmd-lambda-rbf-b", "cifar10", {"lambda": 0.5, "lr_d": 5.0e-4, "lr_g": 1.0e-4}),
    "repulsive-figS2": ("mmd-rep", "cifar10", {"spectral": "pico-64", "lr_d": 1.0e-4, "lr_g": 2.0e-4}),
    "repulsive-tableS3": ("hinge", "cifar10", {"spectral": "pico"}),
    "repulsive-tableS4": ("mmd-rep-gp", "cifar10", {}),
    "repulsive-tableS5": ("mmd-rep-4", "cifar10", {}),
    "repulsive-fig4": ("mmd-rep", "cifar10", {}),
    "sig-table3": ("wgan-gp-si", "cifar10", {}),
}


def _spec(job):
    return load_spec(JOBS_DIR / f"{job}.yaml")


def _pick(job):
    method, dataset, axes = PICK[job]
    runs = [r for r in expand(_spec(job), "smoke") if r.method == method and r.dataset == dataset
            and all(r.config["axes"].get(k) == v for k, v in axes.items())]
    assert runs, f"{job}: no smoke run for {PICK[job]}"
    return runs[0].config


@pytest.mark.parametrize("job", JOBS)
def test_spec_valid_and_every_method_resolves(job):
    spec = _spec(job)
    for scale in ("smoke", "cpu", "paper"):
        runs = expand(spec, scale)
        assert runs
        for run in runs[:: max(1, len(runs) // 50)]:
            recipe = resolve_recipe(run.config)
            assert recipe["family"] == "image-gan"
    paper = expand(spec, "paper")[0].config
    assert paper["batch_size"] == 64  # 000 §4.1, 003 §5.1, 004 §5.4
    for run in expand(spec, "smoke"):  # a per-method paper length must never leak into the smoke scale
        steps = _per_method(run.config, "steps")["steps"]
        assert isinstance(steps, int) and steps <= 2, (run.method, steps)


@pytest.fixture
def fixture_root(tmp_path, monkeypatch, data_fixtures):
    root = tmp_path / "data"
    data_fixtures.make_cifar10(root)  # 40 training images, 3×32×32
    monkeypatch.setenv("REPRO_DATA", str(root))
    return root


@pytest.mark.parametrize("job", JOBS)
def test_smoke_run_through_worker(job, tmp_path, fixture_root, stub_extractor):
    cfg = _pick(job)
    out = execute(cfg, str(tmp_path / "results"), device="cpu")
    assert out["status"] == "ok", out
    folder = tmp_path / "results" / job / out["key"]
    record = json.loads((folder / "record.json").read_text())
    assert record["status"] == "ok" and record["data_source"] == "cifar10" and not record["stand_in"]
    assert record["uncalibrated"] is True  # stub features are not Inception's
    for metric in _spec(job).metric_names:
        assert math.isfinite(record["metrics"][metric]), (job, metric, record["metrics"])
    assert (folder / "samples.png").exists()
    assert any(folder.glob("samples_step*.png"))
    if job == "repulsive-fig4":
        saved = torch.load(folder / "d_outputs.pt")
        assert saved["outputs"].shape == (16, 16) and saved["labels"].shape == (16,)


def test_real_data_row_and_stand_in(tmp_path, monkeypatch, stub_extractor):
    monkeypatch.setenv("REPRO_DATA", str(tmp_path / "empty"))  # CIFAR-10 absent: digits32 stands in
    cfg = [r.config for r in expand(_spec("repulsive-tableS5"), "smoke") if r.method == "real-data"][0]
    out = execute(cfg, str(tmp_path / "results"), device="cpu")
    record = json.loads((tmp_path / "results" / "repulsive-tableS5" / out["key"] / "record.json").read_text())
    assert record["status"] == "ok" and record["data_source"] == "digits32" and record["stand_in"]
    assert record["steps"] == 0 and set(record["metrics"]) >= {"is", "fid"}
