"""Each toy model learns a trivial target, checkpoints its whole state, and rejects bad hyper-parameters."""
import pytest
import torch

from repro.core.toy import FAMILIES, build_toy_model

TARGET = torch.tensor([1.5, -1.0])
SIGMA = 0.1
FAST = {  # short runs need larger steps than the paper's settings
    "gan": {"lr_g": 1e-2, "lr_d": 1e-2, "z_dim": 2, "hidden": 32},
    "unrolled-gan": {"lr_g": 1e-2, "lr_d": 1e-2, "z_dim": 2, "hidden": 32, "unroll_steps": 2},
    "veegan": {"lr_g": 1e-2, "lr_d": 1e-2, "z_dim": 2, "hidden": 32},
    "vae": {"lr": 1e-2, "z_dim": 2, "hidden": 32},
    "sig": {"lr": 1e-2, "z_dim": 2, "hidden": 32, "m": 32},
}


def target_batch(n, gen):
    return TARGET + SIGMA * torch.randn(n, 2, generator=gen)


def mean_sq_distance(model):
    return (model.sample(500) - TARGET).pow(2).sum(1).mean().item()


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_learns_a_single_gaussian(family):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    model = build_toy_model(family, FAST[family], sigma=SIGMA)
    before = mean_sq_distance(model)
    losses = [model.train_step(target_batch(64, gen))["loss"] for _ in range(150)]
    after = mean_sq_distance(model)
    assert after < 0.2 * before, (before, after)
    if family in ("vae", "sig"):  # likelihood-based losses must go down (adversarial ones need not)
        assert sum(losses[-10:]) < sum(losses[:10])


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_state_round_trip_continues_identically(family):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(2)
    a = build_toy_model(family, FAST[family], sigma=SIGMA)
    for _ in range(3):
        a.train_step(target_batch(16, gen))
    torch.manual_seed(5)
    b = build_toy_model(family, FAST[family], sigma=SIGMA)  # different initial weights
    b.load_state(a.state())
    x = target_batch(16, gen)
    torch.manual_seed(7)
    la = a.train_step(x)
    torch.manual_seed(7)
    lb = b.train_step(x)
    assert la == lb
    for (n, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(p, q), n


def test_optimisers_are_found_for_checkpointing():
    assert set(build_toy_model("veegan", {}, sigma=SIGMA).optimizers()) == {"opt_g", "opt_d"}
    assert set(build_toy_model("sig", {}, sigma=SIGMA).optimizers()) == {"opt"}


def test_bad_model_names_and_parameters():
    with pytest.raises(ValueError, match="unknown toy model 'gann'"):
        build_toy_model("gann", {}, sigma=SIGMA)
    with pytest.raises(ValueError, match="bad hyper-parameters for toy model 'sig'"):
        build_toy_model("sig", {"unroll_steps": 3}, sigma=SIGMA)
    with pytest.raises(ValueError, match="generator_loss"):
        build_toy_model("gan", {"generator_loss": "wasserstein"}, sigma=SIGMA)
