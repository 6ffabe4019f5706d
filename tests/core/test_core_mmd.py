"""MMD² estimators, L_{D,λ} identities and the bounded RBF, checked against brute-force loops."""
import math

import pytest
import torch

from repro.core import mmd2, rbf_single, rbf_sum, rq_sum
from repro.core.kernels import RBF_SIGMAS, RQ_ALPHAS
from repro.core.mmd import (bounded_rbf_blocks, kernel_means, loss_d_att, loss_d_lambda, loss_d_lambda_bounded,
                            loss_d_rep, loss_g_mmd, means)



@pytest.fixture(autouse=True)
def float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def k_rbf(a, b, sigmas):
    d2 = sum((ai - bi) ** 2 for ai, bi in zip(a, b))
    return sum(math.exp(-d2 / (2 * s * s)) for s in sigmas)


def k_rq(a, b, alphas):
    d2 = sum((ai - bi) ** 2 for ai, bi in zip(a, b))
    return sum((1 + d2 / (2 * al)) ** (-al) for al in alphas)


def brute_mmd2(x, y, k):
    """003 eq. S4 by a double loop (diagonals excluded in all three sums)."""
    x, y = x.tolist(), y.tolist()
    n = len(x)
    sxx = sum(k(x[i], x[j]) for i in range(n) for j in range(n) if i != j)
    syy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j)
    sxy = sum(k(x[i], y[j]) for i in range(n) for j in range(n) if i != j)
    return (sxx + syy - 2 * sxy) / (n * (n - 1))


@pytest.mark.parametrize("kind", ["rbf", "rq", "rbf1"])
def test_unbiased_mmd2_matches_double_loop(kind):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(7, 3, generator=g), torch.randn(7, 3, generator=g) + 0.5
    kernel, ref = {
        "rbf": (rbf_sum(), lambda a, b: k_rbf(a, b, RBF_SIGMAS)),
        "rq": (rq_sum(), lambda a, b: k_rq(a, b, RQ_ALPHAS)),
        "rbf1": (rbf_single(), lambda a, b: k_rbf(a, b, (1.0,))),
    }[kind]
    assert mmd2(x, y, kernel).item() == pytest.approx(brute_mmd2(x, y, ref), rel=1e-10)


def test_unequal_sizes_use_full_cross_mean_and_biased_includes_diagonals():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(5, 2, generator=g), torch.randn(8, 2, generator=g)
    k = lambda a, b: k_rbf(a, b, (1.0,))  # noqa: E731
    xl, yl = x.tolist(), y.tolist()
    exx = sum(k(a, b) for i, a in enumerate(xl) for j, b in enumerate(xl) if i != j) / 20
    eyy = sum(k(a, b) for i, a in enumerate(yl) for j, b in enumerate(yl) if i != j) / 56
    exy = sum(k(a, b) for a in xl for b in yl) / 40
    assert mmd2(x, y, rbf_single()).item() == pytest.approx(exx + eyy - 2 * exy, rel=1e-10)
    vxx = sum(k(a, b) for a in xl for b in xl) / 25
    vyy = sum(k(a, b) for a in yl for b in yl) / 64
    assert mmd2(x, y, rbf_single(), unbiased=False).item() == pytest.approx(vxx + vyy - 2 * exy, rel=1e-10)


def test_mmd2_unbiased_on_average_and_zero_mean_under_null():
    g = torch.Generator().manual_seed(2)
    vals = [mmd2(torch.randn(10, 2, generator=g), torch.randn(10, 2, generator=g), rbf_single()).item()
            for _ in range(400)]
    mean, se = sum(vals) / len(vals), torch.tensor(vals).std().item() / math.sqrt(len(vals))
    assert abs(mean) < 4 * se  # unbiased: E MMD²_u = 0 when P = Q
    assert min(vals) < 0  # the unbiased estimate can go negative; the biased one cannot


