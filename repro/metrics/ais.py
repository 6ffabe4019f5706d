"""Annealed importance sampling (AIS) estimates of log p(x) for latent-variable decoders.

000 §4.2 evaluates every VAE of Table 3 "following Wu et al. (2016)": 10 independent AIS chains of
1000 intermediate distributions each, on 5000 random test points. This module implements that
estimator for any decoder with a standard-normal prior p(z) = N(0, I):

* intermediate targets f_t(z) = log p(z) + β_t log p(x|z), with 0 = β_0 < … < β_T = 1;
* the sigmoid schedule of Wu et al. (2016): β_t ∝ σ(δ(2t/T − 1)), rescaled to [0, 1], δ = 4;
* one HMC transition per intermediate target (``leapfrog_steps`` leapfrog steps); the step size of
  each example (shared by its chains) is adapted multiplicatively toward a 0.65 mean Metropolis
  acceptance probability ā: ε ← ε·exp(0.1·(ā − 0.65)) (Wu et al. adapt one global ε at rate 0.02;
  per-chain adaptation was measured to bias the estimate upward, so chains of an example share ε);
* log p(x) ≈ log-mean-exp over chains of the AIS log weights (a stochastic lower bound).

All chains of all examples move together as one batch of ``num_chains · len(x)`` rows, so the cost
is one batched decoder call per leapfrog step, never a Python loop per example.

:func:`reverse_ais_log_likelihood` runs the same chain backwards from exact posterior samples; on
data simulated from the model this gives a stochastic *upper* bound, so the pair brackets the true
log p(x) (bidirectional Monte Carlo, Grosse et al. 2015).
"""
from __future__ import annotations

import math
from typing import Callable

import torch

LogLikelihood = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

SIGMOID_SCHEDULE_DELTA = 4.0  # Wu et al. (2016) sigmoid schedule sharpness
TARGET_ACCEPTANCE = 0.65  # Wu et al. (2016); optimal HMC acceptance (Neal 2011)
STEP_SIZE_ADAPT_RATE = 0.1  # Wu et al. use 0.02; 0.1 tracks the schedule better at moderate T (tests)
INITIAL_STEP_SIZE = 0.05
STEP_SIZE_RANGE = (1e-4, 1.0)


def sigmoid_schedule(num_steps: int, delta: float = SIGMOID_SCHEDULE_DELTA) -> torch.Tensor:
    """β_0 = 0, …, β_T = 1 (T = ``num_steps``), sigmoid-spaced: dense near both ends (Wu et al. 2016)."""
    if num_steps < 1:
        raise ValueError(f"num_steps must be at least 1, got {num_steps}.")
    t = torch.linspace(-delta, delta, num_steps + 1, dtype=torch.float64)
    s = torch.sigmoid(t)
    return (s - s[0]) / (s[-1] - s[0])


