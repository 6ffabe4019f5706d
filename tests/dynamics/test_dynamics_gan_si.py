"""GAN-SI (004 Alg. 1) and the MNIST-3 networks of 004 App. C."""
import math

import numpy as np
import pytest
import torch
from scipy.stats import norm

from repro.core import gan_si
from repro.core.nets.mnist3 import SIZES, build_mnist3, network_size


def brute_force_h_m(x, theta, sigma):
    """-1/N Σ_i log 1/M Σ_j Π_d N(x_id; θ_jd, σ²), by explicit loops and scipy's normal log-density."""
    total = 0.0
    for xi in x:
        logs = [norm.logpdf(xi, loc=tj, scale=sigma).sum() for tj in theta]
        top = max(logs)
        total += top + math.log(sum(math.exp(v - top) for v in logs) / len(logs))
    return -total / len(x)


def test_sig_term_equals_brute_force():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(5, 3, 4, 4, generator=g, dtype=torch.float64) * 2 - 1
    theta = torch.rand(7, 3, 4, 4, generator=g, dtype=torch.float64) * 2 - 1
    for sigma in (0.1, 0.7):
        got = float(gan_si.sig_term(x, theta, sigma))
        want = brute_force_h_m(x.flatten(1).numpy(), theta.flatten(1).numpy(), sigma)
        assert got == pytest.approx(want, rel=1e-9)


def test_lambda_puts_both_terms_on_the_same_scale():
    g = torch.Generator().manual_seed(1)
    x, theta = torch.randn(6, 3, 28, 28, generator=g), torch.randn(4, 3, 28, 28, generator=g)
    logits = torch.randn(4, generator=g)
    loss, parts = gan_si.generator_loss(logits, x, theta)
    assert parts["lambda"] * abs(parts["h_m"]) == pytest.approx(abs(parts["g_gan"]), rel=1e-5)
    assert float(loss) == pytest.approx(parts["g_gan"] + parts["lambda"] * parts["h_m"], rel=1e-5)
    plain, parts = gan_si.generator_loss(logits, x, theta, use_sig=False)
    bce = float(-torch.log(torch.sigmoid(logits)).mean())  # -1/M Σ log D(θ_j)
    assert float(plain) == pytest.approx(bce, rel=1e-5) and "h_m" not in parts
    fixed, parts = gan_si.generator_loss(logits, x, theta, lam=0.5)
    assert parts["lambda"] == 0.5


def test_generator_gradient_includes_sig_term():
    torch.manual_seed(0)
    gen, disc = build_mnist3("S")
    x = torch.rand(8, 3, 28, 28) * 2 - 1
    grads = {}
    for use_sig in (False, True):
        gen.zero_grad()
        theta = gen(torch.randn(8, 256, generator=torch.Generator().manual_seed(3)))
        loss, _ = gan_si.generator_loss(disc(theta), x, theta, use_sig=use_sig)
        loss.backward()
        grads[use_sig] = gen.fc[0].weight.grad.clone()
    assert not torch.allclose(grads[False], grads[True])


@pytest.mark.parametrize("size", list(SIZES))
def test_network_shapes_follow_app_c(size):
    k_g, k_d = network_size(size)
    gen, disc = build_mnist3(size)
    out = gen(torch.randn(3, 256))
    assert out.shape == (3, 3, 28, 28) and out.abs().max() <= 1
    assert disc(out).shape == (3,)
    convs = [m for m in disc.body if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [int(8 * k_d), int(16 * k_d), int(32 * k_d)]
    widths = [m.out_channels for m in gen.body if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
    assert widths == [int(64 * k_g), int(32 * k_g), int(8 * k_g), 3]


def test_train_step_moves_both_players():
    torch.manual_seed(0)
    gen, disc = build_mnist3("S")
    model = gan_si.GANSI(gen, disc)
    before = [p.detach().clone() for p in (gen.fc[0].weight, disc.fc.weight)]
    out = model.train_step(torch.rand(8, 3, 28, 28) * 2 - 1)
    assert all(np.isfinite(v) for v in out.values())
    assert not torch.equal(before[0], gen.fc[0].weight) and not torch.equal(before[1], disc.fc.weight)


def test_bad_size_and_sigma():
    with pytest.raises(ValueError, match="network size"):
        build_mnist3("XL")
    with pytest.raises(ValueError, match="sigma"):
        gan_si.GANSI(*build_mnist3("S"), sigma=0.0)
