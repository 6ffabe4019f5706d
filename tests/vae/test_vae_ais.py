"""AIS checked against models whose log p(x) is known exactly."""
import math

import pytest
import torch

from repro.metrics.ais import ais_log_likelihood, reverse_ais_log_likelihood, sigmoid_schedule


def linear_gaussian(latent_dim=3, data_dim=8, noise_std=0.3, seed=0):
    """x = W z + b + σ ε, z ~ N(0, I): log p(x) = log N(x; b, W Wᵀ + σ² I) and p(z|x) are closed form."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(data_dim, latent_dim, generator=g, dtype=torch.float64)
    b = torch.randn(data_dim, generator=g, dtype=torch.float64)

    def log_likelihood(z, x):
        mean = z @ w.T + b
        return torch.distributions.Normal(mean, noise_std).log_prob(x).sum(-1)

    def exact_log_px(x):
        cov = w @ w.T + noise_std ** 2 * torch.eye(data_dim, dtype=torch.float64)
        return torch.distributions.MultivariateNormal(b, cov).log_prob(x)

    def simulate(n, chains, gen):
        z = torch.randn(n, latent_dim, generator=gen, dtype=torch.float64)
        x = z @ w.T + b + noise_std * torch.randn(n, data_dim, generator=gen, dtype=torch.float64)
        # exact posterior N(μ, Σ): Σ = (I + WᵀW/σ²)⁻¹, μ = Σ Wᵀ (x − b)/σ²
        prec = torch.eye(latent_dim, dtype=torch.float64) + w.T @ w / noise_std ** 2
        cov = torch.linalg.inv(prec)
        mean = (x - b) @ w @ cov / noise_std ** 2
        chol = torch.linalg.cholesky(cov)
        post = mean + torch.randn(chains, n, latent_dim, generator=gen, dtype=torch.float64) @ chol.T
        return x, post

    return log_likelihood, exact_log_px, simulate


def test_sigmoid_schedule_endpoints_and_monotone():
    betas = sigmoid_schedule(50)
    assert betas[0] == 0 and betas[-1] == 1 and len(betas) == 51
    assert torch.all(betas[1:] > betas[:-1])
    gaps = betas[1:] - betas[:-1]
    assert gaps[0] < gaps[25] and gaps[-1] < gaps[25]  # dense near both ends


def test_ais_matches_linear_gaussian_log_px():
    ll, exact, simulate = linear_gaussian()
    x, _ = simulate(30, 1, torch.Generator().manual_seed(1))
    est = ais_log_likelihood(x, ll, latent_dim=3, num_chains=10, num_steps=500, leapfrog_steps=5, seed=3)
    error = est - exact(x)
    assert est.shape == (30,)
    assert error.abs().mean() < 0.5  # within 0.5 nats per example
    assert error.mean().abs() < 0.25
    assert error.abs().max() < 2.0


def test_bidirectional_monte_carlo_brackets_true_value():
    ll, exact, simulate = linear_gaussian(seed=4)
    x, post = simulate(30, 5, torch.Generator().manual_seed(5))
    truth = exact(x).mean()
    # few intermediate distributions: the two bounds are visibly apart and bracket log p(x)
    lower = ais_log_likelihood(x, ll, latent_dim=3, num_chains=5, num_steps=10, leapfrog_steps=3, seed=0).mean()
    upper = reverse_ais_log_likelihood(x, ll, post, num_steps=10, leapfrog_steps=3, seed=0).mean()
    assert lower < truth < upper
    # more intermediate distributions: the bracket closes in on log p(x) (each bound is stochastic,
    # so allow 0.1 nat of Monte Carlo noise on the wrong side)
    lower_long = ais_log_likelihood(x, ll, latent_dim=3, num_chains=5, num_steps=200, leapfrog_steps=3, seed=0).mean()
    upper_long = reverse_ais_log_likelihood(x, ll, post, num_steps=200, leapfrog_steps=3, seed=0).mean()
    assert lower_long < truth + 0.1 and upper_long > truth - 0.1
    assert upper_long - lower_long < 0.5 * (upper - lower)


def test_ais_bernoulli_decoder_against_quadrature():
    # one latent dimension: log p(x) = log ∫ N(z; 0, 1) Π_j Bern(x_j | σ(w_j z + b_j)) dz by a fine grid
    g = torch.Generator().manual_seed(0)
    w = 2.0 * torch.randn(12, generator=g, dtype=torch.float64)
    b = torch.randn(12, generator=g, dtype=torch.float64)

    def ll(z, x):
        logits = z * w + b  # z: [B, 1]
        return -torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)

    x = (torch.rand(6, 12, generator=g, dtype=torch.float64) < 0.5).double()
    grid = torch.linspace(-10, 10, 20001, dtype=torch.float64)
    dz = grid[1] - grid[0]
    log_prior = -0.5 * grid ** 2 - 0.5 * math.log(2 * math.pi)
    truth = torch.stack([torch.logsumexp(log_prior + ll(grid[:, None], xi.expand(len(grid), -1)), 0) + dz.log()
                         for xi in x])
    est = ais_log_likelihood(x, ll, latent_dim=1, num_chains=10, num_steps=200, leapfrog_steps=5, seed=1)
    assert (est - truth).abs().max() < 0.3


def test_ais_is_reproducible_and_row_independent_of_batch_order():
    ll, _, simulate = linear_gaussian()
    x, _ = simulate(6, 1, torch.Generator().manual_seed(1))
    a = ais_log_likelihood(x, ll, 3, num_chains=3, num_steps=20, leapfrog_steps=2, seed=7)
    b = ais_log_likelihood(x, ll, 3, num_chains=3, num_steps=20, leapfrog_steps=2, seed=7)
    assert torch.equal(a, b)


@pytest.mark.parametrize("kwargs", [dict(num_steps=0), dict(num_chains=0), dict(latent_dim=0)])
def test_ais_rejects_bad_arguments(kwargs):
    ll, _, _ = linear_gaussian()
    args = dict(latent_dim=3, num_chains=2, num_steps=5, leapfrog_steps=2) | kwargs
    with pytest.raises(ValueError):
        ais_log_likelihood(torch.zeros(2, 8, dtype=torch.float64), ll, **args)


def test_ais_rejects_log_likelihood_with_wrong_shape():
    with pytest.raises(ValueError, match="one value per row"):
        ais_log_likelihood(torch.zeros(2, 8), lambda z, x: z.sum(), latent_dim=3, num_chains=2, num_steps=3)


def test_ais_on_the_table3_decoder_matches_prior_importance_sampling():
    # the real Bernoulli decoder (random weights, sharpened) in a 2-D latent space, where 200,000
    # prior draws give log p(x) by plain importance sampling to within a few hundredths of a nat
    from repro.core.vae import BernoulliDecoder

    torch.manual_seed(0)
    decoder = BernoulliDecoder(data_dim=40, latent_dim=2, hidden=50).double().requires_grad_(False)
    for p in decoder.parameters():
        p.mul_(3.0)
    z_true = torch.randn(5, 2, dtype=torch.float64)
    x = torch.bernoulli(torch.sigmoid(decoder.logits(z_true)))
    prior = torch.randn(200_000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    truth = torch.stack([torch.logsumexp(decoder.log_likelihood(prior, xi), 0) - math.log(len(prior)) for xi in x])
    est = ais_log_likelihood(x, decoder.log_likelihood, latent_dim=2, num_chains=10, num_steps=300,
                             leapfrog_steps=5, seed=0)
    assert (est - truth).abs().max() < 0.3


# ------------------------------------------------------------------ the doubling check (issue 28, 000 Table 3)
class LinearGaussianDecoder(torch.nn.Module):
    """p(x|z) = N(Wz + b, σ²I), z ~ N(0, I): the model interface ivae.evaluate_nll uses (log_likelihood,
    latent_dim, requires_grad_), with log p(x) = log N(x; b, WWᵀ + σ²I) in closed form."""

    def __init__(self, latent_dim=4, data_dim=12, noise_std=0.5, seed=0):
        super().__init__()
        self.latent_dim = latent_dim
        self.ll, self.exact, self.simulate = linear_gaussian(latent_dim, data_dim, noise_std, seed)
        self.anchor = torch.nn.Parameter(torch.zeros(1))  # gives requires_grad_ something to toggle

    def log_likelihood(self, z, x):
        return self.ll(z, x)


def _mean_error(model, x, chains, steps):
    est = ais_log_likelihood(x, model.log_likelihood, model.latent_dim, num_chains=chains, num_steps=steps,
                             leapfrog_steps=5, seed=0)
    error = est - model.exact(x)
    return float(error.mean()), float(error.std() / math.sqrt(len(x)))


def test_ais_converges_to_the_exact_linear_gaussian_log_px_as_chains_and_steps_grow():
    # 4 latent dimensions, 12 observed with σ = 0.5: the posterior is narrow next to the prior, so short
    # annealing is far below log p(x) and each rung of the ladder must close most of the gap
    model = LinearGaussianDecoder()
    x, _ = model.simulate(30, 1, torch.Generator().manual_seed(1))
    ladder = [(1, 2), (2, 20), (8, 100), (16, 800)]
    errors = [_mean_error(model, x, c, t) for c, t in ladder]
    means = [m for m, _ in errors]
    assert all(abs(b) < abs(a) for a, b in zip(means, means[1:])), means
    assert means[0] < -10  # 1 chain × 2 steps: a gross underestimate (AIS is a stochastic lower bound)
    mean, se = errors[-1]
    # 16 × 800: within three standard errors of the mean over the 30 points (Monte Carlo noise) plus 0.1
    # nat for the lower bound's remaining downward bias (Jensen gap ≈ Var(log w)/2C, small at 16 chains)
    assert -(3 * se + 0.1) < mean < 3 * se, (mean, se)


def test_doubling_check_flags_too_few_chains_and_steps_and_passes_sufficient_ones():
    from repro.tasks import ivae

    model = LinearGaussianDecoder()
    x, _ = model.simulate(30, 1, torch.Generator().manual_seed(2))
    truth_nll = float(-model.exact(x).mean())

    def check(chains, steps):
        cfg = {"seed": 0, "ais": {"examples": len(x), "chains": chains, "steps": steps, "leapfrog": 5,
                                  "doubling_check": True}}
        metrics, note = ivae.evaluate_nll(model, x, cfg, x.device)
        assert set(metrics) == {"nll", "nll_doubled"} and "doubling check" in note
        return metrics["nll"], metrics["nll_doubled"]

    small, small_doubled = check(1, 2)
    # too small: doubling moves the NLL by nats, and the estimate is far from the truth
    assert small - small_doubled > 1.0 and small - truth_nll > 10.0
    nll, doubled = check(8, 400)
    # sufficient: doubling moves it by under 0.2 nat (a tenth of a nat of Monte Carlo noise on the mean of
    # 30 examples, twice over), and an estimate that passes the check is itself within 0.3 nat of the truth
    assert abs(nll - doubled) < 0.2 and abs(nll - truth_nll) < 0.3
    assert model.anchor.requires_grad  # evaluate_nll hands the model back trainable


def test_next_rung_check_scores_the_first_points_of_the_test_subset_at_four_times_chains_and_steps():
    from repro.tasks import ivae

    model = LinearGaussianDecoder()
    x, _ = model.simulate(30, 1, torch.Generator().manual_seed(3))
    m = 10
    cfg = {"seed": 0, "ais": {"examples": 20, "chains": 2, "steps": 20, "leapfrog": 5, "doubling_check": True,
                              "next_rung_examples": m}}
    metrics, note = ivae.evaluate_nll(model, x, cfg, x.device)
    assert set(metrics) == {"nll", "nll_doubled", "nll_doubled_sub", "nll_quadrupled_sub"}
    assert f"first {m} points" in note
    # the subset: the first m of the same seeded draw of 20 test points (not the first m rows of x)
    pick = torch.randperm(len(x), generator=torch.Generator().manual_seed(ivae.TEST_SUBSET_SEED))[:20]
    truth_sub = float(-model.exact(x[pick[:m]]).mean())
    truth_all = float(-model.exact(x[pick]).mean())
    # (8, 80) on the m points is closer to their exact NLL than (4, 40) is, and both lie above it (AIS
    # under-estimates log p(x)); the doubled run's m-point mean is not the 20-point mean
    gap_doubled, gap_quadrupled = metrics["nll_doubled_sub"] - truth_sub, metrics["nll_quadrupled_sub"] - truth_sub
    assert 0 < gap_quadrupled < gap_doubled, (gap_doubled, gap_quadrupled)
    assert abs(metrics["nll_doubled"] - truth_all) < abs(metrics["nll"] - truth_all)
    assert metrics["nll_doubled_sub"] != metrics["nll_doubled"]


def test_each_further_rung_checks_the_setting_below_it_on_fewer_points_at_twice_its_chains_and_steps():
    from repro.tasks import ivae

    model = LinearGaussianDecoder()
    x, _ = model.simulate(30, 1, torch.Generator().manual_seed(3))
    base = {"examples": 20, "chains": 2, "steps": 20, "leapfrog": 5, "doubling_check": True}
    one, _ = ivae.evaluate_nll(model, x, {"seed": 0, "ais": {**base, "next_rung_examples": 10}}, x.device)
    two, note = ivae.evaluate_nll(model, x, {"seed": 0, "ais": {**base, "next_rung_examples": [10, 4]}}, x.device)
    assert ivae.rung_metric_names(2) == ("nll_quadrupled_sub2", "nll_octupled_sub2")
    assert set(two) == set(one) | {"nll_quadrupled_sub2", "nll_octupled_sub2"}
    assert {k: two[k] for k in one} == one  # a further rung leaves the ones below it as they were
    assert "rung check 2 on the first 4 points: 16 x 160" in note
    pick = torch.randperm(len(x), generator=torch.Generator().manual_seed(ivae.TEST_SUBSET_SEED))[:20]
    # rung 2 pairs the 4x values of rung 1's own run on its 10 points (their first 4: no new run at 4x) with a
    # new run at 8x on those 4; the same seeded computation, so the same numbers
    rung1_run = ivae.ais_nll_per_point(model, x[pick[:10]], 8, 80, 5, 0)
    assert two["nll_quadrupled_sub2"] == float(rung1_run[:4].mean())
    assert two["nll_quadrupled_sub"] == float(rung1_run.mean())
    assert two["nll_octupled_sub2"] == float(ivae.ais_nll_per_point(model, x[pick[:4]], 16, 80 * 2, 5, 0).mean())
    # and both estimate those 4 points' exact NLL (AIS noise on 4 points of this model: within 1.5 nats)
    truth = float(-model.exact(x[pick[:4]]).mean())
    assert abs(two["nll_quadrupled_sub2"] - truth) < 1.5 and abs(two["nll_octupled_sub2"] - truth) < 1.5


@pytest.mark.parametrize("ais,message", [
    ({"examples": 5, "chains": 2, "steps": 3, "leapfrog": 1, "next_rung_examples": 2}, "needs doubling_check"),
    ({"examples": 5, "chains": 2, "steps": 3, "leapfrog": 1, "doubling_check": True, "next_rung_examples": 6},
     r"\[1, examples = 5\]"),
    ({"examples": 5, "chains": 2, "steps": 3, "leapfrog": 1, "doubling_check": True, "next_rung_examples": [2, 3]},
     "at most the one before"),
    ({"examples": 5, "chains": 2, "steps": 3, "leapfrog": 1, "doubling_check": True, "next_rung_examples": [2, 0]},
     "at most the one before"),
])
def test_next_rung_check_refuses_a_subset_it_cannot_take(ais, message):
    from repro.tasks import ivae

    with pytest.raises(ValueError, match=message):
        ivae.ais_opts({"ais": ais})
