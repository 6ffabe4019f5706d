"""Unrolled GAN: the functional look-ahead equals torch's own Adam, and its gradient is the true derivative."""
import copy

import torch

from repro.core.toy import UnrolledGAN
from repro.core.toy.gan import discriminator_loss


def tiny_model(k: int, seed: int = 0) -> UnrolledGAN:
    torch.manual_seed(seed)
    # lr_d large enough that K look-ahead steps change the discriminator visibly
    return UnrolledGAN(z_dim=2, hidden=4, lr_d=0.05, unroll_steps=k).double()


def batch(seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(6, 2, generator=g, dtype=torch.float64), torch.randn(6, 2, generator=g, dtype=torch.float64)


def test_look_ahead_equals_torch_adam_steps():
    model = tiny_model(k=3)
    x, z = batch()
    model.train_step(x)  # non-empty Adam moments, step counter 1
    fake = model.generator(z).detach()
    unrolled = model.unrolled_discriminator(x, fake)

    reference = copy.deepcopy(model)  # independent path: the real torch.optim.Adam, three steps
    for _ in range(3):
        loss = discriminator_loss(reference.discriminator(x), reference.discriminator(fake))
        reference.opt_d.zero_grad()
        loss.backward()
        reference.opt_d.step()
    for name, p in reference.discriminator.named_parameters():
        assert torch.allclose(unrolled[name], p, rtol=0, atol=1e-12), name


def generator_grad(model, x, z):
    loss = model.unrolled_generator_loss(x, z)
    return torch.autograd.grad(loss, list(model.generator.parameters()))


def test_unrolled_gradient_differs_from_k0():
    x, z = batch()
    g0 = generator_grad(tiny_model(k=0), x, z)
    g5 = generator_grad(tiny_model(k=5), x, z)
    diff = max((a - b).abs().max().item() for a, b in zip(g0, g5))
    assert diff > 1e-3


def test_unrolled_gradient_matches_finite_differences():
    model = tiny_model(k=3)
    x, z = batch()
    model.train_step(x)
    grads = generator_grad(model, x, z)
    eps = 1e-6
    for p, g in zip(model.generator.parameters(), grads):
        flat, gflat = p.data.view(-1), g.view(-1)
        for i in range(0, flat.numel(), max(1, flat.numel() // 4)):
            old = flat[i].item()
            flat[i] = old + eps  # p.data: in-place edits outside autograd
            up = model.unrolled_generator_loss(x, z).item()
            flat[i] = old - eps
            down = model.unrolled_generator_loss(x, z).item()
            flat[i] = old
            numeric = (up - down) / (2 * eps)
            assert abs(numeric - gflat[i].item()) <= 1e-6 + 1e-5 * abs(numeric), (p.shape, i, numeric, gflat[i].item())
