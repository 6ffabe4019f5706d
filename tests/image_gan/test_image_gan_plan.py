"""repro plan: run counts, per-run cost model, CLI parser."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from repro.plan import DEFAULT_GPU_SPEEDUP, add_parser, estimate, measure_extractor, measure_step, plan_rows
from repro.spec import load_spec

JOBS_DIR = Path(__file__).resolve().parents[2] / "jobs"


def test_plan_rows_follow_the_paper_protocol(monkeypatch):
    monkeypatch.setattr("repro.plan._reference_cached", lambda extractor: False)  # every run scores its reference
    rows = plan_rows(load_spec(JOBS_DIR / "kernelnet-table2.yaml"), "paper")
    assert len(rows) == 8 * 4 * 5  # methods × datasets × seeds
    # every run scores 50K real images once, 2K generated per evaluation every 2K steps, 100K at the end
    # (50K on CelebA, 000 §4.1)
    assert {r["images"] - 50000 - r["steps"] // 2000 * 2000 for r in rows} == {100000, 50000}
    assert {r["images"] - 50000 - r["steps"] // 2000 * 2000 for r in rows if r["resolution"] == 160} == {50000}
    by = {(r["arch"], r["resolution"]) for r in rows}
    assert by == {("dcgan", 32), ("dcgan", 48), ("cnn5-resnet", 160), ("resnet", 64)}  # 000 §4.1
    wgan = [r for r in rows if r["n_dis"] == 5]
    assert len(wgan) == 5 * 4 * 5  # 000 §4.1: 150K steps, 200K on ImageNet
    assert all(r["steps"] == (200000 if (r["arch"], r["resolution"]) == ("resnet", 64) else 150000) for r in wgan)
    # Rep-GAN, Rep-GAN-DK, CR-GAN: 200K, 300K on STL-10 and ImageNet (000 §4.1)
    assert sum(r["steps"] == 200000 for r in rows if r["n_dis"] == 1) == 3 * 2 * 5
    assert sum(r["steps"] == 300000 for r in rows) == 3 * 2 * 5
    table1 = plan_rows(load_spec(JOBS_DIR / "repulsive-table1.yaml"), "paper")
    assert len(table1) == 7 * 4 * 16 + 4  # 16 learning-rate pairs per loss; real data pinned to one
    real = [r for r in table1 if r["steps"] == 0]
    assert len(real) == 4 and {r["images"] for r in real} == {2 * 50000}  # two disjoint real halves


def test_cached_reference_features_are_counted_once_per_dataset(monkeypatch):
    monkeypatch.setattr("repro.plan._reference_cached", lambda extractor: True)  # calibrated: cached on disk
    rows = plan_rows(load_spec(JOBS_DIR / "kernelnet-table2.yaml"), "paper")
    assert sum(r["images"] - r["generated"] for r in rows) == 4 * 50000  # one 50K reference per dataset


def test_estimate_arithmetic():
    rows = [{"arch": "a", "resolution": 32, "batch_size": 64, "steps": 100, "n_dis": 5, "extractor": "x", "images": 30},
            {"arch": "a", "resolution": 32, "batch_size": 64, "steps": 10, "n_dis": 1, "extractor": "x", "images": 20},
            {"arch": "a", "resolution": 32, "batch_size": 64, "steps": 0, "n_dis": 1, "extractor": "x", "images": 8}]
    timings = {("a", 32, 64): {"t_d": 2.0, "t_g": 3.0}}
    est = estimate(rows, timings, {("x", 32): 0.5}, gpu_speedup=10)
    want = 100 * (5 * 2 + 3) + 10 * (2 + 3) + 0.5 * (30 + 20 + 8)
    assert est["runs"] == 3
    assert est["eval_seconds"] == pytest.approx(29.0)
    assert est["cpu_hours"] == pytest.approx(want / 3600)
    assert est["gpu_hours"] == pytest.approx(want / 3600 / 10)


def test_measure_step_is_positive_on_a_tiny_net():
    t = measure_step("resnet", 32, 2, width=4, repeats=1)
    assert t["t_d"] > 0 and t["t_g"] > 0
    assert measure_extractor("random-inception", 8, batch=2) > 0


def test_parser_defaults():
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["plan", "table2"])
    assert args.scale == "paper" and args.gpu_speedup == DEFAULT_GPU_SPEEDUP and callable(args.func)
