"""The nine models of 000 Table 3 as one class with a per-method training loss.

All share the decoder (``BernoulliDecoder``) and the prior p(z) = N(0, I); they differ in the
encoder and in how the KL / entropy / information terms are estimated. With S samples z per x
(000 §4.2: S = 32), ``loss(x)`` returns a scalar to *minimise* (negated objective, per example):

* ``vae``        ELBO, Gaussian encoder, closed-form KL (Kingma & Welling 2014).
* ``info-vae``   Zhao et al. (2017) eq. 1 in the form −E log p(x|z) + (1−α) KL(q(z|x)‖p)
                 + (α+λ−1) D(q(z)‖p); D = MMD with an RBF kernel (their recommended MMD-VAE).
* ``sivi``       semi-implicit encoder, SIVI bound: log q(z|x) ≈ log mean_j N(z; ψ_j, σ²) over the
                 S mixing draws of that x (Yin & Zhou 2018, K = S − 1 extra draws).
* ``spectral``   implicit encoder, ELBO with ∇_z log q(z|x) from SSGE (Shi et al. 2018).
* ``stein-vae``  implicit encoder trained by amortised SVGD (Feng et al. 2017; Pu et al. 2017):
                 the S particles of each x move along the SVGD direction of log p(x, z); decoder by
                 maximum likelihood on the particles.
* ``info-ivae``  implicit encoder, 000 eq. 1 with both KL terms' entropy gradients by SGE
                 (Li & Turner 2018): conditional on the S draws of each x, marginal on a random
                 subset of the batch's draws.
* ``info-ivae-rbf | -ikl | -dk``  000 eq. 15: ELBO (entropy by SGE) − (λ−1) KL(q(z)‖p)
                 + α E_x MMD_ψ[q(z|x), q(z)], kernel an RBF (median bandwidth), the IKL kernel or
                 the KernelNet DK kernel (repro.core.kernelnet, ψ nets 2 hidden layers of 32, 512
                 random features per step; 000 §4.2); ψ maximises the MMD (000 eq. 15 "max over ψ").

Entropy gradients enter through the surrogate  ĝ·z  with ĝ = ∇_z log q detached: its gradient
with respect to the encoder is E[∇_z log q · ∂z/∂φ] = ∇_φ E_q[log q] (score-function term is zero).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from repro.core import mmd as mmd_lib
from repro.core.kernels import GaussianRBF
from repro.core.vae.nets import LATENT, BernoulliDecoder, GaussianEncoder, ImplicitEncoder, SemiImplicitEncoder
from repro.core.vae.score import spectral_score, stein_score

METHODS = ("vae", "stein-vae", "spectral", "sivi", "info-vae", "info-ivae",
           "info-ivae-rbf", "info-ivae-ikl", "info-ivae-dk")
KERNEL_FEATURES = 512  # 000 §4.2
KERNEL_HIDDEN = 32  # 000 §4.2
# α, λ are not given by 000; our defaults (docs/vae.md). info-vae: Zhao et al.'s MMD-VAE (α=0, λ=1000).
DEFAULT_WEIGHTS = {
    "info-vae": {"alpha": 0.0, "lam": 1000.0},
    "info-ivae": {"alpha": 0.0, "lam": 2.0},
    "info-ivae-rbf": {"alpha": 1.0, "lam": 1.0},
    "info-ivae-ikl": {"alpha": 1.0, "lam": 1.0},
    "info-ivae-dk": {"alpha": 1.0, "lam": 1.0},
}
MARGINAL_SUBSET = 256  # draws of q(z) used by SGE for the marginal KL term (ours)
MMD_EXAMPLES = 4  # x's per step whose MMD[q(z|x), q(z)] enters eq. 15 (ours; cost control for DK)


def log_normal(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) summed over the last axis."""
    return -0.5 * z.pow(2).sum(-1) - 0.5 * z.shape[-1] * math.log(2 * math.pi)


def median_rbf(a: torch.Tensor, b: torch.Tensor) -> GaussianRBF:
    """Single Gaussian kernel with the median-heuristic bandwidth on the pooled samples."""
    pooled = torch.cat([a, b]).detach()
    d2 = torch.cdist(pooled, pooled).pow(2)
    sigma2 = d2[d2 > 0].median().clamp_min(1e-6) / 2.0
    return GaussianRBF((float(sigma2.sqrt()),))


