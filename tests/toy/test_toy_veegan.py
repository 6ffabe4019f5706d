"""VEEGAN as its authors wrote it (Srivastava et al. 2017, Alg. 1; the authors' 2-D mixture notebook,
github.com/akashgit/VEEGAN at 97f07b77f350114c7c0fffd1c80a88008b687b86).

Each test recomputes one step's pieces by hand from the model's own weights and draws, so a form that
feeds the discriminator the deterministic F(x), scales the reconstruction term by 1 instead of ½, or
steps the generator against the already-updated discriminator fails here."""
import copy

import torch
import torch.nn.functional as F

from repro.core.toy import build_toy_model

PARAMS = {"z_dim": 3, "hidden": 8, "lr_g": 1e-2, "lr_d": 1e-2, "betas": [0.5, 0.999]}


def _model(seed: int = 0):
    torch.manual_seed(seed)
    return build_toy_model("veegan", PARAMS, 0.1)


def test_data_pair_code_is_sampled_from_the_reconstructor():
    """z_g ~ N(F(x), I): stochastic given x, mean F(x), unit variance per coordinate (Alg. 1 line 6).
    With 20,000 draws the sample mean's standard error is 1/sqrt(20000) ≈ 0.007 and the variance's
    ≈ sqrt(2/20000) = 0.01: tolerances of 0.05 are five standard errors."""
    model = _model()
    x = torch.tensor([[0.5, -1.0]])
    draws = torch.cat([model.data_pair_codes(x) for _ in range(20_000)])
    assert not torch.equal(draws[0], draws[1])
    with torch.no_grad():
        centre = model.reconstructor(x)[0]
    torch.testing.assert_close(draws.mean(0), centre, atol=0.05, rtol=0)
    torch.testing.assert_close(draws.var(0), torch.ones(PARAMS["z_dim"]), atol=0.05, rtol=0)


def test_one_step_is_algorithm_1_by_hand():
    """One train_step against the same step written out: the data pair (F(x) + ε, x), the generator's
    -log N(z; F(G(z)), I) = ½||z - F(G(z))||², every gradient at the pre-step weights, plain Adam."""
    model = _model(1)
    hand = copy.deepcopy(model)
    x = torch.randn(16, 2, generator=torch.Generator().manual_seed(5))
    torch.manual_seed(9)
    out = model.train_step(x)

    torch.manual_seed(9)  # the model's draws, in its order: z, then the reconstructor's noise
    z = torch.randn(16, PARAMS["z_dim"])
    eps = torch.randn(16, PARAMS["z_dim"])
    fake = hand.generator(z)
    with torch.no_grad():
        z_data = hand.reconstructor(x) + eps
    d_loss = (F.softplus(-hand.joint_logit(z, fake.detach())).mean()
              + F.softplus(hand.joint_logit(z_data, x)).mean())
    rec = 0.5 * (z - hand.reconstructor(fake)).pow(2).sum(1).mean()
    g_loss = hand.joint_logit(z, fake).mean() + rec
    d_params = list(hand.discriminator.parameters())
    g_params = list(hand.generator.parameters()) + list(hand.reconstructor.parameters())
    d_grads = torch.autograd.grad(d_loss, d_params)
    g_grads = torch.autograd.grad(g_loss, g_params)
    close = torch.testing.assert_close
    close(torch.tensor(out["rec"]), rec.detach(), rtol=1e-6, atol=1e-7)
    close(torch.tensor(out["d_loss"]), d_loss.detach(), rtol=1e-6, atol=1e-7)
    # Adam's first step moves every weight by lr · sign(grad) (to eps = 1e-8 against |grad|)
    for p_new, p_old, g in zip(list(model.discriminator.parameters()) + list(model.generator.parameters())
                               + list(model.reconstructor.parameters()), d_params + g_params, d_grads + g_grads):
        want = p_old.detach() - 1e-2 * g / (g.abs() + 1e-8)
        close(p_new.detach(), want, rtol=0, atol=1e-6)
