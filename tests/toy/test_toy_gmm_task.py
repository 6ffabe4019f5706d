"""The gmm_modes task: smoke run, artifacts, exact resume after an interruption, divergence, bad config."""
import math

import pytest
import torch

from repro.runtime import Diverged, RunContext
from repro.tasks import gmm_modes


def cfg(method, **kw):
    base = {"method": method, "recipe": {"family": method}, "seed": 3, "steps": 12, "batch_size": 32,
            "eval_samples": 3000, "saved_samples": 500, "plot_samples": 300,
            "model": {"hidden": 16, "z_dim": 4}, "data": {"n_per_side": 5, "spacing": 2.0, "std": 0.05}}
    base.update(kw)
    return base


class Interrupted(Exception):
    pass


class InterruptingContext(RunContext):
    """Stops the run right after its first checkpoint, like a kill (in-process, without os._exit)."""

    def save_checkpoint(self, state):
        super().save_checkpoint(state)
        raise Interrupted


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
    cfgs = [cfg("gan", seed=s, steps=12, curve_points=3) for s in seeds]
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


class InterruptingAt(RunContext):
    """Stops the run after its checkpoint at ``step`` (a kill)."""

    def __init__(self, *args, step, **kw):
        super().__init__(*args, **kw)
        self.kill_step = step

    def save_checkpoint(self, state):
        super().save_checkpoint(state)
        if state["step"] == self.kill_step:
            raise Interrupted


DECAY = {"at": 0.9, "factor": 0.1}


def test_converge_doubles_a_moving_run_into_the_plain_run_of_its_final_length(tmp_path):
    """KL moves at every evaluation, so tolerance 0 always extends: 10 -> 20 -> 40 steps (the cap,
    4 × 10), decided at steps 9 and 18. Constant lr until 36, decay to 40: the plain 40-step run."""
    moving = cfg("gan", steps=10, curve_points=2, lr_decay=DECAY,
                 converge={"metric": "kl", "window": 0.5, "tolerance": 0.0, "max_factor": 4})
    out = gmm_modes.run(moving, RunContext(tmp_path / "converge"))
    plain = gmm_modes.run(cfg("gan", steps=40, curve_points=8, lr_decay=DECAY), RunContext(tmp_path / "plain"))
    assert out["steps"] == 40
    assert out["metrics"] == pytest.approx(plain["metrics"], rel=1e-6, abs=1e-9)
    assert [p["step"] for p in out["curve"]] == [5, 9, 10, 15, 18, 20, 25, 30, 35, 40]
    note = next(n for n in out["notes"] if n.startswith("trained until converged"))
    assert "at step 9;" in note and "at step 18;" in note  # at the cap the test is made for the notes only:
    assert note.endswith("after the decay at step 40 -> 40 steps (the cap; still moving)")


def test_converge_keeps_the_base_length_when_the_curve_is_flat(tmp_path):
    flat = cfg("gan", steps=10, curve_points=2, lr_decay=DECAY, converge={"metric": "modes", "tolerance": 25})
    out = gmm_modes.run(flat, RunContext(tmp_path / "flat"))
    plain = gmm_modes.run(cfg("gan", steps=10, curve_points=2, lr_decay=DECAY), RunContext(tmp_path / "plain"))
    assert out["steps"] == 10 and out["metrics"] == plain["metrics"]
    assert any(n.endswith("at step 9; +0.0 after the decay at step 10 -> 10 steps") for n in out["notes"])


def scripted_change(moving_at: set[int]):
    """A stand-in for the rule's statistic: +5 where the curves end at a step in ``moving_at`` (moving),
    else 0 (settled); a function of the curves alone, so a resumed run sees the same values."""
    def change(curves, metric, window):
        return 5.0 if curves and curves[0][-1]["step"] in moving_at else 0.0
    return change


def test_converge_goes_back_before_the_decay_when_the_decay_moved_the_metric(tmp_path, monkeypatch):
    """Settled at step 18 (before the decay), moving after it at step 20: training returns to step 18 and
    runs at constant lr to 40 (decay from 36): the plain 40-step run, curve and all."""
    monkeypatch.setattr(gmm_modes, "mean_late_change", scripted_change({20}))
    c = cfg("gan", steps=20, curve_points=4, lr_decay=DECAY, converge={"metric": "modes", "max_factor": 4})
    out = gmm_modes.run(c, RunContext(tmp_path / "converge"))
    plain = gmm_modes.run(cfg("gan", steps=40, curve_points=8, lr_decay=DECAY), RunContext(tmp_path / "plain"))
    assert out["steps"] == 40
    assert out["metrics"] == pytest.approx(plain["metrics"], rel=1e-6, abs=1e-9)
    assert [p["step"] for p in out["curve"]] == [5, 10, 15, 18, 20, 25, 30, 35, 36, 40]
    a = torch.load(tmp_path / "converge" / "samples.pt")["samples"]
    b = torch.load(tmp_path / "plain" / "samples.pt")["samples"]
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)  # float32 samples of the same weights
    note = next(n for n in out["notes"] if n.startswith("trained until converged"))
    assert note.endswith("+0.0 at step 18; +5.0 after the decay at step 20; +0.0 at step 36; "
                         "+0.0 after the decay at step 40 -> 40 steps")


