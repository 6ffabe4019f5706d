"""Task of 004 Fig. 1 (§5.1): SIG (and a vanilla GAN beside it) on four toy targets.

Discrete targets (``negative-binomial``, ``poisson-nb-mixture``): SIG x ~ Pois(θ), θ = softplus(T_φ(z)),
T_φ an MLP with two hidden layers from 10-dimensional Gaussian noise (004 §5.1), trained on H_M
(004 eq. 6) with ``repro.core.sig.poisson_log_likelihood``. Continuous targets (``ring-noise``,
``gmm-ring``): SIG x ~ N(θ, 0.1² I) (004 §5.1), the toy SIG of ``repro.core.toy``. The GAN is the toy GAN
of 004 §5.2 (same generator); on count data its real-valued outputs are rounded to the nearest
non-negative integer before scoring (our choice: 004 does not say how its GAN produced counts).

Metrics (distance to the target, lower is better):
  discrete: ``tv`` = total variation between the sample pmf and the exact target pmf (scipy);
            for SIG on the negative binomial also ``mixing_ks`` = KS statistic of the learned θ against
            the true mixing law Gamma(2, 1) (004 Fig. 1b).
  continuous: ``energy`` = energy distance between samples and fresh target draws.
Artifacts: ``samples.png`` (histogram or scatter, mixing density for SIG on NB) and ``samples.pt``.
"""
from __future__ import annotations


import numpy as np
import torch
import torch.nn.functional as F

from repro.core.sig import poisson_log_likelihood, sig_cross_entropy
from repro.core.toy import build_toy_model
from repro.core.toy.base import ToyModel, adam, descend
from repro.core.toy.nets import toy_generator
from repro.runtime import Diverged, seed_everything

DISCRETE = ("negative-binomial", "poisson-nb-mixture")
CONTINUOUS = ("ring-noise", "gmm-ring")
SIGMA = 0.1  # 004 §5.1: x ~ N(θ, 0.1² I)
PROGRESS_EVERY = 100


class PoissonSIG(ToyModel):
    """SIG with x ~ Pois(θ), θ = softplus(T_φ(z)) > 0 (004 §5.1); H_M over M θ draws per step."""

    def __init__(self, z_dim: int = 10, hidden: int = 100, lr: float = 1e-3, betas=(0.9, 0.999), m: int = 100,
                 device="cpu"):
        super().__init__(z_dim, device)
        self.m = m
        self.generator = toy_generator(z_dim, 1, hidden)
        self.to(self.device)
        self.opt = adam(self.generator.parameters(), lr, betas)

    def theta(self, n: int) -> torch.Tensor:
        return F.softplus(self.generator(self.noise(n))) + 1e-6

    def train_step(self, x_real: torch.Tensor) -> dict[str, float]:
        loss = sig_cross_entropy(x_real.to(self.device, self.dtype), self.theta(self.m), poisson_log_likelihood)
        return {"loss": descend(self.opt, loss)}

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        return torch.poisson(self.theta(n))


def target_pmf(name: str, support: np.ndarray) -> np.ndarray:
    """Exact pmf on ``support`` (004 §5.1; NB(r, p) with mean r·p/(1-p) is scipy's nbinom(r, 1-p))."""
    from scipy import stats

    if name == "negative-binomial":
        return stats.nbinom.pmf(support, 2, 0.5)
    if name == "poisson-nb-mixture":
        return 0.5 * stats.poisson.pmf(support, 10) + 0.5 * stats.nbinom.pmf(support, 0.2, 0.1)
    raise ValueError(f"no exact pmf for '{name}'")


def total_variation(counts: np.ndarray, name: str) -> float:
    """½ Σ_k |p̂(k) - p(k)| over k ≥ 0 (the target's mass beyond the samples' range included)."""
    counts = np.asarray(counts, dtype=np.int64).ravel()
    if counts.min() < 0:
        raise ValueError("counts must be non-negative")
    top = int(max(counts.max(), 200))
    support = np.arange(top + 1)
    p_hat = np.bincount(counts, minlength=top + 1) / counts.size
    p = target_pmf(name, support)
    return float(0.5 * (np.abs(p_hat - p).sum() + max(0.0, 1.0 - p.sum())))


def energy_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    """Squared energy distance 2 E|X - Y| - E|X - X'| - E|Y - Y'| of the two empirical laws (V-statistics, ≥ 0)."""
    x, y = x.double(), y.double()
    return float(2 * torch.cdist(x, y).mean() - torch.cdist(x, x).mean() - torch.cdist(y, y).mean())


