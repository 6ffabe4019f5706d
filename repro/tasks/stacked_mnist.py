"""Task of 004 Table 2: DCGAN vs DCGAN-SI on stacked MNIST (MNIST-3) at network sizes S, M, L.

``run(cfg, ctx)`` reads:
  cfg['recipe']['si']          true for DCGAN-SI (004 Alg. 1), false for DCGAN
  cfg['size']                  S, M or L (004 §5.3: (K_g, K_d) = (1, 0.5), (1, 1), (2, 1)); a grid axis
  cfg['data_source']           stacked-mnist, or the stacked-digits stand-in (set by the worker)
  cfg['steps'], cfg['batch_size'], cfg['lr'], cfg['betas'], cfg['sigma'], cfg['lam'] (null: same-scale rule)
  cfg['eval_samples']          generated images scored by the suite's digit classifier
  cfg['curve_every']           optional: a curve point every this many steps and at the last step (0/absent: none)
  cfg['curve_samples']         generated images per curve point (default CURVE_SAMPLES)
  cfg['classifier']            classifier recipe: 'mnist', 'mnist-5k' or 'digits' (default: the one trained on
                               the training split of the digits the stacked set is built from)
Returns the metrics of ``repro.metrics.stacked_mnist.stacked_mnist_metrics``: is, hq, exp_h_y_given_x,
exp_h_y, modes, kl, and with ``curve_every`` a ``curve``: [{"step", is, hq, ..., kl}, ...]. The classifier is
trained once and cached when missing (``repro.metrics.classifier``).

Curve points leave training untouched: their noise comes from a generator seeded by (seed, step), never
the global stream; batch norm is in eval mode (running statistics read, not updated); the classifier is
loaded with every RNG state saved and restored. A run trains bitwise the same with or without a curve.
Every point, the last included, uses ``curve_samples`` images, so the curve is one series; the record's
metrics use ``eval_samples`` and their mode counts are not comparable with the curve's in absolute value.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch

from repro.core.gan_si import GANSI
from repro.core.nets.mnist3 import build_mnist3
from repro.metrics.stacked_mnist import stacked_mnist_metrics
from repro.runtime import Diverged, rng_state, seed_everything, set_rng_state

PROGRESS_EVERY = 50
CLASSIFIER_FOR = {"stacked-mnist": "mnist", "stacked-mnist-5k": "mnist-5k", "stacked-digits": "digits"}
METRICS = ("is", "hq", "exp_h_y_given_x", "exp_h_y", "modes", "kl")
# A tenth of the final 26,000 (VEEGAN/PacGAN's count): a point then costs about a tenth of the final
# evaluation, and 2,600 draws from 1,000 equally likely triples still reach ~926 of them (1000·(1 - e^-2.6)),
# so the curve resolves mode counts up to the paper's M/L cells; its counts sit below a 26,000-sample count.
CURVE_SAMPLES = 2600
CURVE_STREAM = 2_718_281  # keeps the curve's noise seeds apart from other streams seeded by the run's seed


def _int(cfg: dict, key: str, minimum: int = 1) -> int:
    value = cfg.get(key)
    if not isinstance(value, int) or value < minimum:
        raise ValueError(f"stacked_mnist: '{key}' must be an integer >= {minimum} in the job config, got {value!r}")
    return value


def _images(source: str, root=None) -> torch.Tensor:
    from repro.data import get_dataset

    ds = get_dataset(source, split="train", root=root)
    loader = torch.utils.data.DataLoader(ds, batch_size=4096, shuffle=False)
    return torch.cat([x for x, _ in loader])


def _classifier(name: str, device):
    from repro.metrics.classifier import load_classifier, train_classifier

    try:
        return load_classifier(name, device), None
    except FileNotFoundError:
        train_classifier(name, progress=lambda msg: print(msg) if "accuracy" in msg else None)
        return load_classifier(name, device), f"trained the '{name}' digit classifier (was not cached)"


@contextmanager
def _rng_preserved():
    """Run a block without moving any global RNG (python, numpy, torch, CUDA) of the training loop."""
    state = rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


def _curve_rng(seed: int, step: int) -> torch.Generator:
    """The noise stream of the curve point at ``step``: a function of (seed, step) only."""
    entropy = np.random.SeedSequence([CURVE_STREAM, seed, step]).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(entropy[0]) << 32 | int(entropy[1]))


def curve_point(model: GANSI, classifier, n: int, seed: int, step: int, device) -> dict:
    """{"step", *METRICS} of ``n`` images generated with the (seed, step) noise stream."""
    samples = model.sample(n, device, rng=_curve_rng(seed, step))
    if not torch.isfinite(samples).all():
        raise Diverged("generated images contain NaN or inf", step=step)
    scores = stacked_mnist_metrics(samples, classifier)
    return {"step": step, **{k: float(scores[k]) for k in METRICS}}


def _curve_config(cfg: dict) -> tuple[int, int]:
    every = cfg.get("curve_every") or 0
    samples = cfg.get("curve_samples", CURVE_SAMPLES)
    for key, value in (("curve_every", every), ("curve_samples", samples)):
        if not isinstance(value, int) or value < 0 or (key == "curve_samples" and value < 1):
            raise ValueError(f"stacked_mnist: '{key}' must be a positive integer (curve_every 0: no curve), "
                             f"got {value!r}")
    return every, samples


def save_grid(samples: torch.Tensor, path, title: str, n: int = 64) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from torchvision.utils import make_grid

    grid = make_grid(samples[:n].clamp(-1, 1) * 0.5 + 0.5, nrow=8, padding=1).permute(1, 2, 0).numpy()
    fig, ax = plt.subplots(figsize=(4, 4.3))
    ax.imshow(grid)
    ax.set_axis_off()
    ax.set_title(title, fontsize=8)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


class _Classifier:
    """The digit classifier, loaded on first use with every global RNG left as it was (building, or
    training when not cached, draws from them)."""

    def __init__(self, name: str, device):
        self.name, self.device, self._loaded = name, device, None

    def get(self):
        if self._loaded is None:
            with _rng_preserved():
                self._loaded = _classifier(self.name, self.device)
        return self._loaded[0]

    @property
    def note(self) -> str | None:
        return self._loaded[1] if self._loaded else None


def _train(model: GANSI, data, cfg: dict, ctx, clf: _Classifier, every: int,
           n_curve: int) -> tuple[int, dict, list[dict]]:
    """Train ``cfg['steps']`` steps (resuming from a checkpoint), a curve point of ``n_curve`` images every
    ``every`` steps (0: none); returns (resumed step, last losses, curve)."""
    steps, batch_size, seed = cfg["steps"], cfg["batch_size"], int(cfg.get("seed", 0))
    data_rng = torch.Generator().manual_seed(seed + 1_000_003)
    curve: list[dict] = []

    def load(state: dict) -> None:
        model.load_state(state)
        curve[:] = state.get("curve", [])

    start = ctx.resume_training(load, data_rng)
    parts: dict[str, float] = {}
    for step in range(start + 1, steps + 1):
        idx = torch.randint(len(data), (batch_size,), generator=data_rng)
        parts = model.train_step(data[idx].to(ctx.device))
        if every and (step % every == 0 or step == steps):  # before the checkpoint that keeps it
            curve.append(curve_point(model, clf.get(), n_curve, seed, step, ctx.device))
            ctx.progress(step, steps, modes=curve[-1]["modes"], kl=curve[-1]["kl"])
        ctx.after_step(step, steps, parts, lambda: {**model.state(), "curve": list(curve)}, data_rng,
                       PROGRESS_EVERY)
    return start, parts, curve


def run(cfg: dict, ctx) -> dict:
    steps = _int(cfg, "steps", 0)
    batch_size = _int(cfg, "batch_size")
    eval_samples = _int(cfg, "eval_samples")
    curve_every, curve_samples = _curve_config(cfg)
    size = cfg.get("size", "M")
    use_sig = bool((cfg.get("recipe") or {}).get("si", False))
    source = cfg.get("data_source") or cfg["dataset"]
    seed = int(cfg.get("seed", 0))
    seed_everything(seed)
    gen, disc = build_mnist3(size)
    gen.to(ctx.device)
    disc.to(ctx.device)
    model = GANSI(gen, disc, use_sig=use_sig, sigma=float(cfg.get("sigma", 0.1)), lam=cfg.get("lam"),
                  lr=float(cfg.get("lr", 2e-4)), betas=cfg.get("betas", (0.5, 0.999)))
    data = _images(source, cfg.get("data_root"))
    clf_name = cfg.get("classifier") or CLASSIFIER_FOR.get(source, "digits")
    lazy_clf = _Classifier(clf_name, ctx.device)
    start, parts, curve = _train(model, data, cfg, ctx, lazy_clf, curve_every, curve_samples)

    samples = model.sample(eval_samples, ctx.device)
    if not torch.isfinite(samples).all():
        raise Diverged("generated images contain NaN or inf", step=steps)
    clf = lazy_clf.get()
    clf_acc, clf_n = getattr(clf, "test_accuracy", float("nan")), getattr(clf, "n_test", None)
    scores = stacked_mnist_metrics(samples, clf)
    method = cfg.get("method", "dcgan-si" if use_sig else "dcgan")
    save_grid(samples, ctx.artifact("samples.png"), f"{method} ({size}) · seed {seed} · {scores['modes']} modes")
    notes = [f"{method} size {size}: {steps} steps of batch {batch_size} on {source}; metrics on {eval_samples} "
             f"samples with the suite's '{clf_name}' digit classifier (test accuracy {clf_acc:.3f})"]
    footnote = (f"Modes counted by the suite's '{clf_name}' digit classifier, trained on the training split only; "
                f"held-out accuracy {clf_acc:.4f}" + (f" on {clf_n} test digits." if clf_n else "."))
    if curve_every:
        notes.append(f"curve: metrics on {curve_samples} samples every {curve_every} steps and at step {steps}")
    if use_sig and parts:
        notes.append(f"last same-scale λ = {parts.get('lambda', float('nan')):.3g}")
    if lazy_clf.note:
        notes.append(lazy_clf.note)
    if start:
        notes.append(f"resumed from checkpoint at step {start}")
    print(footnote)
    metrics = {k: float(scores[k]) for k in METRICS}
    metrics["classifier_accuracy"] = float(clf_acc)
    out = {"metrics": metrics, "steps": steps, "notes": notes, "footnotes": [footnote]}
    if curve_every:
        out["curve"] = curve
    return out