def test_converge_resumes_inside_the_decay_to_the_same_record(tmp_path, monkeypatch):
    """Killed at step 19, inside the decay, whose way back (step 18) the checkpoint keeps."""
    monkeypatch.setattr(gmm_modes, "mean_late_change", scripted_change({20}))
    c = lambda s: cfg("gan", seed=s, steps=20, curve_points=4, lr_decay=DECAY, converge={"metric": "modes"})
    for w, r in whole_and_resumed(tmp_path, c, every=19, kill_step=19):
        assert r["steps"] == w["steps"] == 40
        assert r["metrics"] == w["metrics"] and r["curve"] == w["curve"]
        assert any("resumed from checkpoint at step 19" in n for n in r["notes"])


def whole_and_resumed(tmp_path, make_cfg, every: int, kill_step: int) -> list[tuple[dict, dict]]:
    """Two seeds trained as one group uninterrupted, and again killed after the checkpoint at ``kill_step``
    (seed 1's write; seed 0's is done) and resumed: [(whole, resumed)] per seed."""
    cfgs = [make_cfg(0), make_cfg(1)]
    whole = gmm_modes.run_group(cfgs, [RunContext(tmp_path / "whole" / str(s)) for s in (0, 1)])
    with pytest.raises(Interrupted):
        gmm_modes.run_group(cfgs, [RunContext(tmp_path / "cut" / "0", checkpoint_every=every),
                                   InterruptingAt(tmp_path / "cut" / "1", checkpoint_every=every, step=kill_step)])
    resumed = gmm_modes.run_group(cfgs, [RunContext(tmp_path / "cut" / str(s), checkpoint_every=every) for s in (0, 1)])
    return list(zip(whole, resumed))


def test_converge_resumes_after_a_kill_past_an_extension(tmp_path):
    """Killed at step 15, after the length doubled at step 9: the resumed group goes on to 40 steps too."""
    c = lambda s: cfg("gan", seed=s, steps=10, curve_points=2, lr_decay=DECAY,
                      converge={"metric": "kl", "window": 0.5, "tolerance": 0.0, "max_factor": 4})
    for w, r in whole_and_resumed(tmp_path, c, every=5, kill_step=15):
        assert r["steps"] == w["steps"] == 40
        assert r["metrics"] == w["metrics"] and r["curve"] == w["curve"]
        assert any("resumed from checkpoint at step 15" in n for n in r["notes"])


def test_converge_rule_is_checked():
    assert gmm_modes.converge_rule({}) is None
    assert gmm_modes.converge_rule({"converge": {"metric": "modes"}}) == {
        "metric": "modes", "window": 0.2, "tolerance": 1.0, "max_factor": 4}
    with pytest.raises(ValueError, match="converge.metric must be one of"):
        gmm_modes.converge_rule({"converge": {"metric": "fid"}})
    with pytest.raises(ValueError, match="0 < window < 1"):
        gmm_modes.converge_rule({"converge": {"metric": "kl", "window": 1.5}})
    assert gmm_modes.decision_step(80000, DECAY) == 72000 and gmm_modes.decision_step(80, None) == 80


def test_std_axis_sets_data_and_likelihood_and_steps_by_std():
    assert gmm_modes.data_protocol({"std": 0.2, "data": {"std": 0.05}})["std"] == 0.2
    assert gmm_modes.data_protocol({"data": {"std": 0.05}})["std"] == 0.05
    assert gmm_modes.training_steps({"steps": {0.2: 20, "0.1": 40}}, 0.1) == 40
    assert gmm_modes.training_steps({"steps": 7}, 0.1) == 7
    with pytest.raises(ValueError, match="no entry for std 0.05"):
        gmm_modes.training_steps({"steps": {0.2: 20}}, 0.05)
    assert [gmm_modes.lr_scale(s, 10, {"at": 0.9, "factor": 0.1}) for s in (1, 9, 10)] == [1.0, 1.0, 0.1]


def test_bad_config_messages(tmp_path):
    bad = cfg("sig")
    del bad["steps"]
    with pytest.raises(ValueError, match="config needs 'steps'"):
        gmm_modes.run(bad, RunContext(tmp_path))
    with pytest.raises(ValueError, match="'batch_size' must be an integer >= 1"):
        gmm_modes.run(cfg("sig", batch_size=0), RunContext(tmp_path))
    with pytest.raises(ValueError, match="unknown toy model 'dcgan'"):
        gmm_modes.run(cfg("dcgan", recipe={"family": "dcgan"}), RunContext(tmp_path))
