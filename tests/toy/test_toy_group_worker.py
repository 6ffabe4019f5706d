"""Seed groups end to end: the launcher groups runs that differ only in their seed (when the job asks),
the worker trains them as one stacked model and writes one record per seed; a killed worker process
resumes to the same records."""
import json

import pytest
import torch

from repro import store
from repro.launch import expected_cost, longest_first, run_fraction, seed_groups, shown_progress
from repro.spec import run_key
from repro.worker import execute, execute_group


def cfg(seed, method="vae", **kw):
    base = {"job": "toy-group", "task": "gmm_modes", "method": method, "recipe": {"family": method},
            "dataset": "gmm-grid", "scale": "smoke", "axes": {"std": 0.2}, "std": 0.2, "seed": seed,
            "steps": 25, "batch_size": 32, "eval_samples": 2000, "saved_samples": 100, "plot_samples": 100,
            "curve_every": 5, "checkpoint_every": 10, "batch_seeds": True,
            "model": {"hidden": 16, "z_dim": 4}, "data": {"n_per_side": 5, "spacing": 2.0}}
    base.update(kw)
    return base


def test_seed_groups_only_when_the_job_asks():
    runs = [cfg(s) for s in range(3)] + [cfg(s, method="sig") for s in range(2)]
    assert [len(u) for u in seed_groups(runs)] == [3, 2]
    plain = [dict(c, batch_seeds=False) for c in runs]
    assert [len(u) for u in seed_groups(plain)] == [1] * 5


def test_units_start_longest_first_by_their_cost():
    """Two workers, units of 5 × cost 1.6, 5 × 1.2, 5 × 1.0, 5 × 0.55 and 5 × 0.25 (sig-table1's gan, vae,
    veegan, unrolled-gan, sig): in the spec's order the last long unit starts late; longest first,
    the greedy schedule's busiest worker has 1.6 + 0.55 + 0.25 = 2.4 (× 5), the optimum here."""
    costs = {"gan": 0.55, "vae": 1.0, "veegan": 1.2, "unrolled-gan": 1.6, "sig": 0.25}
    runs = [cfg(s, method=m, cost=c) for m, c in costs.items() for s in range(5)]
    order = [u[0]["method"] for u in longest_first(seed_groups(runs))]
    assert order == ["unrolled-gan", "veegan", "vae", "gan", "sig"]

    def makespan(units):
        loads = [0.0, 0.0]
        for u in units:
            loads[loads.index(min(loads))] += sum(c["cost"] for c in u)
        return max(loads)
    assert makespan(longest_first(seed_groups(runs))) == pytest.approx(5 * 2.4)
    assert makespan(seed_groups(runs)) == pytest.approx(5 * (1.0 + 1.6))
    # without costs every run weighs 1: bigger groups first, the rest in their order
    plain = [cfg(0, method="a"), cfg(0, method="b"), cfg(1, method="b")]
    assert [u[0]["method"] for u in longest_first(seed_groups(plain))] == ["b", "a"]


def test_units_are_weighed_by_cost_times_the_steps_of_their_std():
    """sig-table1's steps per std (40k at 0.2, 80k at 0.1): a unit's weight is its cost × the steps the spec
    gives its std, so the VAE at std 0.1 (1.03 · 80k) goes before the Unrolled GAN at std 0.2 (1.66 · 40k)."""
    costs = {"vae": 1.03, "unrolled-gan": 1.66}
    steps = {0.2: 40000, 0.1: 80000}
    runs = [cfg(s, method=m, cost=c, steps=steps, axes={"std": std}, std=std)
            for m, c in costs.items() for std in (0.2, 0.1) for s in range(5)]
    assert expected_cost(runs[0]) == pytest.approx(1.03 * 40000)
    assert expected_cost(runs[5]) == pytest.approx(1.03 * 80000)
    order = [(u[0]["method"], u[0]["std"]) for u in longest_first(seed_groups(runs))]
    assert order == [("unrolled-gan", 0.1), ("vae", 0.1), ("unrolled-gan", 0.2), ("vae", 0.2)]


def test_group_writes_one_record_per_seed_and_skips_done_ones(tmp_path):
    results = tmp_path / "results"
    outs = execute_group([cfg(s) for s in range(3)], str(results))
    assert [o["status"] for o in outs] == ["ok"] * 3
    recs = [store.read_record(store.record_path(results, "toy-group", run_key(cfg(s)))) for s in range(3)]
    assert [r["seed"] for r in recs] == [0, 1, 2]
    assert all(len(r["curve"]) == 5 and r["curve"][-1]["step"] == 25 for r in recs)
    samples = [torch.load(store.run_dir(results, "toy-group", r["key"]) / "samples.pt")["samples"] for r in recs]
    assert not torch.equal(samples[0], samples[1]) and not torch.equal(samples[1], samples[2])  # three seeds
    assert [o["status"] for o in execute_group([cfg(s) for s in range(4)], str(results))] == ["skipped"] * 3 + ["ok"]
    assert execute(cfg(1), str(results))["status"] == "skipped"


def test_killed_group_resumes_to_the_uninterrupted_records(tmp_path, worker_subprocess):
    """Killed (os._exit) when a run writes its 2nd checkpoint: after the three seeds' step-10 checkpoints,
    at seed 0's step-20 one. The rerun resumes seed 0 from 20 and seeds 1-2 from 10, apart, and every record
    matches the uninterrupted group's (to float rounding: the seeds then train in groups of 1 and 2)."""
    group = [cfg(s) for s in range(3)]
    cfg_file = tmp_path / "group.json"
    cfg_file.write_text(json.dumps(group))
    cut, clean = tmp_path / "cut", tmp_path / "clean"
    killed = worker_subprocess(cfg_file, cut, stop_after=2)
    assert killed.returncode == 75, killed.stderr
    assert not any((cut / "toy-group").glob("*/record.json"))
    assert worker_subprocess(cfg_file, cut).returncode == 0
    assert worker_subprocess(cfg_file, clean).returncode == 0
    for c in group:
        a = store.read_record(store.record_path(cut, "toy-group", run_key(c)))
        b = store.read_record(store.record_path(clean, "toy-group", run_key(c)))
        assert a["resumed"] and not b["resumed"]
        step = 20 if c["seed"] == 0 else 10
        assert any(f"resumed from checkpoint at step {step}" in n for n in a["notes"])
        for k in ("modes", "hq", "kl"):
            assert abs(a["metrics"][k] - b["metrics"][k]) <= 1e-4 * max(1.0, abs(b["metrics"][k]))
        assert [p["step"] for p in a["curve"]] == [p["step"] for p in b["curve"]]


def test_progress_of_a_run_whose_length_grows(tmp_path):
    """72k of 80k steps, then the converge rule doubles the length: the bar shows 72k/160k, not a stale 0.9;
    a late read of an older progress file never moves it back while the total stays."""
    (tmp_path / store.PROGRESS).write_text(json.dumps({"step": 72000, "total": 80000}))
    shown = shown_progress(None, run_fraction(tmp_path))
    assert shown == (0.9, 80000)
    assert shown_progress(shown, (0.5, 80000)) == (0.9, 80000)
    (tmp_path / store.PROGRESS).write_text(json.dumps({"step": 72100, "total": 160000}))
    shown = shown_progress(shown, run_fraction(tmp_path))
    assert shown[1] == 160000 and abs(shown[0] - 72100 / 160000) < 1e-12
    (tmp_path / store.RECORD).write_text("{}")
    assert shown_progress(shown, run_fraction(tmp_path))[0] == 1.0
