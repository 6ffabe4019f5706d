"""The stacked-MNIST task's training curve (004 Table 2 job): points at the stated steps, training untouched
by them (weights, Adam moments and batch-norm statistics bitwise equal), and kept across a resume."""
import pytest
import torch

from repro.metrics.classifier import DigitClassifier
from repro.runtime import RunContext
from repro.spec import expand, find_job
from repro.tasks import stacked_mnist
from interrupting import Interrupted, InterruptingContext


@pytest.fixture
def tiny(monkeypatch):
    """Smoke config of sig-table2 on random images; an untrained classifier, the same at every load, built
    after ``torch.manual_seed`` (as training the real one when not cached reseeds the global RNG); and the
    last model built, kept for inspection."""
    models = []

    class KeptGANSI(stacked_mnist.GANSI):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            models.append(self)

    monkeypatch.setattr(stacked_mnist, "GANSI", KeptGANSI)
    def classifier(name, device):
        torch.manual_seed(0)
        return DigitClassifier().eval(), None

    monkeypatch.setattr(stacked_mnist, "_classifier", classifier)
    images = torch.rand(64, 3, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    monkeypatch.setattr(stacked_mnist, "_images", lambda source, root=None: images)
    run = next(r for r in expand(find_job("sig-table2"), "smoke")
               if r.config.get("method") == "dcgan-si" and r.config.get("size") == "S")
    cfg = dict(run.config, data_source=run.config.get("dataset_substitute") or run.config["dataset"],
               steps=5, batch_size=8, eval_samples=64, curve_samples=48)
    cfg.pop("curve_every", None)  # the smoke scale's own curve: each test says whether it wants one
    return cfg, models


def _state(model) -> dict:
    """Every tensor training changes: weights, batch-norm running statistics, Adam moments."""
    out = {f"g.{k}": v for k, v in model.generator.state_dict().items()}
    out.update({f"d.{k}": v for k, v in model.discriminator.state_dict().items()})
    for name, opt in (("opt_g", model.opt_g), ("opt_d", model.opt_d)):
        for i, st in enumerate(opt.state.values()):
            out.update({f"{name}.{i}.{k}": v for k, v in st.items() if torch.is_tensor(v)})
    return out


def _scores(out) -> dict:
    return {k: out["metrics"][k] for k in stacked_mnist.METRICS}  # (the untrained classifier's accuracy is NaN)


def test_curve_points_at_the_stated_steps(tmp_path, tiny):
    cfg, _ = tiny
    out = stacked_mnist.run(dict(cfg, curve_every=2), RunContext(tmp_path / "a"))
    assert [p["step"] for p in out["curve"]] == [2, 4, 5]  # every 2 steps and the last one
    for point in out["curve"]:
        assert set(point) == {"step", *stacked_mnist.METRICS}
        assert 1 <= point["modes"] <= cfg["curve_samples"] and point["kl"] >= 0
    assert any("curve" in n and "48 samples" in n for n in out["notes"])
    assert "curve" not in stacked_mnist.run(cfg, RunContext(tmp_path / "b"))  # no curve_every: no curve


def test_curve_leaves_training_bitwise_unchanged(tmp_path, tiny):
    cfg, models = tiny
    plain = stacked_mnist.run(cfg, RunContext(tmp_path / "plain"))
    without = _state(models[-1])
    curved = stacked_mnist.run(dict(cfg, curve_every=1), RunContext(tmp_path / "curve"))
    with_curve = _state(models[-1])
    assert len(curved["curve"]) == cfg["steps"]
    assert set(without) == set(with_curve) and any(k.startswith("opt_g") for k in without)
    assert any("running_mean" in k for k in without)  # batch-norm statistics are compared too
    for k in without:
        assert torch.equal(without[k], with_curve[k]), k
    assert _scores(plain) == _scores(curved)  # the final samples come from the same global stream


def test_curve_point_noise_depends_on_seed_and_step_only():
    a, b = stacked_mnist._curve_rng(0, 1000), stacked_mnist._curve_rng(0, 1000)
    assert torch.equal(torch.randn(4, generator=a), torch.randn(4, generator=b))
    assert not torch.equal(torch.randn(4, generator=stacked_mnist._curve_rng(0, 2000)),
                           torch.randn(4, generator=stacked_mnist._curve_rng(1, 1000)))


def test_resume_keeps_the_curve(tmp_path, tiny):
    cfg, _ = tiny
    cfg = dict(cfg, steps=6, curve_every=2)
    whole = stacked_mnist.run(cfg, RunContext(tmp_path / "whole"))
    with pytest.raises(Interrupted):  # killed after the checkpoint at step 4 (points 2 and 4 taken)
        stacked_mnist.run(cfg, InterruptingContext(tmp_path / "cut", checkpoint_every=4))
    resumed = stacked_mnist.run(cfg, RunContext(tmp_path / "cut", checkpoint_every=4))
    assert any("resumed from checkpoint at step 4" in n for n in resumed["notes"])
    assert resumed["curve"] == whole["curve"] and [p["step"] for p in whole["curve"]] == [2, 4, 6]
    assert _scores(resumed) == _scores(whole)


@pytest.mark.parametrize("key, value", [("curve_every", -1), ("curve_every", 1.5), ("curve_samples", 0)])
def test_bad_curve_config_is_refused(tmp_path, tiny, key, value):
    cfg, _ = tiny
    with pytest.raises(ValueError, match=key):
        stacked_mnist.run({**cfg, "curve_every": 2, key: value}, RunContext(tmp_path))
