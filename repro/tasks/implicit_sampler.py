"""000 Fig. 4: the implicit encoder alone, trained as a sampler for a known 1-D density.

000 §4.2: "removing the decoder and only training the encoder, which essentially learns a parametric
sampler. We use a 3-layer fully-connected neural network with 20 hidden units as the encoder, whose
inputs are Gaussian noises." Targets: Laplace(0, 2) (``laplace``) and 0.3 N(−2, 1) + 0.7 N(2, 1)
(``gmm-1d``).

Training minimises KL(q‖p) = E_q[log q(x) − log p(x)]; as in the implicit VAE (000 §3.3) the
entropy gradient comes from the Stein gradient estimator (repro.core.vae.score.stein_score) on the
batch of samples. Choices 000 leaves open (cfg keys, defaults in DEFAULTS): noise dimension 4,
ReLU, Adam lr 1e-3, 256 samples per step.

``run(cfg, ctx)`` reads cfg['dataset'] (target), cfg['seed'], cfg['steps'] and optional
cfg['sampler'] overrides; it returns the Kolmogorov–Smirnov distance between 10,000 samples and the
target CDF (``ks``), and saves ``density.png`` (target density vs histogram + KDE of samples).
"""
from __future__ import annotations


import torch
from torch import nn

from repro.core.vae.score import stein_score
from repro.runtime import Diverged, seed_everything

DEFAULTS = {"noise_dim": 4, "hidden": 20, "lr": 1.0e-3, "batch_size": 256, "eval_samples": 10000}
TARGETS = ("laplace", "gmm-1d")
PROGRESS_EVERY = 100


def target_distribution(name: str) -> torch.distributions.Distribution:
    """The target p of 000 Fig. 4 as a torch distribution (log_prob and cdf for the KS distance)."""
    if name == "laplace":
        return torch.distributions.Laplace(0.0, 2.0)
    if name == "gmm-1d":
        mix = torch.distributions.Categorical(torch.tensor([0.3, 0.7]))
        comp = torch.distributions.Normal(torch.tensor([-2.0, 2.0]), torch.tensor([1.0, 1.0]))
        return torch.distributions.MixtureSameFamily(mix, comp)
    raise ValueError(f"implicit_sampler: unknown target '{name}'; use one of {', '.join(TARGETS)}.")


def target_cdf(name: str, x: torch.Tensor) -> torch.Tensor:
    if name == "gmm-1d":  # MixtureSameFamily has no cdf
        normal = torch.distributions.Normal(0.0, 1.0)
        return 0.3 * normal.cdf(x + 2.0) + 0.7 * normal.cdf(x - 2.0)
    return target_distribution(name).cdf(x)


def ks_distance(samples: torch.Tensor, name: str) -> float:
    """sup_x |F_n(x) − F(x)| of the empirical CDF of ``samples`` against the target CDF."""
    x = samples.flatten().double().sort().values
    n = x.numel()
    f = target_cdf(name, x)
    upper = torch.arange(1, n + 1, dtype=torch.float64) / n - f
    lower = f - torch.arange(0, n, dtype=torch.float64) / n
    return float(torch.maximum(upper, lower).max())


class NoiseSampler(nn.Module):
    """x = f(ε), ε ~ N(0, I): "3-layer fully-connected network with 20 hidden units" (000 §4.2)."""

    def __init__(self, noise_dim: int = 4, hidden: int = 20):
        super().__init__()
        self.noise_dim = noise_dim
        self.net = nn.Sequential(nn.Linear(noise_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 1))

    def forward(self, n: int) -> torch.Tensor:
        return self.net(torch.randn(n, self.noise_dim, device=self.net[0].weight.device))


def kl_surrogate(x: torch.Tensor, log_p) -> torch.Tensor:
    """Loss whose gradient is ∇ KL(q‖p): SGE score ĝ·x (entropy part) minus log p(x)."""
    return ((stein_score(x) * x).sum(-1) - log_p(x.squeeze(-1))).mean()


def save_density_plot(samples: torch.Tensor, name: str, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import gaussian_kde

    s = samples.flatten().cpu().numpy()
    grid = torch.linspace(-10, 10, 801)
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    ax.plot(grid.numpy(), target_distribution(name).log_prob(grid).exp().numpy(), color="tab:red", label="P (target)")
    ax.plot(grid.numpy(), gaussian_kde(s)(grid.numpy()), color="tab:blue", label="Q (samples, KDE)")
    ax.hist(s, bins=120, range=(-10, 10), density=True, alpha=0.3, color="tab:blue")
    ax.set_title({"laplace": "Laplace(0, 2)", "gmm-1d": "0.3 N(-2,1) + 0.7 N(2,1)"}[name])
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(cfg: dict, ctx) -> dict:
    name = cfg["dataset"]
    target = target_distribution(name)
    opts = {**DEFAULTS, **(cfg.get("sampler") or {})}
    steps = int(cfg.get("steps", 0))
    if steps < 1:
        raise ValueError("implicit_sampler: config needs 'steps' >= 1 (set it in the job spec's scale config).")
    seed_everything(int(cfg["seed"]))
    model = NoiseSampler(opts["noise_dim"], opts["hidden"]).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=opts["lr"])
    step = 0
    saved = ctx.load_checkpoint()
    if saved is not None:
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["opt"])
        step = saved["step"]
    log_p = lambda x: target.log_prob(x.cpu()).to(x.device)  # noqa: E731
    while step < steps:
        loss = kl_surrogate(model(opts["batch_size"]), log_p)
        if not torch.isfinite(loss):
            raise Diverged(f"non-finite loss at step {step}")
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % PROGRESS_EVERY == 0 or step == steps:
            ctx.progress(step, steps, loss=loss.item())
        if ctx.checkpoint_every and step % ctx.checkpoint_every == 0 and step < steps:
            ctx.save_checkpoint({"model": model.state_dict(), "opt": opt.state_dict(), "step": step})
    with torch.no_grad():
        samples = model(opts["eval_samples"]).cpu()
    save_density_plot(samples, name, ctx.artifact("density.png"))
    torch.save(samples, ctx.artifact("samples.pt"))
    return {"metrics": {"ks": ks_distance(samples, name)}, "steps": step,
            "notes": [f"KS distance on {opts['eval_samples']} samples against the exact target CDF"]}
