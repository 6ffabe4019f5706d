"""DiracGAN (001/002): autograd field vs hand-derived derivatives; behaviour vs the linearised eigenvalues."""
import math

import numpy as np
import pytest

from repro.core.dynamics import diracgan as dg

START, LR, STEPS = (1.0, 3.0), 0.1, 1500


def test_field_matches_hand_derivatives():
    th, ps = 0.7, 1.3
    e = math.exp(-ps ** 2 * th ** 2 / 2)
    # MMD² = 2(1 - e): ∂θ = 2ψ²θ e, ∂ψ = 2ψθ² e
    assert np.allclose(dg.field("mmd-gan", th, ps), [-2 * ps ** 2 * th * e, 2 * ps * th ** 2 * e])
    # WGAN: value -ψθ
    assert np.allclose(dg.field("wgan", th, ps), [ps, -th])
    assert np.allclose(dg.field("wgan-gp", th, ps, penalty=2.0), [ps, -th - 4.0 * (ps - 1)])
    # SMMD² = 2(1 - e)/(1 + ψ² + λ)
    lam = 1.0
    den = 1 + ps ** 2 + lam
    d_psi = 2 * ps * th ** 2 * e / den - 2 * (1 - e) * 2 * ps / den ** 2
    assert np.allclose(dg.field("smmd", th, ps), [-2 * ps ** 2 * th * e / den, d_psi])


def test_mmd_gp_penalty_against_brute_force_average():
    th, ps, lam = 0.8, 1.1, 1.0
    u = (np.arange(200_000) + 0.5) / 200_000  # midpoint rule over the interpolates

    def slope(t):
        return -ps ** 2 * t * np.exp(-(ps * t) ** 2 / 2) + ps ** 2 * (t - th) * np.exp(-(ps * (t - th)) ** 2 / 2)

    import torch
    critic, gen = dg.objectives("mmd-gan-gp", torch.tensor(th, dtype=torch.float64), torch.tensor(ps, dtype=torch.float64), lam)
    want = 2 * (1 - math.exp(-ps ** 2 * th ** 2 / 2)) - lam * np.mean((np.abs(slope(u * th)) - 1) ** 2)
    assert float(critic) == pytest.approx(want, abs=1e-6)


def test_linearised_eigenvalues():
    assert np.allclose(np.linalg.eigvals(dg.jacobian("wgan", 0.0, 0.0)), [1j, -1j])  # pure rotation
    for psi in (0.5, 2.0):  # on the equilibrium line θ = 0: the θ-eigenvalue in closed form
        assert min(np.linalg.eigvals(dg.jacobian("mmd-gan", 0.0, psi)).real) == pytest.approx(-2 * psi ** 2, rel=1e-5)
        assert min(np.linalg.eigvals(dg.jacobian("smmd", 0.0, psi)).real) == pytest.approx(
            -2 * psi ** 2 / (2 + psi ** 2), rel=1e-5)


def _tail_amplitude(path):
    return float(np.abs(path[-len(path) // 5:, 0]).max())


def test_crossings_count_sign_changes_across_the_band():
    assert dg.crossings([1.0, -1.0, 1.0, -1.0]) == 3
    assert dg.crossings([0.5, 1e-4, -1e-4, 0.6, -2e-3]) == 1  # inside the band keeps the last side
    assert dg.crossings(np.linspace(1.0, -20.0, 500)) == 1  # a drift through 0 is one crossing, not oscillation
    assert dg.crossings(1e-5 * np.cos(np.arange(1000) / 3)) == 0  # round-off around the equilibrium
    # sin(2πt/100 + 0.1) is 0 at t = (kπ - 0.1)·100/(2π): k = 1..20 fall in 0 < t < 1000
    assert dg.crossings(0.3 * np.sin(2 * np.pi * np.arange(1000) / 100 + 0.1)) == 20


def test_d_mmd_is_sqrt2_for_every_nonzero_theta():
    """001: D_MMD = sup_ψ MMD(φ_ψ(P), φ_ψ(Q_θ)) = √2; MMD² = 2(1 - exp(-ψ²θ²/2)) increases to 2 in |ψ|."""
    for theta in (-10.0, -1e-3, 1e-6, 0.3, 7.0):
        assert dg.d_mmd(theta) == pytest.approx(math.sqrt(2), abs=1e-12)
    assert dg.d_mmd(0.0) == 0.0
    psis = np.array([0.5, 2.0])  # a bounded critic does not reach the sup
    assert dg.d_mmd(1.0, psis) == pytest.approx(math.sqrt(2 * (1 - math.exp(-2.0))), rel=1e-12)


def test_wgan_oscillates():
    path = dg.simulate("wgan", *START, lr=LR, steps=STEPS)
    assert _tail_amplitude(path) > 0.5
    assert dg.crossings(path[-len(path) // 5:, 0]) >= 4  # period 2π/lr ≈ 63 steps: ~9 crossings in 300 steps
    # explicit Euler on eigenvalues ±i multiplies the radius by |1 + i·lr| > 1 per step: no decay
    assert abs(1 + 1j * LR) > 1


def test_mmd_gan_oscillates_and_its_critic_grows():
    path = dg.simulate("mmd-gan", *START, lr=LR, steps=STEPS)
    assert _tail_amplitude(path) > 0.1
    psi = abs(path[-1, 1])
    assert psi > START[1] + 1  # the unpenalised critic keeps sharpening
    # linearised at (0, ψ): eigenvalue -2ψ², and a gradient step with lr overshoots when |1 - 2 lr ψ²| > 1
    eig = min(np.linalg.eigvals(dg.jacobian("mmd-gan", 0.0, psi)).real)
    assert abs(1 + LR * eig) > 1


@pytest.mark.parametrize("method", ["mmd-gan-gp", "smmd"])
def test_penalised_mmd_converges(method):
    path = dg.simulate(method, *START, lr=LR, steps=STEPS)
    assert _tail_amplitude(path) < 1e-6
    eig = np.linalg.eigvals(dg.jacobian(method, 0.0, path[-1, 1]))
    assert min(eig.real) < 0 and abs(1 + LR * min(eig.real)) < 1  # contracting in θ, as observed


def test_wgan_gp_stalls_at_spurious_point():
    """The non-smooth penalty λ(|ψ|-1)² pins ψ near 0 once |θ| reaches 2λ: θ' = ψ → 0 there."""
    lam = 10.0
    path = dg.simulate("wgan-gp", *START, lr=LR, steps=STEPS, penalty=lam)
    assert abs(abs(path[-1, 0]) - 2 * lam) < 0.5 and abs(path[-1, 1]) < 0.05
    assert dg.crossings(path[:, 0]) <= 1  # a drift, not an oscillation


def test_wgan_gp_with_small_penalty_oscillates():
    """λ = 0.1: the spurious rest point θ = 2λ lies inside the cycle, and θ keeps crossing 0."""
    path = dg.simulate("wgan-gp", *START, lr=LR, steps=STEPS, penalty=0.1)
    assert dg.crossings(path[-len(path) // 5:, 0]) >= 4 and _tail_amplitude(path) > 0.5


def test_unknown_method():
    with pytest.raises(ValueError, match="unknown DiracGAN method"):
        dg.field("lsgan", 0.0, 0.0)