@torch.no_grad()
def svgd_direction(particles: torch.Tensor, grad_logp: torch.Tensor) -> torch.Tensor:
    """SVGD update φ(z_i) = (1/S) Σ_j [k(z_j, z_i) ∇log p(z_j) + ∇_{z_j} k(z_j, z_i)] (Liu & Wang 2016).

    ``particles``, ``grad_logp``: [B, S, d] (S particles per x). RBF kernel with Liu & Wang's
    bandwidth h² = median(squared distances) / (2 log(S + 1)).
    """
    s = particles.shape[1]
    diff = particles.unsqueeze(2) - particles.unsqueeze(1)  # [B, S(j), S(i), d] = z_j − z_i
    d2 = diff.pow(2).sum(-1)
    h2 = (d2.flatten(1).median(1).values / (2.0 * math.log(s + 1))).clamp_min(1e-8)[:, None, None]
    k = torch.exp(-d2 / (2.0 * h2))
    drive = torch.einsum("bji,bjd->bid", k, grad_logp)
    repulse = -(k.unsqueeze(-1) * diff).sum(1) / h2  # Σ_j ∇_{z_j} k(z_j, z_i)
    return (drive + repulse) / s


class VAEFamily(nn.Module):
    """One model of 000 Table 3. ``method`` is one of :data:`METHODS`."""

    def __init__(self, method: str, data_dim: int, latent_dim: int = LATENT, alpha: float | None = None,
                 lam: float | None = None, kernel_features: int = KERNEL_FEATURES):
        super().__init__()
        if method not in METHODS:
            raise ValueError(f"unknown VAE method {method!r}; choose one of {', '.join(METHODS)}.")
        self.method, self.latent_dim = method, latent_dim
        weights = DEFAULT_WEIGHTS.get(method, {"alpha": 0.0, "lam": 1.0})
        self.alpha = weights["alpha"] if alpha is None else float(alpha)
        self.lam = weights["lam"] if lam is None else float(lam)
        self.decoder = BernoulliDecoder(data_dim, latent_dim)
        if method in ("vae", "info-vae"):
            self.encoder = GaussianEncoder(data_dim, latent_dim)
        elif method == "sivi":
            self.encoder = SemiImplicitEncoder(data_dim, latent_dim)
        else:
            self.encoder = ImplicitEncoder(data_dim, latent_dim)
        self.kernel = None
        if method in ("info-ivae-ikl", "info-ivae-dk"):
            from repro.core.kernelnet import RandomFeatureKernel

            self.kernel = RandomFeatureKernel(latent_dim, data_dependent=method.endswith("dk"),
                                              hidden=KERNEL_HIDDEN, n_features=kernel_features)

    # ------------------------------------------------------------------ parameter groups
    def model_parameters(self):
        return list(self.encoder.parameters()) + list(self.decoder.parameters())

    def kernel_parameters(self):
        return [] if self.kernel is None else list(self.kernel.parameters())

    def log_likelihood(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.decoder.log_likelihood(z, x)

    @torch.no_grad()
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder.embed(x)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder.logits(self.embed(x)))

    @torch.no_grad()
    def generate(self, n: int) -> torch.Tensor:
        device = next(self.parameters()).device
        return torch.sigmoid(self.decoder.logits(torch.randn(n, self.latent_dim, device=device)))

    # ------------------------------------------------------------------ training loss
    def loss(self, x: torch.Tensor, n_z: int = 32) -> tuple[torch.Tensor, dict]:
        """Negated training objective per example, and scalars for logging (``rec`` = E log p(x|z))."""
        return getattr(self, "_loss_" + self.method.replace("-", "_"))(x, n_z)

    def _loss_vae(self, x, n_z):
        z, mu, logvar = self.encoder.sample(x, n_z)
        rec = self.decoder.log_likelihood(z, x).mean()
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1).mean()
        return -(rec - kl), {"rec": rec.item(), "kl": kl.item()}

    def _loss_info_vae(self, x, n_z):
        z, mu, logvar = self.encoder.sample(x, n_z)
        rec = self.decoder.log_likelihood(z, x).mean()
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1).mean()
        agg = z[0]  # one draw per x: a sample of q(z)
        prior = torch.randn_like(agg)
        marginal = mmd_lib.mmd2(agg, prior, median_rbf(agg, prior))
        loss = -rec + (1.0 - self.alpha) * kl + (self.alpha + self.lam - 1.0) * marginal
        return loss, {"rec": rec.item(), "kl": kl.item(), "mmd_prior": marginal.item()}

    def _loss_sivi(self, x, n_z):
        z, psi, logvar = self.encoder.sample(x, n_z)  # z, psi [S, B, d]; logvar [B, d]
        rec = self.decoder.log_likelihood(z, x).mean()
        # log q(z_i|x) ≈ log mean_j N(z_i; ψ_j, σ²) over the S mixing draws of the same x
        var = logvar.exp()
        diff = z.unsqueeze(1) - psi.unsqueeze(0)  # [S(i), S(j), B, d]
        log_comp = -0.5 * (diff.pow(2) / var + logvar + math.log(2 * math.pi)).sum(-1)
        log_q = torch.logsumexp(log_comp, 1) - math.log(n_z)
        kl = (log_q - log_normal(z)).mean()
        return -(rec - kl), {"rec": rec.item(), "kl": kl.item()}

    def _entropy_surrogate(self, z: torch.Tensor, estimator) -> torch.Tensor:
        """Per-sample ĝ·z whose gradient is ∇_φ E log q; z [S, B, d] holds S draws per x."""
        score = estimator(z.transpose(0, 1))  # sets of S draws: [B, S, d]
        return (score.transpose(0, 1) * z).sum(-1)

    def _loss_spectral(self, x, n_z):
        z = self.encoder.sample(x, n_z)
        rec = self.decoder.log_likelihood(z, x).mean()
        kl_grad = (self._entropy_surrogate(z, spectral_score) - log_normal(z)).mean()
        return -rec + kl_grad, {"rec": rec.item()}

    def _loss_stein_vae(self, x, n_z):
        z = self.encoder.sample(x, n_z)  # particles [S, B, d]
        rec = self.decoder.log_likelihood(z.detach(), x).mean()  # decoder: maximum likelihood
        with torch.enable_grad():
            zd = z.detach().requires_grad_(True)
            log_joint = self.decoder.log_likelihood(zd, x) + log_normal(zd)
            (grad_logp,) = torch.autograd.grad(log_joint.sum(), zd)
        phi = svgd_direction(zd.detach().transpose(0, 1), grad_logp.transpose(0, 1)).transpose(0, 1)
        # the encoder moves its particles toward z + ε φ: ascend Σ φ·z
        loss = -rec - (phi * z).sum(-1).mean()
        return loss, {"rec": rec.item()}

    def _marginal_kl_surrogate(self, z: torch.Tensor) -> torch.Tensor:
        """ĝ·z − log p(z) on a random subset of the batch's draws (samples of q(z)); SGE for ĝ."""
        flat = z.reshape(-1, z.shape[-1])
        pick = torch.randperm(flat.shape[0], device=z.device)[:MARGINAL_SUBSET]
        sub = flat[pick]
        return ((stein_score(sub) * sub).sum(-1) - log_normal(sub)).mean()

    def _loss_info_ivae(self, x, n_z):
        z = self.encoder.sample(x, n_z)
        rec = self.decoder.log_likelihood(z, x).mean()
        cond = (self._entropy_surrogate(z, stein_score) - log_normal(z)).mean()
        loss = -rec + (1.0 - self.alpha) * cond
        if self.alpha + self.lam - 1.0 != 0.0:
            loss = loss + (self.alpha + self.lam - 1.0) * self._marginal_kl_surrogate(z)
        return loss, {"rec": rec.item()}

    def _info_mmd(self, z: torch.Tensor) -> torch.Tensor:
        """E_x MMD²_ψ[q(z|x), q(z)] on MMD_EXAMPLES random x's of the batch (000 eq. 15)."""
        s, b, d = z.shape
        flat = z.reshape(-1, d)
        xs = torch.randperm(b, device=z.device)[:MMD_EXAMPLES]
        total = z.new_zeros(())
        for i in xs.tolist():
            cond = z[:, i]
            marg = flat[torch.randint(flat.shape[0], (s,), device=z.device)]
            kernel = self.kernel if self.kernel is not None else median_rbf(cond, marg)
            total = total + mmd_lib.mmd2(cond, marg, kernel)
        return total / len(xs)

    def _loss_info_ivae_kernel(self, x, n_z):
        z = self.encoder.sample(x, n_z)
        rec = self.decoder.log_likelihood(z, x).mean()
        cond = (self._entropy_surrogate(z, stein_score) - log_normal(z)).mean()
        info = self._info_mmd(z)
        loss = -rec + cond - self.alpha * info
        if self.lam != 1.0:
            loss = loss + (self.lam - 1.0) * self._marginal_kl_surrogate(z)
        return loss, {"rec": rec.item(), "mmd": info.item()}

    _loss_info_ivae_rbf = _loss_info_ivae_kernel
    _loss_info_ivae_ikl = _loss_info_ivae_kernel
    _loss_info_ivae_dk = _loss_info_ivae_kernel
