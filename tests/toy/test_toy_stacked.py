"""Seeds trained together (repro.core.toy.stacked) against the one-seed models trained alone.

Same initial weights (both built under torch.manual_seed(seed)), same data, same latent draws
(each seed's own torch.Generator feeds both): after a few steps every seed's weights must agree
with its one-seed twin to 1e-5. The two sides use different kernels (nn.Linear + torch.optim.Adam
per seed vs baddbmm + one foreach Adam over the stacked tensors), so agreement is to float32
rounding, not bitwise; Adam normalises steps to ~lr = 1e-3 each, so rounding stays ~1e-6 after 5 steps.
"""
import pytest
import torch

from repro.core.toy import build_toy_model
from repro.core.toy.stacked import StackedToy, _NETS

PARAMS = {
    "gan": {"z_dim": 4, "hidden": 16, "lr_g": 1e-3, "lr_d": 1e-4, "betas": [0.5, 0.999]},
    "gan-minimax": {"z_dim": 4, "hidden": 16, "lr_g": 1e-3, "lr_d": 1e-4, "betas": [0.5, 0.999],
                    "generator_loss": "minimax"},
    "unrolled-gan": {"z_dim": 4, "hidden": 16, "lr_g": 1e-3, "lr_d": 1e-4, "betas": [0.5, 0.999], "unroll_steps": 3},
    "veegan": {"z_dim": 4, "hidden": 16, "lr_g": 1e-3, "lr_d": 1e-3, "betas": [0.5, 0.999]},
    "vae": {"z_dim": 4, "hidden": 16, "lr": 1e-3},
    "sig": {"z_dim": 4, "hidden": 16, "lr": 1e-3, "m": 24},
}
FAMILY = {"gan-minimax": "gan"}  # a case's model family, where the case is not named after it
SEEDS = [0, 3, 7]
STEPS = 5
N = 40


def _plain_weights(model, family):
    out = {}
    for name in _NETS[family][0]:
        if name == "log_tau":
            out[name] = [model.log_tau.detach()[None, :]]
        else:
            out[name] = [t for lin in getattr(model, name) if isinstance(lin, torch.nn.Linear)
                         for t in (lin.weight.detach().T, lin.bias.detach()[None, :])]
    return out


@pytest.mark.parametrize("compile", [False, True], ids=["eager", "compiled"])
@pytest.mark.parametrize("case", list(PARAMS))
def test_seeds_trained_together_match_each_seed_trained_alone(case, compile):
    """Eager and compiled (torch.compile: other kernels, the fused small layers) alike."""
    family, params = FAMILY.get(case, case), PARAMS[case]
    data = [torch.randn(STEPS, N, 2, generator=torch.Generator().manual_seed(100 + s)) * 2 for s in SEEDS]
    stacked = StackedToy(family, params, 0.1, SEEDS, compile=compile)
    rngs = [torch.Generator().manual_seed(1000 + s) for s in SEEDS]
    for t in range(STEPS):
        losses = stacked.train_step(torch.stack([d[t] for d in data]), rngs)
        assert all(v.shape == (len(SEEDS),) for v in losses.values())
    assert stacked.compile == compile  # no fallback to eager
    assert bool(stacked._compiled) == compile
    for i, seed in enumerate(SEEDS):
        torch.manual_seed(seed)
        plain = build_toy_model(family, params, 0.1)
        g = torch.Generator().manual_seed(1000 + seed)
        plain.noise = lambda n, g=g: torch.randn(n, plain.z_dim, generator=g)
        for t in range(STEPS):
            plain.train_step(data[i][t])
        want = _plain_weights(plain, family)
        for name, ps in stacked.nets.items():
            for p, w in zip(ps, want[name]):
                torch.testing.assert_close(p[i].detach(), w, rtol=0, atol=1e-5)


@pytest.mark.parametrize("family", list(_NETS))
def test_seed_state_round_trip_continues_identically(family):
    """Saving each seed's state, loading it into a fresh stack and stepping on gives the same weights."""
    a = StackedToy(family, PARAMS[family], 0.1, SEEDS)
    ra = [torch.Generator().manual_seed(s) for s in SEEDS]
    x = torch.randn(len(SEEDS), N, 2)
    a.train_step(x, ra)
    b = StackedToy(family, PARAMS[family], 0.1, SEEDS[::-1])
    b.load_seed_states([a.seed_state(i) for i in range(len(SEEDS))])
    rb = [torch.Generator().set_state(g.get_state()) for g in ra]
    a.train_step(x, ra)
    b.train_step(x, rb)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