def _plot(cfg, samples, target, theta, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dataset = cfg["dataset"]
    panels = 2 if theta is not None else 1
    fig, axes = plt.subplots(1, panels, figsize=(4 * panels, 3.4))
    axes = np.atleast_1d(axes)
    if dataset in DISCRETE:
        top = int(np.percentile(target, 99.5)) + 2
        support = np.arange(top)
        axes[0].bar(support - 0.2, np.bincount(samples.astype(int), minlength=top)[:top] / len(samples), width=0.4,
                    label="samples")
        axes[0].bar(support + 0.2, target_pmf(dataset, support), width=0.4, label="target pmf")
        axes[0].legend(fontsize=7)
        axes[0].set_xlabel("x")
    else:
        axes[0].scatter(target[:, 0], target[:, 1], s=1, alpha=0.3, color="tab:red", label="data")
        axes[0].scatter(samples[:, 0], samples[:, 1], s=1, alpha=0.3, color="tab:blue", label="samples")
        axes[0].set_aspect("equal")
        axes[0].legend(fontsize=7, markerscale=5)
    if theta is not None:
        from scipy import stats

        grid = np.linspace(0, max(8.0, float(np.percentile(theta, 99.5))), 200)
        axes[1].hist(theta, bins=60, density=True, alpha=0.6, label="learned θ")
        axes[1].plot(grid, stats.gamma.pdf(grid, 2, scale=1), color="k", label="Gamma(2, 1)")
        axes[1].legend(fontsize=7)
        axes[1].set_xlabel("θ")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def build_model(cfg: dict, family: str, dim: int, device):
    params = dict(cfg.get("model") or {})
    if family == "sig" and cfg["dataset"] in DISCRETE:
        return PoissonSIG(device=device, **{k: v for k, v in params.items() if k != "sigma"})
    return build_toy_model(family, {"x_dim": dim, **params}, sigma=SIGMA, device=device)


def run(cfg: dict, ctx) -> dict:
    from repro.data import get_sampler

    dataset = cfg["dataset"]
    if dataset not in DISCRETE + CONTINUOUS:
        raise ValueError(f"sig_toys: dataset '{dataset}' is not one of {DISCRETE + CONTINUOUS} (004 §5.1)")
    family = (cfg.get("recipe") or {}).get("family", cfg.get("method"))
    if family not in ("sig", "gan"):
        raise ValueError(f"sig_toys: method family must be 'sig' or 'gan', got '{family}'")
    steps, batch_size, eval_samples = int(cfg["steps"]), int(cfg["batch_size"]), int(cfg["eval_samples"])
    seed = int(cfg.get("seed", 0))
    seed_everything(seed)
    params = dict((cfg.get("data") or {}).get(dataset) or {})  # the job's parameters of its synthetic set
    base = get_sampler(dataset)
    sampler = (lambda n, generator=None: base(n, generator=generator, **params)) if params else base
    data_rng = torch.Generator().manual_seed(seed + 1_000_003)
    dim = 1 if dataset in DISCRETE else 2
    model = build_model(cfg, family, dim, ctx.device)
    start = ctx.resume_training(model.load_state, data_rng)
    for step in range(start + 1, steps + 1):
        losses = model.train_step(sampler(batch_size, generator=data_rng).float().to(ctx.device))
        ctx.after_step(step, steps, losses, model.state, data_rng, PROGRESS_EVERY, label=f"{family}: ")

    model.eval()
    samples = model.sample(eval_samples).cpu()
    if not torch.isfinite(samples).all():
        raise Diverged(f"{family}: samples contain NaN or inf", step=steps)
    eval_rng = torch.Generator().manual_seed(seed + 2_000_003)
    target = sampler(eval_samples, generator=eval_rng).float()
    theta = None
    if dataset in DISCRETE:
        counts = samples.round().clamp_min(0).long().numpy().ravel()
        metrics = {"tv": total_variation(counts, dataset)}
        if isinstance(model, PoissonSIG) and dataset == "negative-binomial":
            from scipy import stats

            with torch.no_grad():
                theta = model.theta(eval_samples).cpu().numpy().ravel()
            metrics["mixing_ks"] = float(stats.kstest(theta, stats.gamma(2, scale=1).cdf).statistic)
        shown = counts
    else:
        n = min(eval_samples, 5000)  # energy distance is O(n²) in memory
        metrics = {"energy": energy_distance(samples[:n], target[:n])}
        shown = samples.numpy()
    name = cfg.get("method", family)
    _plot(cfg, shown, target.numpy().ravel() if dim == 1 else target.numpy(), theta, ctx.artifact("samples.png"),
          f"{name} on {dataset} · seed {seed} · " + ", ".join(f"{k} {v:.3g}" for k, v in metrics.items()))
    torch.save({"samples": samples[:5000].clone(), "theta": None if theta is None else torch.from_numpy(theta[:5000]),
                "dataset": dataset, "method": name, "seed": seed}, ctx.artifact("samples.pt"))
    notes = [f"{name}: {steps} steps of batch {batch_size} on {dataset}"
             + (f" ({', '.join(f'{k} {v}' for k, v in params.items())})" if params else "")
             + f"; metrics on {eval_samples} samples"]
    if family == "gan" and dataset in DISCRETE:
        notes.append("GAN outputs rounded to the nearest non-negative integer before scoring")
    if start:
        notes.append(f"resumed from checkpoint at step {start}")
    return {"metrics": metrics, "steps": steps, "notes": notes}
