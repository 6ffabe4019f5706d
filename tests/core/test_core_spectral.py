"""PICO and PIM (003 App. C) against the dense matrix of the convolution, 003's σ_PIM bounds, and the
Lipschitz parametrizations on the DCGAN discriminator."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch.autograd.functional import jacobian

from repro.core.nets.dcgan import DCGANDiscriminator
from repro.core.spectral import (PICO_C, ConvOperator, apply_lipschitz, conv_spectral_norm, matrix_spectral_norm,
                                 per_layer_coefficient)


def dense_operator(weight, input_shape, stride, padding, transposed=False):
    """Matrix of the (transposed) convolution, as the Jacobian of the linear map."""
    if transposed:
        f = lambda v: F.conv_transpose2d(v[None], weight, None, stride, padding).flatten()  # noqa: E731
    else:
        f = lambda v: F.conv2d(v[None], weight, None, stride, padding).flatten()  # noqa: E731
    jac = jacobian(f, torch.zeros(input_shape, dtype=weight.dtype), vectorize=True)
    return jac.reshape(jac.shape[0], -1)


# kernel size, stride, padding of every layer type in 003 Tables S1/S2
DCGAN_LAYERS = [(3, 1, 1, False), (4, 2, 1, False), (4, 2, 1, True)]


@pytest.mark.parametrize("k,s,p,transposed", DCGAN_LAYERS)
def test_pico_within_one_percent_of_dense_operator_norm(k, s, p, transposed):
    g = torch.Generator().manual_seed(k * 10 + s)
    for trial in range(3):
        c_in, c_out = 3, 4
        shape = (c_in, 6, 6)
        w = torch.randn((c_in, c_out, k, k) if transposed else (c_out, c_in, k, k), generator=g, dtype=torch.float64)
        exact = torch.linalg.matrix_norm(dense_operator(w, shape, s, p, transposed), ord=2).item()
        est = conv_spectral_norm(w, shape, stride=s, padding=p, n_iter=200, transposed=transposed, generator=g)
        assert est == pytest.approx(exact, rel=0.01)
        assert est <= exact * (1 + 1e-9)  # power iteration approaches from below


def test_adjoint_is_exact_for_odd_sizes():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(4, 3, 4, 4, generator=g, dtype=torch.float64)
    op = ConvOperator((3, 7, 7), stride=2, padding=1)
    v = torch.randn(1, 3, 7, 7, generator=g, dtype=torch.float64)
    u = torch.randn_like(op.apply(w, v))
    assert (op.apply(w, v) * u).sum().item() == pytest.approx((v * op.adjoint(w, u)).sum().item(), rel=1e-10)


@pytest.mark.parametrize("k,s", [(3, 1), (4, 2)])
def test_sigma_pim_inverse_lies_in_the_range_003_reports(k, s):
    """003 App. C.2: σ_PIM⁻¹ ∈ [σ_PICO⁻¹, √(hw)/s · σ_PICO⁻¹], i.e. σ_PIM ≤ σ_PICO ≤ √(hw)/s · σ_PIM."""
    g = torch.Generator().manual_seed(k)
    shape = (4, 8, 8)
    for trial in range(4):
        w = torch.randn(6, 4, k, k, generator=g, dtype=torch.float64)
        if trial % 2:  # also structured kernels (low rank across space) besides i.i.d. Gaussian ones
            w = w[:, :, :1, :1].expand(6, 4, k, k) * torch.rand(1, 1, k, k, generator=g, dtype=torch.float64)
        pico = torch.linalg.matrix_norm(dense_operator(w, shape, s, 1), ord=2).item()
        pim = matrix_spectral_norm(w)
        assert 1.0 / pim >= (1.0 / pico) * (1 - 1e-9)
        assert 1.0 / pim <= math.sqrt(k * k) / s / pico * (1 + 1e-9)


def test_pico_parametrization_normalises_each_layer_to_c():
    torch.manual_seed(0)
    disc = DCGANDiscriminator(32, out_dim=16)
    x = torch.randn(2, 3, 32, 32)
    apply_lipschitz(disc, "pico", example_input=x)
    disc.train()
    conv = disc.body[0]
    first = conv.parametrizations.weight[0]
    for _ in range(60):  # one power iteration per training forward pass, persistent vector
        w_eff = conv.weight
    sigma = conv_spectral_norm(w_eff.detach(), (3, 32, 32), 1, 1, n_iter=200)
    assert sigma == pytest.approx(PICO_C, rel=0.01)
    assert first._v.shape == (1, 3, 32, 32)
    # eval mode freezes the vectors
    disc.eval()
    v_before = first._v.clone()
    _ = conv.weight
    assert torch.equal(first._v, v_before)


def test_pim_and_coefficients():
    torch.manual_seed(0)
    disc = DCGANDiscriminator(32, out_dim=1)
    apply_lipschitz(disc, "pim", coeff=2.0)
    disc.train()
    head = disc.head
    for _ in range(80):
        w = head.weight
    assert matrix_spectral_norm(w.detach()) == pytest.approx(2.0, rel=0.01)
    assert per_layer_coefficient(8, total=64.0) == pytest.approx(64.0 ** (1 / 8))
    assert per_layer_coefficient(8) == pytest.approx(1 / 0.55)
    with pytest.raises(ValueError, match="unknown Lipschitz"):
        apply_lipschitz(DCGANDiscriminator(32), "pcio")
    with pytest.raises(ValueError, match="example_input"):
        apply_lipschitz(DCGANDiscriminator(32), "pico")


def test_spectral_parameterisation_has_learnable_scale():
    torch.manual_seed(0)
    disc = DCGANDiscriminator(32, out_dim=1)
    apply_lipschitz(disc, "spectral-param")
    gammas = [n for n, _ in disc.named_parameters() if n.endswith("gamma")]
    assert len(gammas) == 8
    out = disc(torch.randn(2, 3, 32, 32)).sum()
    out.backward()
    assert all(p.grad is not None for n, p in disc.named_parameters() if n.endswith("gamma"))


def test_pico_discriminator_called_twice_then_backward():
    """A training step evaluates D on real and fake batches before one backward pass."""
    torch.manual_seed(0)
    disc = DCGANDiscriminator(32, out_dim=4)
    apply_lipschitz(disc, "pico", example_input=torch.randn(1, 3, 32, 32))
    a, b = disc(torch.randn(2, 3, 32, 32)), disc(torch.randn(2, 3, 32, 32))
    (a.sum() - b.sum()).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in disc.parameters())
