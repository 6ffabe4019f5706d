"""Trainer: exact resume after an interruption, divergence detection, sample grids, LR scaling."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from repro.core.image_gan import ImageGAN, TrainSettings, train
from repro.data import get_dataset
from repro.metrics.evaluator import Evaluator
from repro.runtime import Diverged, RunContext
from interrupting import Interrupted, InterruptingContext

RECIPE = {"family": "image-gan", "loss": "mmd", "lambda": 1.0, "kernel": "rbf1", "bounded": True, "out_dim": 4,
          "lipschitz": "pim", "noise": "uniform", "n_dis": 2, "betas": [0.5, 0.999]}


_DIGITS = []


def _digits():
    if not _DIGITS:
        _DIGITS.append(get_dataset("digits32"))
    return _DIGITS[0]


def _setup(recipe=RECIPE):
    torch.manual_seed(0)
    ds = _digits()
    real = torch.stack([ds[i][0] for i in range(16)])
    gan = ImageGAN(recipe, "resnet", 32, 3, 2e-4, 2e-4, "cpu", example_real=real, width=4)  # tiny: speed only
    return ds, real, gan


def _run(run_dir: Path, ctx_cls=RunContext, steps=4, lr_decay=False, **kw):
    ds, real, gan = _setup(kw.pop("recipe", RECIPE))
    ev = Evaluator(real, "stub", "cpu", kid_subsets=2, kid_subset_size=8, is_splits=2)
    settings = TrainSettings(steps=steps, batch_size=4, eval_every=2, eval_samples=8, final_samples=8,
                             metrics=("fid", "kid"), seed=3, **kw)
    ctx = ctx_cls(run_dir=run_dir, checkpoint_every=2)
    return gan, train(gan, ds, ev, settings, ctx, lr_decay=ev.lr_decay() if lr_decay else None)


def test_resumed_run_equals_uninterrupted(tmp_path, stub_extractor):
    gan_a, res_a = _run(tmp_path / "a", lr_decay=True)
    with pytest.raises(Interrupted):
        _run(tmp_path / "b", InterruptingContext, lr_decay=True)
    assert (tmp_path / "b" / "checkpoint.pt").exists()
    torch.manual_seed(12345)  # a fresh process would start from other RNG states: resume must restore them
    gan_b, res_b = _run(tmp_path / "b", lr_decay=True)
    assert any("resumed from checkpoint at step 2" in n for n in res_b["notes"])
    for name, mod in gan_a.modules().items():
        sa, sb = mod.state_dict(), gan_b.modules()[name].state_dict()
        assert sa.keys() == sb.keys()
        for k in sa:
            assert torch.allclose(sa[k].float(), sb[k].float(), atol=1e-6, rtol=0), f"{name}.{k} differs"
    assert res_a["metrics"] == pytest.approx(res_b["metrics"], abs=1e-6)


def test_sample_grids_written_at_each_evaluation(tmp_path, stub_extractor):
    _run(tmp_path)
    from PIL import Image

    for step in (2, 4):
        path = tmp_path / f"samples_step{step:07d}.png"
        assert path.exists()
        w, h = Image.open(path).size
        assert w == h and w >= 8 * 32  # 8×8 grid of 32×32 images


def test_nan_loss_raises_diverged(tmp_path, stub_extractor):
    ds, real, gan = _setup()
    with torch.no_grad():
        next(gan.G.parameters()).fill_(float("nan"))
    ev = Evaluator(real, "stub", "cpu", kid_subsets=2, kid_subset_size=8)
    with pytest.raises(Diverged, match="non-finite loss at step 1") as info:
        train(gan, ds, ev, TrainSettings(steps=3, batch_size=4, eval_samples=8, final_samples=8), RunContext(tmp_path))
    assert info.value.step == 1


def test_fid_above_threshold_raises_diverged_at_the_end_with_the_fid(tmp_path, stub_extractor):
    with pytest.raises(Diverged, match="final FID .* above the divergence threshold") as info:
        _run(tmp_path, fid_threshold=0.0, threshold_needs_calibration=False)
    assert info.value.step == 4 and info.value.metrics["fid"] > 0  # not at the step-2 checkpoint


@pytest.mark.parametrize("checkpoints,final,diverged", [
    ([70.0, 120.0, 48.0], 45.0, False),          # noisy early FIDs above τ = 50: the run finished well
    ([30.0, 35.0, 40.0], 55.0, True),            # the reported FID is above τ
    ([30.0, float("nan"), 40.0], 20.0, True),    # NaN at a checkpoint is divergence at once
    ([30.0, float("inf")], 20.0, True),
    ([60.0, 60.0], 50.0, False),                 # τ is a strict bound
])
def test_tau_rule_on_a_hand_made_evaluation_history(checkpoints, final, diverged):
    from repro.core.image_gan.trainer import divergence

    reasons = [divergence(f, 50.0, final=False) for f in checkpoints] + [divergence(final, 50.0, final=True)]
    assert any(reasons) == diverged
    if diverged and math.isfinite(min(checkpoints)) and all(math.isfinite(f) for f in checkpoints):
        assert reasons[-1] and "final FID" in reasons[-1]


def test_threshold_ignored_for_uncalibrated_features(tmp_path, stub_extractor):
    # τ is an FID on real Inception features: with uncalibrated features it must not fire
    _, res = _run(tmp_path, steps=2, fid_threshold=0.0, threshold_needs_calibration=True)
    assert math.isfinite(res["metrics"]["fid"])


def test_lr_scale_applies_to_every_optimiser_and_kernel_ratio():
    recipe = {"family": "image-gan", "loss": "kernelnet", "variant": "rep", "kernel": "dk", "out_dim": 16,
              "lipschitz": "pim", "noise": "uniform", "n_dis": 1, "kernel_lr_ratio": 0.5}
    _, _, gan = _setup(recipe)
    assert gan.opt_k.param_groups[0]["lr"] == pytest.approx(0.5 * 2e-4)  # 000 §4.1: half the generator's
    gan.set_lr_scale(0.8)
    assert gan.opt_g.param_groups[0]["lr"] == pytest.approx(1.6e-4)
    assert gan.opt_d.param_groups[0]["lr"] == pytest.approx(1.6e-4)
    assert gan.opt_k.param_groups[0]["lr"] == pytest.approx(0.8e-4)


def test_n_dis_discriminator_updates_per_generator_update(stub_extractor):
    ds, real, gan = _setup()  # n_dis = 2
    calls = {"d": 0, "g": 0}
    d_loss, g_loss = gan.objective.d_loss, gan.objective.g_loss
    gan.objective.d_loss = lambda *a: (calls.__setitem__("d", calls["d"] + 1), d_loss(*a))[1]
    gan.objective.g_loss = lambda *a: (calls.__setitem__("g", calls["g"] + 1), g_loss(*a))[1]
    g0 = [p.detach().clone() for p in gan.G.parameters()]
    batches = iter([real[i:i + 4] for i in range(0, 16, 4)])
    gan.train_step(lambda: next(batches), torch.Generator().manual_seed(0))
    assert calls == {"d": 2, "g": 1}
    assert any(not torch.equal(a, b) for a, b in zip(g0, gan.G.parameters()))
