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
    from repro.core.toy import SIG

    monkeypatch.setattr(SIG, "train_step", lambda self, x: {"loss": float("nan")})
    with pytest.raises(Diverged, match="non-finite loss at step 1"):
        gmm_modes.run(cfg("sig"), RunContext(tmp_path))


def test_bad_config_messages(tmp_path):
    bad = cfg("sig")
    del bad["steps"]
    with pytest.raises(ValueError, match="config needs 'steps'"):
        gmm_modes.run(bad, RunContext(tmp_path))
    with pytest.raises(ValueError, match="'batch_size' must be an integer >= 1"):
        gmm_modes.run(cfg("sig", batch_size=0), RunContext(tmp_path))
    with pytest.raises(ValueError, match="unknown toy model 'dcgan'"):
        gmm_modes.run(cfg("dcgan", recipe={"family": "dcgan"}), RunContext(tmp_path))
