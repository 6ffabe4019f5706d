"""IKL and KernelNet DK kernels (000 eqs. 4-7, 10): symmetry, brute-force values, convergence to the
closed-form kernel, reduction to IKL, and Ω's Jacobian against torch.autograd.functional.jacobian."""
import copy
import math

import pytest
import torch
from torch import nn

from repro.core.kernelnet import dk_kernel, ikl_kernel
from repro.core.kernelnet_losses import mmd_dk_d, rep_dk_d, smmd_dk_delta
from repro.core.mmd import mmd2


@pytest.fixture(autouse=True)
def float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def test_dk_gram_is_symmetric_and_matches_rectangular_form():
    torch.manual_seed(0)
    k = dk_kernel(3, n_features=64)
    z = torch.randn(9, 3)
    torch.manual_seed(1)
    g = k.gram(z)
    # (i, j) and (j, i) come from different BLAS micro-kernels, so symmetry holds to rounding only:
    # each entry sums 2N = 128 terms of size <= 2/N in float64, |error| <= 2N·ε·2 ≈ 6e-14.
    assert torch.allclose(g, g.T, rtol=0, atol=1e-13)
    torch.manual_seed(1)  # same random features: the all-pairs form gives the same matrix
    assert torch.allclose(k(z, z), g, atol=1e-12)


def test_dk_values_match_explicit_loop_over_pairs_and_features():
    """κ = (2/N) Σ_i cos(ω1_iᵀz1 + b1_i) cos(ω1_iᵀz2 + b1_i) + (2/N) Σ_i cos(ω_iᵀz1 + b_i) cos(ω_iᵀz2 + b_i),
    ω_i = (ω′_i(z1, z2) + ω′_i(z2, z1)) / 2, ω′_i(z1, z2) = μ(z1, z2) + ε_i ⊙ σ(z1, z2)   (000 eqs. 4, 6, 7)."""
    torch.manual_seed(0)
    d, n_feat = 2, 5
    k = dk_kernel(d, n_features=n_feat)
    z = torch.randn(4, d)
    torch.manual_seed(7)
    got = k.gram(z)
    torch.manual_seed(7)  # replay the draws in the order the kernel makes them
    omega1 = k.psi1.net(torch.randn(n_feat, d))
    b1 = torch.rand(n_feat) * 2 * math.pi
    eps = torch.randn(n_feat, d)
    b2 = torch.rand(n_feat) * 2 * math.pi
    with torch.no_grad():
        for p in range(4):
            for q in range(4):
                z1, z2 = z[p], z[q]
                mu12, s12 = k.psi2._mu_sigma(z1, z2)
                mu21, s21 = k.psi2._mu_sigma(z2, z1)
                total = 0.0
                for i in range(n_feat):
                    total += 2 / n_feat * math.cos(omega1[i] @ z1 + b1[i]) * math.cos(omega1[i] @ z2 + b1[i])
                    w = ((mu12 + eps[i] * s12) + (mu21 + eps[i] * s21)) / 2
                    total += 2 / n_feat * math.cos(w @ z1 + b2[i]) * math.cos(w @ z2 + b2[i])
                assert got[p, q].item() == pytest.approx(total, abs=1e-10)


def _closed_form(k, a, z):
    """With g_ψ1(ε) = A ε, ω1 ~ N(0, AAᵀ): κ1 = exp(-½ tᵀAAᵀt); given (m, s), κ2 = cos(mᵀt) exp(-½ Σ s²t²)."""
    t = z[:, None, :] - z[None, :, :]
    k1 = torch.exp(-0.5 * ((t @ a) ** 2).sum(-1))
    n = z.shape[0]
    z1 = z[:, None, :].expand(n, n, -1)
    z2 = z[None, :, :].expand(n, n, -1)
    m, s = k.psi2.symmetric_params(z1, z2)
    k2 = torch.cos((m * t).sum(-1)) * torch.exp(-0.5 * (s**2 * t**2).sum(-1))
    return k1 + k2


