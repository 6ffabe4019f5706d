"""The gmm_modes task: smoke run, artifacts, exact resume after an interruption, divergence, bad config."""
import math

import pytest
import torch

from repro.runtime import Diverged, RunContext
from repro.tasks import gmm_modes
from interrupting import Interrupted, InterruptingContext


def cfg(method, **kw):
    base = {"method": method, "recipe": {"family": method}, "seed": 3, "steps": 12, "curve_every": 6, "batch_size": 32,
            "eval_samples": 3000, "saved_samples": 500, "plot_samples": 300,
            "model": {"hidden": 16, "z_dim": 4}, "data": {"n_per_side": 5, "spacing": 2.0, "std": 0.05}}
    base.update(kw)
    return base


def test_smoke_run_returns_the_three_metrics_and_artifacts(tmp_path):
    out = gmm_modes.run(cfg("sig", model={"hidden": 16, "z_dim": 4, "m": 16}), RunContext(tmp_path))
    assert set(out["metrics"]) == {"modes", "hq", "kl"}
    m = out["metrics"]
    assert 0 <= m["modes"] <= 25 and 0 <= m["hq"] <= 1 and m["kl"] >= 0 and math.isfinite(m["kl"])
    assert out["steps"] == 12
    assert (tmp_path / "samples.png").stat().st_size > 0
    saved = torch.load(tmp_path / "samples.pt")
    assert saved["samples"].shape == (500, 2) and saved["centers"].shape == (25, 2)


@pytest.mark.parametrize("method", ["unrolled-gan", "vae"])
def test_resume_after_interruption_is_exact(tmp_path, method):
    c = cfg(method)
    if method == "unrolled-gan":
        c["model"] = {**c["model"], "unroll_steps": 2}
    whole = gmm_modes.run(c, RunContext(tmp_path / "whole"))
    with pytest.raises(Interrupted):
        gmm_modes.run(c, InterruptingContext(tmp_path / "cut", checkpoint_every=5))
    torch.manual_seed(12345)  # the resumed run must not depend on the process's RNG state
    resumed = gmm_modes.run(c, RunContext(tmp_path / "cut", checkpoint_every=5))
    assert resumed["metrics"] == whole["metrics"]
    assert any("resumed from checkpoint at step 5" in n for n in resumed["notes"])
    a = torch.load(tmp_path / "whole" / "samples.pt")["samples"]
    b = torch.load(tmp_path / "cut" / "samples.pt")["samples"]
    assert torch.equal(a, b)


def test_nan_loss_raises_diverged(tmp_path, monkeypatch):
    from repro.core.toy.stacked import StackedToy

    monkeypatch.setattr(StackedToy, "_train_sig", lambda self, x, rngs: {"loss": torch.full((x.shape[0],), float("nan"))})
    with pytest.raises(Diverged, match="non-finite loss at step 1"):
        gmm_modes.run(cfg("sig"), RunContext(tmp_path))


def test_one_diverging_seed_leaves_the_others_of_its_group(tmp_path, monkeypatch):
    from repro.core.toy.stacked import StackedToy

    real = StackedToy._train_sig

    def nan_for_second_seed(self, x, rngs):
        out = real(self, x, rngs)
        out["loss"][1] = float("nan")
        return out

    monkeypatch.setattr(StackedToy, "_train_sig", nan_for_second_seed)
    cfgs = [cfg("sig", seed=s, model={"hidden": 16, "z_dim": 4, "m": 16}) for s in (0, 1, 2)]
    out = gmm_modes.run_group(cfgs, [RunContext(tmp_path / str(s)) for s in (0, 1, 2)])
    assert isinstance(out[1], Diverged) and out[1].step == 1
    assert set(out[0]["metrics"]) == set(out[2]["metrics"]) == {"modes", "hq", "kl"}


def _group(tmp, interrupt_at=None, seeds=(0, 1, 2)):
    """A group of three GAN seeds; ``interrupt_at``: the seed whose first checkpoint ends the process
    (seeds checkpoint in order, so 2 = after every seed's checkpoint, 0 = after seed 0's only)."""
    cfgs = [cfg("gan", seed=s, steps=12, curve_every=4) for s in seeds]
    ctxs = [(InterruptingContext if s == interrupt_at else RunContext)(tmp / str(s), checkpoint_every=5) for s in seeds]
    return gmm_modes.run_group(cfgs, ctxs)


