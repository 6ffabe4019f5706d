"""Scaled MMD, MMD-rep-gp, witness gradient penalty, classic GAN losses, WGAN-GP and consistency
regularisation, each against an independent computation."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from repro.core import rbf_single, rbf_sum, rq_sum
from repro.core.losses import (consistency_penalty, flip_and_translate, gradient_penalty, hinge_d, hinge_g,
                               minimax_d, minimax_g, nonsaturating_g, wasserstein_d)
from repro.core.mmd import loss_d_att, loss_d_rep, means
from repro.core.mmd_gradient import (features_with_input_grad, jacobian_sq_norms, rep_gp_d, smmd_losses,
                                     smmd_scale, smmd_sigma2, witness_gradient_penalty)


@pytest.fixture(autouse=True)
def float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def small_critic(d_in=3, d_out=2):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(d_in, 5), nn.Tanh(), nn.Linear(5, d_out))


def test_jacobian_sq_norms_match_autograd_functional_jacobian():
    net = small_critic()
    x = torch.randn(4, 3)
    xg, fx = features_with_input_grad(net, x)
    got = jacobian_sq_norms(fx, xg)
    for n in range(4):
        jac = torch.autograd.functional.jacobian(net, x[n])
        assert got[n].item() == pytest.approx(jac.pow(2).sum().item(), rel=1e-10)


class PolyKernel:
    """A non-radial kernel (KID's cubic polynomial) to exercise the generic second-derivative path."""

    def __call__(self, a, b):
        return (a @ b.T / a.shape[1] + 1.0) ** 3


@pytest.mark.parametrize("kernel", [rbf_sum(), rq_sum(), rbf_single(), PolyKernel()], ids=["rbf", "rq", "rbf1", "poly"])
def test_general_smmd_sigma_matches_brute_force_second_derivatives(kernel):
    """σ^{-2} = λ + E k(x,x) + E Σ_i ∂²k(x,y)/∂x_i∂y_i |_{y=x}, k(x,y) = K(D(x), D(y)) (talk 001),
    with the mixed second derivatives taken by autograd on the composed kernel."""
    net = small_critic()
    x = torch.randn(3, 3)
    lam = 0.7
    xg, fx = features_with_input_grad(net, x)
    got = smmd_sigma2(kernel, xg, fx, lam)

    def k_xy(xy):
        a, b = xy[:3], xy[3:]
        if hasattr(kernel, "of_sqdist"):  # direct difference: no Gram-matrix expansion at a = b
            return kernel.of_sqdist((net(a) - net(b)).pow(2).sum())
        return kernel(net(a)[None], net(b)[None])[0, 0]

    diag, cross = 0.0, 0.0
    for n in range(3):
        h = torch.autograd.functional.hessian(k_xy, torch.cat([x[n], x[n]]))
        cross += torch.diagonal(h[:3, 3:]).sum().item()
        diag += k_xy(torch.cat([x[n], x[n]])).item()
    ref = 1.0 / (lam + diag / 3 + cross / 3)
    assert got.item() == pytest.approx(ref, rel=1e-8)


def test_gaussian_smmd_scale_and_losses():
    """003 eq. S7 with gradients from autograd per sample; generator loss is σ² MMD² with no grad through σ."""
    net = small_critic(d_out=1)
    x, y = torch.randn(5, 3), torch.randn(5, 3) + 1
    xg, fx = features_with_input_grad(net, x)
    fy = net(y)
    grads = []
    for n in range(5):
        xi = x[n:n + 1].clone().requires_grad_(True)
        grads.append(torch.autograd.grad(net(xi).sum(), xi)[0])
    ref_scale = 1.0 / (1.0 + 10.0 * sum(g.pow(2).sum().item() for g in grads) / 5)
    assert smmd_scale(jacobian_sq_norms(fx, xg), 10.0).item() == pytest.approx(ref_scale, rel=1e-10)
    m = means(fx, fy, rbf_single())
    d_loss = smmd_losses(rbf_single(), xg, fx, fy, lam=10.0)
    assert d_loss.item() == pytest.approx(ref_scale * loss_d_att(m).item(), rel=1e-10)
    g_loss = smmd_losses(rbf_single(), xg, fx, fy, lam=10.0, for_generator=True)
    assert g_loss.item() == pytest.approx(-d_loss.item(), rel=1e-10)


def test_rep_gp_matches_formula_and_is_nonpositive():
    net = small_critic(d_out=1)
    x, y = torch.randn(6, 3), torch.randn(6, 3)
    xg, fx = features_with_input_grad(net, x)
    fy = net(y)
    val = rep_gp_d(rbf_single(), xg, fx, fy, lam=0.1)
    m = means(fx, fy, rbf_single())
    ref = (loss_d_rep(m) - 1.0) / (1.0 + 0.1 * jacobian_sq_norms(fx, xg).mean())
    assert val.item() == pytest.approx(ref.item(), rel=1e-12)
    assert val.item() <= 0.0


def test_witness_gradient_penalty_brute_force():
    net = small_critic(d_out=2)
    x, y = torch.randn(4, 3), torch.randn(4, 3)
    fx, fy = net(x), net(y)
    torch.manual_seed(11)
    got = witness_gradient_penalty(net, rbf_single(), x, y, fx, fy)
    torch.manual_seed(11)
    u = torch.rand(4, 1)
    total = 0.0
    for n in range(4):
        t = (u[n] * x[n] + (1 - u[n]) * y[n]).clone().requires_grad_(True)

        def witness(tt):
            ft = net(tt)
            kx = torch.exp(-((fx.detach() - ft) ** 2).sum(1) / 2).mean()
            ky = torch.exp(-((fy.detach() - ft) ** 2).sum(1) / 2).mean()
            return kx - ky

        (g,) = torch.autograd.grad(witness(t), t)
        total += (g.norm().item() - 1.0) ** 2
    assert got.item() == pytest.approx(total / 4, rel=1e-10)


def test_classic_losses_match_formulas():
    dr, df = torch.tensor([0.3, -1.2, 2.0]), torch.tensor([-0.5, 0.1, 1.5])
    sp = lambda v: math.log1p(math.exp(v))  # noqa: E731
    assert minimax_d(dr, df).item() == pytest.approx(
        sum(sp(-a) for a in dr.tolist()) / 3 + sum(sp(b) for b in df.tolist()) / 3)
    assert minimax_g(df, dr).item() == pytest.approx(-minimax_d(dr, df).item())
    assert nonsaturating_g(df).item() == pytest.approx(sum(sp(-b) for b in df.tolist()) / 3)
    assert hinge_d(dr, df).item() == pytest.approx(
        sum(max(0, 1 - a) for a in dr.tolist()) / 3 + sum(max(0, 1 + b) for b in df.tolist()) / 3)
    assert hinge_g(df).item() == pytest.approx(-sum(df.tolist()) / 3)
    assert wasserstein_d(dr, df).item() == pytest.approx(sum(df.tolist()) / 3 - sum(dr.tolist()) / 3)


def test_wgan_gp_is_exact_for_a_linear_critic():
    w = torch.tensor([0.3, -2.0, 0.5])
    critic = lambda v: v @ w  # noqa: E731  ‖∇D‖ = ‖w‖ everywhere
    gp = gradient_penalty(critic, torch.randn(5, 3), torch.randn(5, 3))
    assert gp.item() == pytest.approx((w.norm().item() - 1.0) ** 2, rel=1e-12)


def test_flip_and_translate_is_a_flipped_reflect_padded_crop():
    x = torch.arange(2 * 1 * 5 * 5, dtype=torch.float64).view(2, 1, 5, 5)
    torch.manual_seed(4)
    out = flip_and_translate(x, max_shift=2)
    torch.manual_seed(4)
    flip = torch.rand(2) < 0.5
    dx, dy = torch.randint(0, 5, (2,)), torch.randint(0, 5, (2,))
    for n in range(2):
        img = x[n].flip(2) if flip[n] else x[n]
        padded = F.pad(img[None], (2, 2, 2, 2), mode="reflect")[0]
        ref = padded[:, dy[n]:dy[n] + 5, dx[n]:dx[n] + 5]
        assert torch.equal(out[n], ref)
    assert torch.equal(flip_and_translate(x, max_shift=0).sort(-1).values, x.sort(-1).values)


def test_consistency_penalty_zero_for_invariant_critic_and_positive_otherwise():
    x = torch.randn(4, 3, 8, 8)
    mean_critic = lambda v: v.mean((1, 2, 3))[:, None] * 0 + 1.0  # noqa: E731  constant
    assert consistency_penalty(mean_critic, x).item() == 0.0
    torch.manual_seed(0)
    corner = lambda v: v[:, :, 0, :2].flatten(1)  # noqa: E731
    torch.manual_seed(1)
    got = consistency_penalty(corner, x)
    torch.manual_seed(1)
    ref = (corner(x) - corner(flip_and_translate(x))).pow(2).sum(1).mean()
    assert got.item() == pytest.approx(ref.item(), rel=1e-12) and got.item() > 0