def test_lambda_identities():
    g = torch.Generator().manual_seed(3)
    fx, fy = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    m = means(fx, fy, rbf_single())
    assert loss_d_lambda(m, -1.0).item() == pytest.approx(-mmd2(fx, fy, rbf_single()).item(), rel=1e-12)
    assert loss_d_att(m).item() == pytest.approx(-loss_g_mmd(m).item(), rel=1e-12)
    # λ = 1: 003 eq. 4, E k(x,x') - E k(y,y'), by loops
    k = lambda a, b: k_rbf(a, b, (1.0,))  # noqa: E731
    xl, yl = fx.tolist(), fy.tolist()
    exx = sum(k(a, b) for i, a in enumerate(xl) for j, b in enumerate(xl) if i != j) / 30
    eyy = sum(k(a, b) for i, a in enumerate(yl) for j, b in enumerate(yl) if i != j) / 30
    assert loss_d_lambda(m, 1.0).item() == pytest.approx(exx - eyy, rel=1e-10)
    assert loss_d_rep(m).item() == pytest.approx(exx - eyy, rel=1e-10)
    # the three weights of L_{D,λ} sum to zero (003 footnote 2): constant kernel gives 0
    const = kernel_means(torch.ones(4, 4), torch.ones(4, 4), torch.ones(4, 4))
    assert loss_d_lambda(const, 0.37).item() == pytest.approx(0.0, abs=1e-12)


def test_bounded_rbf_equals_rbf_inside_bounds():
    fx = torch.tensor([[0.0, 0.0], [0.6, 0.0], [0.0, 0.7]])  # within-group d² in (0.25, 4)
    fy = torch.tensor([[1.0, 0.2], [1.6, 0.9], [0.6, 1.2]])
    for lam in (-1.0, 1.0, 0.5):
        kxx, kyy, kxy = bounded_rbf_blocks(fx, fy, lam)
        plain = rbf_single()
        off = ~torch.eye(3, dtype=torch.bool)
        assert torch.allclose(kxx[off], plain(fx, fx)[off])
        assert torch.allclose(kyy[off], plain(fy, fy)[off])
        assert torch.allclose(kxy, plain(fx, fy))


@pytest.mark.parametrize("lam", [-1.0, 1.0])
def test_bounded_rbf_is_constant_outside_bounds(lam):
    """003 eq. 6 (λ=-1) and eq. 7 (λ=1): clipped values and zero gradient past the bounds."""
    fx = torch.tensor([[0.0, 0.0], [0.1, 0.0], [5.0, 0.0]], requires_grad=True)  # d²: 0.01 and 25, 24.01
    fy = torch.tensor([[0.0, 0.2], [0.0, 0.3], [0.0, -4.0]], requires_grad=True)
    kxx, kyy, kxy = bounded_rbf_blocks(fx, fy, lam)
    e_lo, e_hi = math.exp(-0.25 / 2), math.exp(-4.0 / 2)
    assert kyy[0, 1].item() == pytest.approx(e_lo)  # YY always contracted: clipped below at b_l
    if lam == -1.0:
        assert kxx[0, 1].item() == pytest.approx(e_lo)  # eq. 6: XX lower bound
        assert kxy[2, 2].item() == pytest.approx(e_hi)  # eq. 6: XY upper bound (d² = 41)
        assert kxx[0, 2].item() == pytest.approx(math.exp(-25 / 2))  # XX not clipped above
    else:
        assert kxx[0, 2].item() == pytest.approx(e_hi)  # eq. 7: XX upper bound
        assert kxx[0, 1].item() == pytest.approx(math.exp(-0.01 / 2))  # XX not clipped below
    # gradient through a clipped entry vanishes
    (gy,) = torch.autograd.grad(kyy[0, 1], fy, retain_graph=True)
    assert gy.abs().max().item() == 0.0
    # the loss built on it matches the manual formula
    n = 3
    off = ~torch.eye(n, dtype=torch.bool)
    manual = lam * kxx[off].mean() - (lam - 1) * kxy[off].mean() - kyy[off].mean()
    assert loss_d_lambda_bounded(fx, fy, lam).item() == pytest.approx(manual.item(), rel=1e-12)


def test_bad_shapes_raise_clear_errors():
    with pytest.raises(ValueError, match="same d"):
        rbf_single()(torch.randn(3, 2), torch.randn(3, 4))
    with pytest.raises(ValueError, match="at least 2 samples"):
        mmd2(torch.randn(1, 2), torch.randn(1, 2), rbf_single())
    with pytest.raises(ValueError, match="positive"):
        rbf_sum((1.0, -2.0))
