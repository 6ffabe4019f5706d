"""Score estimators, model losses and the SVGD direction against closed forms and brute-force loops."""
import math

import pytest
import torch

from repro.core.vae import METHODS, VAEFamily, spectral_score, stein_score
from repro.core.vae.models import log_normal, svgd_direction


def _cosine(a, b):
    return torch.nn.functional.cosine_similarity(a.flatten(), b.flatten(), 0).item()


@pytest.mark.parametrize("estimator", [stein_score, spectral_score])
def test_score_estimators_recover_gaussian_score(estimator):
    # N(0, 4 I) in 2-D: ∇ log q(z) = −z / 4
    z = 2.0 * torch.randn(4, 300, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    est = estimator(z)
    assert est.shape == z.shape
    assert _cosine(est, -z / 4) > 0.7
    assert 0.6 < (est * (-z / 4)).sum() / (-z / 4).pow(2).sum() < 1.4  # right scale


def test_stein_score_matches_li_turner_formula_by_loops():
    # Ĝ = −(K + ηI)⁻¹ ⟨∇, K⟩, ⟨∇, K⟩_{i,:} = Σ_k ∇_{z_k} k(z_k, z_i), RBF k with h² = median d²/2
    z = torch.randn(7, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    m = len(z)
    d2 = [[float(((z[i] - z[j]) ** 2).sum()) for j in range(m)] for i in range(m)]
    h2 = float(torch.tensor([d2[i][j] for i in range(m) for j in range(m) if i != j]).median()) / 2
    k = torch.tensor([[math.exp(-d2[i][j] / (2 * h2)) for j in range(m)] for i in range(m)], dtype=torch.float64)
    grad_k = torch.zeros(m, 3, dtype=torch.float64)
    for i in range(m):
        for kk in range(m):
            grad_k[i] += -k[kk, i] * (z[kk] - z[i]) / h2
    expected = -torch.linalg.solve(k + 0.01 * torch.eye(m, dtype=torch.float64), grad_k)
    assert torch.allclose(stein_score(z), expected, atol=1e-10)


def test_entropy_surrogate_gradient_matches_closed_form():
    # z = μ + s ε: E log q = −log s − ½ log 2π − ½, so ∂/∂s = −1/s and ∂/∂μ = 0
    mu = torch.tensor(0.7, requires_grad=True)
    s = torch.tensor(1.5, requires_grad=True)
    eps = torch.randn(2000, 1, generator=torch.Generator().manual_seed(2))
    z = mu + s * eps
    surrogate = (stein_score(z) * z).sum(-1).mean()
    g_mu, g_s = torch.autograd.grad(surrogate, (mu, s))
    assert abs(g_s.item() - (-1 / 1.5)) < 0.1
    assert abs(g_mu.item()) < 0.1


def test_svgd_direction_matches_per_particle_loop():
    g = torch.Generator().manual_seed(3)
    p = torch.randn(2, 5, 3, generator=g, dtype=torch.float64)
    grad = torch.randn(2, 5, 3, generator=g, dtype=torch.float64)
    out = svgd_direction(p, grad)
    for b in range(2):
        d2 = torch.cdist(p[b], p[b]).pow(2)
        h2 = d2.flatten().median() / (2 * math.log(6))
        for i in range(5):
            phi = torch.zeros(3, dtype=torch.float64)
            for j in range(5):
                kji = torch.exp(-((p[b, j] - p[b, i]) ** 2).sum() / (2 * h2))
                phi += kji * grad[b, j] - kji * (p[b, j] - p[b, i]) / h2
            assert torch.allclose(out[b, i], phi / 5, atol=1e-10)


def test_vae_kl_term_is_the_gaussian_kl():
    torch.manual_seed(0)
    model = VAEFamily("vae", 20, latent_dim=4)
    x = (torch.rand(6, 20) < 0.3).float()
    _, stats = model.loss(x, 8)
    mu, logvar = model.encoder(x)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    kl = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(-1).mean()
    assert abs(stats["kl"] - kl.item()) < 1e-5


def test_sivi_bound_matches_loop():
    torch.manual_seed(1)
    model = VAEFamily("sivi", 12, latent_dim=3)
    x = (torch.rand(2, 12) < 0.5).float()
    torch.manual_seed(5)
    _, stats = model.loss(x, 4)
    torch.manual_seed(5)  # same draws again
    z, psi, logvar = model.encoder.sample(x, 4)
    total = 0.0
    for b in range(2):
        comp = torch.distributions.Normal(psi[:, b], (0.5 * logvar[b]).exp())
        for i in range(4):
            logs = torch.stack([comp.log_prob(z[i, b])[j].sum() for j in range(4)])
            log_q = torch.logsumexp(logs, 0) - math.log(4)
            total += (log_q - log_normal(z[i, b])).item()
    assert abs(stats["kl"] - total / 8) < 1e-4


@pytest.mark.parametrize("method", METHODS)
def test_every_method_trains_encoder_decoder_and_kernel(method):
    torch.manual_seed(0)
    model = VAEFamily(method, 30, latent_dim=4, kernel_features=64)
    x = (torch.rand(8, 30) < 0.3).float()
    loss, stats = model.loss(x, 6)
    assert torch.isfinite(loss) and stats["rec"] < 0
    loss.backward()
    for part in (model.encoder, model.decoder, model.kernel):
        if part is None:
            continue
        grads = [p.grad for p in part.parameters() if p.grad is not None]
        assert grads and any(g.abs().sum() > 0 for g in grads), f"{method}: no gradient reaches {type(part).__name__}"
    assert (model.kernel is not None) == (method in ("info-ivae-ikl", "info-ivae-dk"))


def test_unknown_method_is_rejected():
    with pytest.raises(ValueError, match="unknown VAE method"):
        VAEFamily("info-ivae-xx", 10)


@pytest.mark.parametrize("method", ["info-ivae-ikl", "info-ivae-dk"])
def test_kernel_step_increases_the_information_mmd(method):
    # 000 eq. 15 maximises α·MMD_ψ over ψ: a small descent step on the loss must raise the MMD term
    torch.manual_seed(0)
    model = VAEFamily(method, 30, latent_dim=4, kernel_features=256)
    x = (torch.rand(8, 30) < 0.3).float()

    def info_mmd():
        torch.manual_seed(7)  # same encoder draws, x subset and random features each time
        return model._info_mmd(model.encoder.sample(x, 16))

    before = info_mmd()
    model.zero_grad()
    torch.manual_seed(7)
    loss, _ = model.loss(x, 16)
    loss.backward()
    with torch.no_grad():
        for p in model.kernel_parameters():
            p -= 0.05 * p.grad
    assert info_mmd() > before