def test_group_resumes_to_the_same_records(tmp_path):
    """Kill after every seed's checkpoint at step 5, resume: the same metrics, curve and samples."""
    whole = _group(tmp_path / "whole")
    with pytest.raises(Interrupted):
        _group(tmp_path / "cut", interrupt_at=2)
    torch.manual_seed(12345)
    resumed = _group(tmp_path / "cut")
    for w, r, s in zip(whole, resumed, (0, 1, 2)):
        assert r["metrics"] == w["metrics"] and r["curve"] == w["curve"]
        assert any("resumed from checkpoint at step 5" in n for n in r["notes"])
        assert torch.equal(torch.load(tmp_path / "whole" / str(s) / "samples.pt")["samples"],
                           torch.load(tmp_path / "cut" / str(s) / "samples.pt")["samples"])


def test_group_killed_between_seed_checkpoints_resumes_each_seed(tmp_path):
    """A kill after seed 0's checkpoint only: seed 0 resumes from step 5, seeds 1-2 start afresh, each
    to its uninterrupted record (to float rounding: the seeds now train in groups of other sizes)."""
    whole = _group(tmp_path / "whole")
    with pytest.raises(Interrupted):
        _group(tmp_path / "cut", interrupt_at=0)
    assert (tmp_path / "cut" / "0" / "checkpoint.pt").exists()
    assert not (tmp_path / "cut" / "1" / "checkpoint.pt").exists()
    resumed = _group(tmp_path / "cut")
    for w, r in zip(whole, resumed):
        assert r["metrics"] == pytest.approx(w["metrics"], rel=1e-4, abs=1e-4)
    assert any("resumed from checkpoint at step 5" in n for n in resumed[0]["notes"])
    assert not any("resumed" in n for n in resumed[1]["notes"])


def test_a_budget_on_the_curve_is_the_run_of_that_many_steps(tmp_path):
    """Constant learning rate, no run-time decision: the 40-step run's curve point at step 20 is the
    20-step run's final evaluation (same weights, same evaluation draws), bitwise on one machine."""
    long = gmm_modes.run(cfg("gan", steps=40, curve_every=5), RunContext(tmp_path / "long"))
    short = gmm_modes.run(cfg("gan", steps=20, curve_every=5), RunContext(tmp_path / "short"))
    assert [p["step"] for p in long["curve"]] == list(range(5, 45, 5))
    assert long["curve"][-1] == {"step": 40, **long["metrics"]}
    assert next(p for p in long["curve"] if p["step"] == 20) == {"step": 20, **short["metrics"]}
    assert long["curve"][:4] == short["curve"]


@pytest.mark.parametrize("key", ["converge", "lr_decay"])
def test_run_time_decisions_are_refused(tmp_path, key):
    with pytest.raises(ValueError, match=f"'{key}' is not supported: every run trains exactly 'steps' steps"):
        gmm_modes.run(cfg("gan", **{key: {"metric": "modes"}}), RunContext(tmp_path))


def test_std_axis_sets_data_and_likelihood_and_steps_by_std():
    assert gmm_modes.data_protocol({"std": 0.2, "data": {"std": 0.05}})["std"] == 0.2
    assert gmm_modes.data_protocol({"data": {"std": 0.05}})["std"] == 0.05
    assert gmm_modes.training_steps({"steps": {0.2: 20, "0.1": 40}}, 0.1) == 40
    assert gmm_modes.training_steps({"steps": 7}, 0.1) == 7
    with pytest.raises(ValueError, match="no entry for std 0.05"):
        gmm_modes.training_steps({"steps": {0.2: 20}}, 0.05)


def test_bad_config_messages(tmp_path):
    bad = cfg("sig")
    del bad["steps"]
    with pytest.raises(ValueError, match="config needs 'steps'"):
        gmm_modes.run(bad, RunContext(tmp_path))
    with pytest.raises(ValueError, match="'batch_size' must be an integer >= 1"):
        gmm_modes.run(cfg("sig", batch_size=0), RunContext(tmp_path))
    with pytest.raises(ValueError, match="unknown toy model 'dcgan'"):
        gmm_modes.run(cfg("dcgan", recipe={"family": "dcgan"}), RunContext(tmp_path))