def test_dk_monte_carlo_estimate_converges_to_closed_form():
    torch.manual_seed(0)
    d = 2
    k = dk_kernel(d)
    a = torch.tensor([[0.8, 0.1], [-0.3, 0.5]])
    k.psi1.net = nn.Linear(d, d, bias=False)
    k.psi1.net.weight.data = a.T.clone()  # Linear gives ω1 = ε @ a, so ω1ᵀt = εᵀ(a t) ~ N(0, ‖a t‖²)
    z = torch.randn(6, d)
    with torch.no_grad():
        exact = _closed_form(k, a.T, z)  # ‖a t‖ = ‖t aᵀ‖ for row vectors t
        errors = {}
        for n_feat in (64, 4096, 65536):
            k.n_features = n_feat
            errs = [(k.gram(z) - exact).abs().mean().item() for _ in range(3)]
            errors[n_feat] = sum(errs) / len(errs)
    assert errors[65536] < errors[64] / 8  # ~1/√N: a factor 32 in theory
    assert errors[65536] < 0.01


def test_dk_without_data_dependent_part_is_exactly_ikl():
    torch.manual_seed(0)
    dk = dk_kernel(3, n_features=128)
    ikl = ikl_kernel(3, n_features=128)
    ikl.psi1 = copy.deepcopy(dk.psi1)
    dk.psi2 = None
    z = torch.randn(7, 3)
    torch.manual_seed(5)
    g_dk = dk.gram(z)
    torch.manual_seed(5)
    g_ikl = ikl.gram(z)
    assert torch.equal(g_dk, g_ikl)
    assert dk.name == "ikl"


def test_omega_jacobian_term_matches_autograd_functional_jacobian():
    torch.manual_seed(0)
    d = 3
    k = dk_kernel(d, hidden=8)
    z1, z2 = torch.randn(4, d), torch.randn(4, d)
    jm, js = k.psi2.difference_jacobian(z1, z2)
    for p in range(4):
        def ms(a, b):
            m, s = k.psi2.symmetric_params(a, b)
            return torch.cat([m, s])

        ja, jb = torch.autograd.functional.jacobian(ms, (z1[p], z2[p]))
        ref = ja - jb  # ∂/∂z1 - ∂/∂z2
        assert torch.allclose(jm[p], ref[:d], atol=1e-10)
        assert torch.allclose(js[p], ref[d:], atol=1e-10)


def test_omega_is_differentiable_and_positive():
    torch.manual_seed(0)
    k = dk_kernel(2, hidden=8, n_features=32)
    z = torch.randn(10, 2, requires_grad=True)
    om = k.omega(z, n_pairs=20)
    om.backward()
    assert om.item() > 0
    grads = [p.grad for p in k.psi2.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert z.grad is not None and torch.isfinite(z.grad).all()


def test_rep_dk_with_eta_minus_one_is_mmd_dk():
    """000 eq. 13-14: η = -1 reduces Rep-GAN-DK to SN-MMD-GAN-DK (same Ω weight)."""
    torch.manual_seed(0)
    k = dk_kernel(2, hidden=8, n_features=64)
    fx, fy = torch.randn(6, 2), torch.randn(6, 2)
    torch.manual_seed(3)
    a = rep_dk_d(k, fx, fy, eta=-1.0, alpha2=0.0)
    torch.manual_seed(3)
    b = mmd_dk_d(k, fx, fy, alpha2=0.0)
    torch.manual_seed(3)
    c = -mmd2(fx, fy, k)
    assert a.item() == pytest.approx(b.item(), rel=1e-12)
    assert b.item() == pytest.approx(c.item(), rel=1e-12)


def test_smmd_dk_delta_matches_closed_form_for_linear_discriminator():
    """h(x) = wᵀx (1-D output): ‖∇h‖² = ‖w‖² everywhere, so δ = 1/(1 + ‖w‖²(ζ E‖ω2(z,z)‖² + E‖ω1‖²))."""
    torch.manual_seed(0)
    k = dk_kernel(1, n_features=4096)
    w = torch.randn(5)
    x = torch.randn(8, 5, requires_grad=True)
    fx = (x @ w)[:, None]
    torch.manual_seed(2)
    delta = smmd_dk_delta(k, x, fx, zeta=2.0)
    torch.manual_seed(2)
    w1 = k.omega1_sq_norm()
    m, s = k.psi2.symmetric_params(fx, fx)
    w2 = (m**2 + s**2).sum(-1).mean()
    ref = 1.0 / (1.0 + (w @ w) * (2.0 * w2 + w1))
    assert delta.item() == pytest.approx(ref.item(), rel=1e-10)
