"""benchmarks/bench_costs.py: the claims' ratios from step times (fake timings; nothing is timed here)."""
import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_costs.py"


def load():
    spec = importlib.util.spec_from_file_location("bench_costs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ratios_from_fake_timings():
    bench = load()
    t = {"mmd-rep": 2.2, "mmd-rbf": 2.0, "hinge": 1.1, "mmd-rep PIM": 2.0, "mmd-rep PIM, batch 66": 2.05,
         "mmd-rep PIM, batch 128": 3.6,
         "gan": 0.010, "vae": 0.020, "veegan": 0.025, "unrolled-gan": 0.080, "sig": 0.005}
    r = bench.cost_ratios(t)
    assert r["003 MMD-rep / MMD-rbf step"] == pytest.approx(1.1)
    assert r["003 MMD-rep / hinge step"] == pytest.approx(2.0)
    assert r["003 PICO / PIM step"] == pytest.approx(1.1)
    assert r["003 batch 128 / batch 64 step (PIM)"] == pytest.approx(1.8)
    assert r["003 (PICO - PIM) / (batch 128 - batch 64)"] == pytest.approx(0.2 / 1.6)  # PICO's extra vs doubling's
    assert r["003 (PICO - PIM) / (batch 66 - batch 64)"] == pytest.approx(0.2 / 0.05)  # vs two more samples
    assert [r[f"004 SIG / {m} step"] for m in ("gan", "vae", "veegan", "unrolled-gan")] == \
        pytest.approx([0.5, 0.25, 0.2, 0.0625])


def test_only_the_measured_ratios():
    r = load().cost_ratios({"sig": 1.0, "gan": 2.0})
    assert r == {"004 SIG / gan step": 0.5}


def test_a_difference_below_the_spread_is_not_resolved():
    bench = load()
    t = {"mmd-rep PIM": 2.0, "mmd-rep PIM, batch 66": 2.05, "mmd-rep PIM, batch 128": 3.6}
    spread = {"mmd-rep PIM": 0.08, "mmd-rep PIM, batch 66": 0.02, "mmd-rep PIM, batch 128": 0.1}
    assert bench.unresolved(t, spread) == ["003 (PICO - PIM) / (batch 66 - batch 64)"]  # 0.05 < 0.08; 1.6 > 0.1
