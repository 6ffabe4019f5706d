"""Task of 004 Table 2: DCGAN vs DCGAN-SI on stacked MNIST (MNIST-3) at network sizes S, M, L.

``run(cfg, ctx)`` reads:
  cfg['recipe']['si']          true for DCGAN-SI (004 Alg. 1), false for DCGAN
  cfg['size']                  S, M or L (004 §5.3: (K_g, K_d) = (1, 0.5), (1, 1), (2, 1)); a grid axis
  cfg['data_source']           stacked-mnist, or the stacked-digits stand-in (set by the worker)
  cfg['steps'], cfg['batch_size'], cfg['lr'], cfg['betas'], cfg['sigma'], cfg['lam'] (null: same-scale rule)
  cfg['eval_samples']          generated images scored by the suite's digit classifier
  cfg['classifier']            classifier recipe: 'mnist', 'mnist-5k' or 'digits' (default: the one trained on
                               the training split of the digits the stacked set is built from)
Returns the metrics of ``repro.metrics.stacked_mnist.stacked_mnist_metrics``: is, hq, exp_h_y_given_x,
exp_h_y, modes, kl. The classifier is trained once and cached when missing (``repro.metrics.classifier``).
"""
from __future__ import annotations


import torch

from repro.core.gan_si import GANSI
from repro.core.nets.mnist3 import build_mnist3
from repro.runtime import Diverged, seed_everything

PROGRESS_EVERY = 50
CLASSIFIER_FOR = {"stacked-mnist": "mnist", "stacked-mnist-5k": "mnist-5k", "stacked-digits": "digits"}
METRICS = ("is", "hq", "exp_h_y_given_x", "exp_h_y", "modes", "kl")


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


def run(cfg: dict, ctx) -> dict:
    steps = _int(cfg, "steps", 0)
    batch_size = _int(cfg, "batch_size")
    eval_samples = _int(cfg, "eval_samples")
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
    data_rng = torch.Generator().manual_seed(seed + 1_000_003)
    start = ctx.resume_training(model.load_state, data_rng)

    parts: dict[str, float] = {}
    for step in range(start + 1, steps + 1):
        idx = torch.randint(len(data), (batch_size,), generator=data_rng)
        parts = model.train_step(data[idx].to(ctx.device))
        ctx.after_step(step, steps, parts, model.state, data_rng, PROGRESS_EVERY)

    from repro.metrics.stacked_mnist import stacked_mnist_metrics

    samples = model.sample(eval_samples, ctx.device)
    if not torch.isfinite(samples).all():
        raise Diverged("generated images contain NaN or inf", step=steps)
    clf_name = cfg.get("classifier") or CLASSIFIER_FOR.get(source, "digits")
    classifier, clf_note = _classifier(clf_name, ctx.device)
    clf_acc, clf_n = getattr(classifier, "test_accuracy", float("nan")), getattr(classifier, "n_test", None)
    scores = stacked_mnist_metrics(samples, classifier)
    method = cfg.get("method", "dcgan-si" if use_sig else "dcgan")
    save_grid(samples, ctx.artifact("samples.png"), f"{method} ({size}) · seed {seed} · {scores['modes']} modes")
    notes = [f"{method} size {size}: {steps} steps of batch {batch_size} on {source}; metrics on {eval_samples} "
             f"samples with the suite's '{clf_name}' digit classifier (test accuracy {clf_acc:.3f})"]
    footnote = (f"Modes counted by the suite's '{clf_name}' digit classifier, trained on the training split only; "
                f"held-out accuracy {clf_acc:.4f}" + (f" on {clf_n} test digits." if clf_n else "."))
    if use_sig and parts:
        notes.append(f"last same-scale λ = {parts.get('lambda', float('nan')):.3g}")
    if clf_note:
        notes.append(clf_note)
    if start:
        notes.append(f"resumed from checkpoint at step {start}")
    print(footnote)
    metrics = {k: float(scores[k]) for k in METRICS}
    metrics["classifier_accuracy"] = float(clf_acc)
    return {"metrics": metrics, "steps": steps, "notes": notes, "footnotes": [footnote]}