def log_mean_exp(values: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """log(mean(exp(values))) along ``dim``, computed stably."""
    return torch.logsumexp(values, dim=dim) - math.log(values.shape[dim])


def _log_likelihood_and_grad(log_likelihood: LogLikelihood, z: torch.Tensor, x: torch.Tensor):
    """log p(x|z) per row and its gradient in z (decoder parameters receive no gradient)."""
    with torch.enable_grad():
        z = z.detach().requires_grad_(True)
        ll = log_likelihood(z, x)
        if ll.shape != z.shape[:1]:
            raise ValueError(f"log_likelihood(z, x) must return one value per row ({z.shape[0]}), "
                             f"got shape {tuple(ll.shape)}.")
        (grad,) = torch.autograd.grad(ll.sum(), z)
    return ll.detach(), grad.detach()


def _check_inputs(x: torch.Tensor, latent_dim: int, num_chains: int, num_steps: int, leapfrog_steps: int):
    if x.dim() < 2:
        raise ValueError(f"x must be a batch with one example per row, got shape {tuple(x.shape)}.")
    if latent_dim < 1 or num_chains < 1 or leapfrog_steps < 1:
        raise ValueError("latent_dim, num_chains and leapfrog_steps must all be positive integers.")
    if num_steps < 1:
        raise ValueError(f"num_steps must be at least 1, got {num_steps}.")


def _run_chains(x_rep: torch.Tensor, z: torch.Tensor, betas: torch.Tensor, log_likelihood: LogLikelihood,
                leapfrog_steps: int, num_chains: int, generator: torch.Generator) -> torch.Tensor:
    """Anneal every row of ``z`` through ``betas``; return the AIS log weight of every row.

    Works in either direction: forward (β: 0 → 1) or reverse (β: 1 → 0). The increment at step t is
    (β_t − β_{t−1}) log p(x|z_{t−1}); then one HMC transition leaves f_t invariant.
    """
    device, dtype = z.device, z.dtype
    rows = z.shape[0]
    step_size = torch.full((rows,), INITIAL_STEP_SIZE, device=device, dtype=dtype)
    log_w = torch.zeros(rows, device=device, dtype=torch.float64)
    ll, grad_ll = _log_likelihood_and_grad(log_likelihood, z, x_rep)
    for t in range(1, len(betas)):
        beta = float(betas[t])
        log_w += (betas[t] - betas[t - 1]).item() * ll.double()
        # HMC on U(z) = ½|z|² − β log p(x|z)
        momentum = torch.randn(z.shape, generator=generator, device=device, dtype=dtype)
        eps = step_size[:, None]
        z_new, p_new = z, momentum - 0.5 * eps * (z - beta * grad_ll)
        for leap in range(leapfrog_steps):
            z_new = z_new + eps * p_new
            ll_new, grad_new = _log_likelihood_and_grad(log_likelihood, z_new, x_rep)
            grad_u = z_new - beta * grad_new
            p_new = p_new - (eps if leap < leapfrog_steps - 1 else 0.5 * eps) * grad_u
        h_old = 0.5 * (z * z).sum(1) - beta * ll + 0.5 * (momentum * momentum).sum(1)
        h_new = 0.5 * (z_new * z_new).sum(1) - beta * ll_new + 0.5 * (p_new * p_new).sum(1)
        log_accept = torch.nan_to_num(h_old - h_new, nan=-math.inf).clamp(max=0.0)
        accept = torch.rand(rows, generator=generator, device=device, dtype=dtype).log() < log_accept
        z = torch.where(accept[:, None], z_new, z)
        ll = torch.where(accept, ll_new, ll)
        grad_ll = torch.where(accept[:, None], grad_new, grad_ll)
        # one step size per example, shared by its chains, driven by their mean acceptance probability
        accept_rate = log_accept.exp().view(num_chains, -1).mean(0).repeat(num_chains)
        step_size = (step_size * torch.exp(STEP_SIZE_ADAPT_RATE * (accept_rate - TARGET_ACCEPTANCE))
                     ).clamp(*STEP_SIZE_RANGE)
    return log_w


def _generator(seed: int, device: torch.device) -> torch.Generator:
    g = torch.Generator(device=device)
    g.manual_seed(seed)
    return g


def ais_log_likelihood(x: torch.Tensor, log_likelihood: LogLikelihood, latent_dim: int, num_chains: int = 10,
                       num_steps: int = 1000, leapfrog_steps: int = 10, seed: int = 0) -> torch.Tensor:
    """One AIS estimate of log p(x) per row of ``x`` (a stochastic lower bound; 000 §4.2, Wu et al. 2016).

    ``log_likelihood(z, x)`` returns log p(x|z), one value per row, for matching batches of z
    (shape [B, latent_dim]) and x (shape [B, ...]); the prior is N(0, I). The result lives on
    ``x.device`` with x's floating dtype (float32 for integer inputs).
    """
    _check_inputs(x, latent_dim, num_chains, num_steps, leapfrog_steps)
    dtype = x.dtype if x.is_floating_point() else torch.float32
    n = x.shape[0]
    generator = _generator(seed, x.device)
    x_rep = x.repeat(num_chains, *([1] * (x.dim() - 1)))  # row c·n + i holds example i
    z0 = torch.randn(num_chains * n, latent_dim, generator=generator, device=x.device, dtype=dtype)
    log_w = _run_chains(x_rep, z0, sigmoid_schedule(num_steps), log_likelihood, leapfrog_steps,
                        num_chains, generator)
    return log_mean_exp(log_w.view(num_chains, n), dim=0).to(dtype)


def reverse_ais_log_likelihood(x: torch.Tensor, log_likelihood: LogLikelihood, posterior_z: torch.Tensor,
                               num_steps: int = 1000, leapfrog_steps: int = 10, seed: int = 0) -> torch.Tensor:
    """Reverse AIS: a stochastic upper bound on log p(x) per row (bidirectional Monte Carlo).

    ``posterior_z`` has shape [num_chains, len(x), latent_dim] and must hold *exact* samples of
    p(z|x) (available for data simulated from the model: keep the z that generated each x, or draw
    from a known posterior). The chain anneals β from 1 to 0; its weights estimate 1/p(x).
    """
    if posterior_z.dim() != 3 or posterior_z.shape[1] != x.shape[0]:
        raise ValueError("posterior_z must have shape [num_chains, len(x), latent_dim], "
                         f"got {tuple(posterior_z.shape)} for {x.shape[0]} examples.")
    num_chains, n, latent_dim = posterior_z.shape
    _check_inputs(x, latent_dim, num_chains, num_steps, leapfrog_steps)
    dtype = x.dtype if x.is_floating_point() else torch.float32
    generator = _generator(seed, x.device)
    x_rep = x.repeat(num_chains, *([1] * (x.dim() - 1)))
    z0 = posterior_z.reshape(num_chains * n, latent_dim).to(dtype)
    log_w = _run_chains(x_rep, z0, sigmoid_schedule(num_steps).flip(0), log_likelihood, leapfrog_steps,
                        num_chains, generator)
    return (-log_mean_exp(log_w.view(num_chains, n), dim=0)).to(dtype)
