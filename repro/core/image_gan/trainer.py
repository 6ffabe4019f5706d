"""The image-GAN training loop: TTUR Adam, n_dis, evaluation every K steps keeping the best generator by
KID, learning-rate decay on the relative KID test, exact checkpoint/resume, divergence detection.

Knows nothing of YAML, launchers or metrics: it gets an :class:`~repro.core.image_gan.model.ImageGAN`, a
real-batch stream, an evaluator, optionally a learning-rate decay signal, and a
:class:`repro.runtime.RunContext`-like ``ctx``. The evaluator (``repro/metrics/evaluator.py`` builds it) is
anything with ``features(images) -> {"pool", ...}``, ``score(images, metrics, features=...) -> {"fid",
"kid", ...}``, ``score_stream(make_batch, n, metrics) -> (scores, first batch)`` and ``calibrated``; the
decay signal is called with each evaluation's features and returns True when the rate decays (000 §4.1:
the relative KID test), and has ``state_dict``/``load_state_dict`` for exact resume.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import torch

from repro.runtime import Diverged

from .model import ImageGAN, real_batches

# FID thresholds τ above which a run counts as diverged (003 Fig. S2); by paper dataset name.
FID_TAU = {"cifar10": 50.0, "stl10": 80.0, "celeba64": 50.0, "celeba160": 50.0, "lsun-bedroom64": 90.0}
GRID_SIDE = 8  # 8×8 sample grid at each evaluation
LR_DECAY_FACTOR = 0.8  # multiplicative decay on a failed relative-KID test (Bińkowski et al. 2018)


@dataclass
class TrainSettings:
    steps: int
    batch_size: int
    eval_every: int = 0               # 0: evaluate once, at the end
    eval_samples: int = 1000          # generated images per evaluation during training
    final_samples: int = 50000        # generated images for the reported metrics
    metrics: tuple = ("fid", "kid")   # reported metrics
    lr_decay_factor: float = LR_DECAY_FACTOR
    fid_threshold: float | None = None
    threshold_needs_calibration: bool = True
    keep_best: bool = True
    progress_every: int = 50
    seed: int = 0
    notes: list = field(default_factory=list)


def save_grid(images: torch.Tensor, path) -> None:
    from torchvision.utils import save_image

    save_image(images[: GRID_SIDE * GRID_SIDE], str(path), nrow=GRID_SIDE, normalize=True, value_range=(-1, 1))


def divergence(fid: float, tau: float | None, final: bool) -> str | None:
    """Why a run with this FID counts as diverged, or None. A NaN/inf FID diverges at any evaluation;
    τ (003 Fig. S2) applies only to the run's reported FID (``final``), as 003 applies it to the 50K
    score: an early, noisy checkpoint FID above τ does not remove a run that may still finish well."""
    if not math.isfinite(fid):
        return f"FID is {fid}"
    if final and tau is not None and fid > tau:
        return f"final FID {fid:.2f} above the divergence threshold τ = {tau} (003 Fig. S2)"
    return None


def _eval_generator(seed: int, step: int) -> torch.Generator:
    """Evaluation noise from its own stream, so evaluating never moves the training RNG."""
    return torch.Generator().manual_seed(10_007 * (seed + 1) + step)


def train(gan: ImageGAN, dataset, evaluator, settings: TrainSettings, ctx, lr_decay=None) -> dict:
    """Train, evaluate, checkpoint; returns {"metrics", "steps", "notes", "best_step"}. ``lr_decay``: the
    decay signal (module docstring), or None for constant learning rates.

    Raises :class:`repro.runtime.Diverged` on a NaN/inf loss or FID, or a reported (final) FID above
    ``fid_threshold`` (see :func:`divergence`).
    """
    s = settings
    data_gen = torch.Generator().manual_seed(s.seed + 1_000_003)
    z_gen = torch.Generator().manual_seed(s.seed + 2_000_003)
    fixed_z = gan.noise_batch(GRID_SIDE * GRID_SIDE, torch.Generator().manual_seed(s.seed + 3_000_003))
    best = {"kid": math.inf, "step": 0, "G": None}
    start, stream_state, history = 0, None, []

    state = ctx.load_checkpoint()  # restores every global RNG state too
    if state is not None:
        gan.load_state_dict(state["gan"])
        data_gen.set_state(state["data_gen"])
        z_gen.set_state(state["z_gen"])
        if lr_decay is not None:
            lr_decay.load_state_dict(state["decay"])
        best, start, stream_state, history = state["best"], int(state["step"]), state["stream"], state["history"]
    next_real, stream = real_batches(dataset, s.batch_size, data_gen, gan.device, stream_state)

    def checkpoint(step: int) -> None:
        ctx.save_checkpoint({"gan": gan.state_dict(), "data_gen": data_gen.get_state(), "z_gen": z_gen.get_state(),
                             "decay": None if lr_decay is None else lr_decay.state_dict(), "best": best,
                             "step": step, "stream": stream(), "history": history})

    def threshold_applies() -> bool:
        return s.fid_threshold is not None and (evaluator.calibrated or not s.threshold_needs_calibration)

    def evaluate(step: int) -> None:
        images = gan.generate(s.eval_samples, _eval_generator(s.seed, step))
        save_grid(gan.generate_from(fixed_z), ctx.artifact(f"samples_step{step:07d}.png"))
        if not torch.isfinite(images).all():
            raise Diverged(f"generated images contain NaN/inf at step {step}", step=step)
        feats = evaluator.features(images)
        scores = evaluator.score(images, ("fid", "kid"), features=feats)
        history.append({"step": step, **scores, "lr_scale": gan.lr_scale})
        why = divergence(scores["fid"], None, final=False)  # τ waits for the reported FID
        if why:
            raise Diverged(f"{why} at step {step}", metrics={"fid": scores["fid"]}, step=step)
        if s.keep_best and scores["kid"] < best["kid"]:
            best.update(kid=scores["kid"], step=step, G=copy.deepcopy(gan.G.state_dict()))
        if lr_decay is not None and lr_decay(feats):
            gan.set_lr_scale(gan.lr_scale * s.lr_decay_factor)

    losses: dict[str, float] = {}
    for step in range(start + 1, s.steps + 1):
        losses = gan.train_step(next_real, z_gen)
        if not all(math.isfinite(v) for v in losses.values()):
            raise Diverged(f"non-finite loss at step {step}: {losses}", step=step)
        if step % s.progress_every == 0 or step == s.steps:
            ctx.progress(step, s.steps, **losses)
        if s.eval_every and step % s.eval_every == 0 and step < s.steps:
            evaluate(step)
        if ctx.checkpoint_every and step % ctx.checkpoint_every == 0 and step < s.steps:
            checkpoint(step)

    if s.eval_every:
        evaluate(s.steps)
    else:
        save_grid(gan.generate_from(fixed_z), ctx.artifact(f"samples_step{s.steps:07d}.png"))
    if s.keep_best and best["G"] is not None:
        gan.G.load_state_dict(best["G"])  # report the best generator by KID
    final_gen = _eval_generator(s.seed, -1)
    try:
        metrics, final = evaluator.score_stream(lambda k: gan.generate(k, final_gen), s.final_samples, s.metrics)
    except FloatingPointError as err:
        raise Diverged(f"final samples: {err}", step=s.steps) from None
    why = divergence(metrics["fid"], s.fid_threshold if threshold_applies() else None, final=True) \
        if "fid" in metrics else None
    if why:
        raise Diverged(why, metrics=metrics, step=s.steps)
    save_grid(final, ctx.artifact("samples.png"))
    torch.save({"G": gan.G.state_dict(), "step": best["step"] or s.steps}, ctx.artifact("generator.pt"))
    notes = list(s.notes)
    if start:
        notes.append(f"resumed from checkpoint at step {start}")
    if s.keep_best and history:
        notes.append(f"metrics of the best generator by KID (step {best['step']} of {s.steps}, "
                     f"{len(history)} evaluations of {s.eval_samples} samples)")
    if not history:
        notes.append(f"metrics of the final generator (no evaluation during training)")
    return {"metrics": metrics, "steps": s.steps, "notes": notes, "best_step": best["step"], "history": history}
