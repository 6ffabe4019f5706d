"""The five toy models of 004 Table 1, S training seeds at once (one seed per slice of a leading dim).

Every weight is stacked: ``W`` of shape (S, in, out), bias (S, 1, out); a layer is one ``baddbmm``.
The S seeds never mix: each seed's loss depends only on its slice, so the gradient of the summed
loss with respect to slice s is seed s's own gradient, and Adam is elementwise, so one (fused)
Adam over the stacked tensors takes every seed's own step. Seed s is therefore, to rounding, the
one-seed model of ``repro.core.toy`` trained on the same draws: its initial weights are that
model's (built under ``torch.manual_seed(seed)``), and its latent noise and data come from its own
``torch.Generator`` (``noise_rngs[s]``), never from the global RNG.

``StackedToy(family, params, sigma, seeds)``: ``train_step(x, rngs)`` with x of shape (S, N, 2)
returns the per-seed losses {name: tensor (S,)}; ``sample(n, generators)`` -> (S, n, 2);
``seed_state(s)`` / ``load_seed_states(states)`` hold one seed's weights and Adam moments.

``compile=True`` (or a ``torch.compile`` mode, e.g. "max-autotune-no-cudagraphs") runs each step's loss
functions through ``torch.compile`` (fixed shapes). There the layers with a 2-wide input or an output
of width <= 4 (the 2-D data, the discriminators' single logit) are written as fused elementwise sums
instead of batched products, which MKL runs far below its matrix-product rate at those shapes
(benchmarks/bench_toy_steps.py); the values are the same to float32 rounding. If compilation fails
(no C++ compiler, say), training goes on eagerly with a warning.
"""
from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from . import build_toy_model
from .veegan import reconstruction_loss

_NETS = {  # family -> sub-networks (attribute names of the one-seed model), optimiser -> nets it steps
    "gan": (("generator", "discriminator"), {"opt_g": ("generator",), "opt_d": ("discriminator",)}),
    "unrolled-gan": (("generator", "discriminator"), {"opt_g": ("generator",), "opt_d": ("discriminator",)}),
    "veegan": (("generator", "reconstructor", "discriminator"),
               {"opt_g": ("generator", "reconstructor"), "opt_d": ("discriminator",)}),
    "vae": (("generator", "encoder", "log_tau"), {"opt": ("encoder", "generator", "log_tau")}),
    "sig": (("generator",), {"opt": ("generator",)}),
}


def _narrow(k: int, n: int) -> bool:
    """Whether a (k -> n) layer is narrow at its output: there MKL's batched GEMM is 5-15× slower on
    (M, k) @ (k, n) than on the transposed product (n, k) @ (k, M) (benchmarks/bench_toy_steps.py)."""
    return 4 * n <= k


class _StackedLinear(torch.autograd.Function):
    """y = x W + b per seed, x (S, M, k), W (S, k, n), b (S, 1, n), each product in its fast orientation.

    The backward is written with differentiable ops, so double backward (the Unrolled GAN's
    look-ahead, ``create_graph=True``) works through it.
    """

    @staticmethod
    def forward(x, w, b):
        if _narrow(w.shape[1], w.shape[2]):
            return torch.baddbmm(b.transpose(1, 2), w.transpose(1, 2), x.transpose(1, 2)).transpose(1, 2)
        return torch.baddbmm(b, x, w)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, w, _ = inputs
        ctx.save_for_backward(x, w)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        k, n = w.shape[1], w.shape[2]
        dx = dw = db = None
        if ctx.needs_input_grad[0]:
            if n == 1:
                dx = g * w.transpose(1, 2)
            elif _narrow(n, k):  # a narrow input (the discriminators' data and noise): its fast orientation
                dx = torch.bmm(w, g.transpose(1, 2)).transpose(1, 2)
            else:
                dx = torch.bmm(g, w.transpose(1, 2))
        if ctx.needs_input_grad[1]:
            if _narrow(k, n):
                dw = torch.bmm(g.transpose(1, 2), x).transpose(1, 2)
            else:
                dw = torch.bmm(x.transpose(1, 2), g)
        if ctx.needs_input_grad[2]:
            db = g.sum(1, keepdim=True)
        return dx, dw, db


def linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    if torch.compiler.is_compiling():
        k, n = w.shape[1], w.shape[2]
        if k <= 2:  # Σ_i x_i w_i: one fused loop with what follows (ReLU, ...) instead of a K = 2 product
            return b + sum(x[..., i:i + 1] * w[:, i:i + 1, :] for i in range(k))
        if n <= 4:  # a few output columns: fused reductions over k
            return b + torch.stack([(x * w[:, :, j][:, None, :]).sum(2) for j in range(n)], 2)
    return _StackedLinear.apply(x, w, b)


def mlp(params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Stacked Linear -> ReLU -> ... -> Linear: params [W0, b0, W1, b1, ...], W (S, in, out), b (S, 1, out)."""
    h = x
    last = len(params) - 2
    for i in range(0, len(params), 2):
        h = linear(h, params[i], params[i + 1])
        if i < last:
            h = torch.relu(h)
    return h


def _stack_linear_layers(nets: list[nn.Sequential]) -> list[torch.Tensor]:
    out = []
    layers = [[m for m in net if isinstance(m, nn.Linear)] for net in nets]
    for i in range(len(layers[0])):
        out.append(torch.stack([ls[i].weight.detach().T for ls in layers]).contiguous())
        out.append(torch.stack([ls[i].bias.detach()[None, :] for ls in layers]).contiguous())
    return out


class _LogMeanExp(torch.autograd.Function):
    """log 1/M Σ_j exp(l_ij) over the last dim, with terms below e^-80 of the largest raised to e^-80:
    they add < M·e^-80 ≈ 2e-33 (relative) to the sum, and exp of far-negative floats is 10-20× slower
    on CPU. Gradient: the softmax weights (first order only; SIG needs no double backward)."""

    @staticmethod
    def forward(ctx, log_p):
        top = log_p.amax(dim=-1, keepdim=True)
        e = (log_p - top).clamp_min_(-80.0).exp_()
        total = e.sum(-1, keepdim=True)
        ctx.save_for_backward(e.div_(total))
        return (top + total.log()).squeeze(-1) - math.log(log_p.shape[-1])

    @staticmethod
    def backward(ctx, g):
        (weights,) = ctx.saved_tensors
        return g.unsqueeze(-1) * weights


def _bce_ones(logits: torch.Tensor) -> torch.Tensor:  # -log sigmoid(l), per seed mean over the batch
    return F.softplus(-logits).mean(dim=(1, 2))


def _bce_zeros(logits: torch.Tensor) -> torch.Tensor:  # -log(1 - sigmoid(l))
    return F.softplus(logits).mean(dim=(1, 2))


def discriminator_gradients(params: list[torch.Tensor], xy: torch.Tensor, n_real: int) -> list[torch.Tensor]:
    """Gradient of the GAN discriminator loss E softplus(-D(x)) + E softplus(D(G(z))) (004 App. B) with
    respect to a one-hidden-layer ReLU discriminator's stacked [W1, b1, W2, b2], written out:
    l = h W2 + b2, h = relu(a), a = xy W1 + b1; dl = -σ(-l)/n on the first ``n_real`` rows, σ(l)/n on the
    rest; with m = relu'(a) (a constant a.e.), da = m ⊙ (dl W2ᵀ) is never formed:
    dW1 = ((xy ⊙ dl)ᵀ m) ⊙ W2ᵀ, db1 = (dlᵀ m) ⊙ W2ᵀ, dW2 = hᵀ dl, db2 = Σ dl.
    Built from differentiable ops, so the result can itself be differentiated with respect to ``xy``.
    Returns (gradients, per-seed loss)."""
    w1, b1, w2, b2 = params
    h = torch.relu(linear(xy, w1, b1))
    logit = linear(h, w2, b2)
    n_fake = xy.shape[1] - n_real
    dl = torch.cat([-torch.sigmoid(-logit[:, :n_real]) / n_real, torch.sigmoid(logit[:, n_real:]) / n_fake], 1)
    mask = h.detach().sign()  # relu'(a): 1 where a > 0, else 0
    w2t = w2.transpose(1, 2)
    loss = _real_fake_loss(logit, n_real)
    if torch.compiler.is_compiling():  # fused reductions over the rows (see ``linear``)
        dm = dl * mask
        dw1 = torch.stack([(xy[..., i:i + 1] * dm).sum(1) for i in range(xy.shape[2])], 1)
        return [dw1 * w2t, dm.sum(1, keepdim=True) * w2t, (h * dl).sum(1)[..., None], dl.sum(1, keepdim=True)], loss
    first = torch.bmm(torch.cat([xy * dl, dl], 2).transpose(1, 2), mask)  # (S, d + 1, hidden)
    return [first[:, :-1] * w2t, first[:, -1:] * w2t,
            (h * dl).sum(1, keepdim=True).transpose(1, 2), dl.sum(1, keepdim=True)], loss


# ------------------------------------------------------------------------- the models' losses
# Pure functions of the stacked weights (lists of tensors) and the step's inputs: each is one region
# for ``torch.compile`` when the model is built with ``compile=True``.

def _real_fake_loss(logits: torch.Tensor, n_real: int) -> torch.Tensor:
    """The discriminator's loss, E softplus(-D(x)) + E softplus(D(fake)) (004 App. B), per seed."""
    return _bce_ones(logits[:, :n_real]) + _bce_zeros(logits[:, n_real:])


def _input_gradient(w1: torch.Tensor, w2: torch.Tensor, h: torch.Tensor, dl) -> torch.Tensor:
    """Per row, ∂(dl · D(x))/∂x for D(x) = relu(x W1 + b1) W2 + b2 with h = relu(x W1 + b1):
    ((dl ⊙ relu'(a)) ⊙ W2ᵀ) W1ᵀ; ``w1`` may be W1's rows of some inputs only (those gradients)."""
    da = dl * h.sign() * w2.transpose(1, 2)  # (S, N, hidden)
    return torch.stack([(da * w1[:, i:i + 1, :]).sum(2) for i in range(w1.shape[1])], 2)


def _adam_update(params, grads, m, v, step_size, correction, b1: float, b2: float, eps: float):
    """One Adam step written out (Kingma & Ba 2015, Alg. 1), differentiable; ``step_size`` = lr / (1 - b1^t),
    ``correction`` = 1 - b2^t. Returns (new weights, m, v)."""
    new_m = [b1 * mi + (1 - b1) * g for mi, g in zip(m, grads)]
    new_v = [b2 * vi + (1 - b2) * g * g for vi, g in zip(v, grads)]
    # clamp keeps d sqrt/dv finite where a gradient is exactly 0 (dead ReLU); value unchanged
    new = [p - step_size * mi / ((vi / correction).clamp_min(1e-30).sqrt() + eps)
           for p, mi, vi in zip(params, new_m, new_v)]
    return new, new_m, new_v


def _detached(lists) -> tuple[list[torch.Tensor], ...]:
    return tuple([t.detach() for t in ts] for ts in lists)


def _gan_step(G, D, m, v, step_sizes, corrections, x, z, b1: float, b2: float, eps: float, non_saturating: bool):
    """One GAN step as one region (004 App. B, Alg. 1): D's Adam step on its loss, then the generator's
    loss against the updated D, held fixed. Both gradients through D are written out, so nothing of
    D's (S, N, hidden) activations is kept for a backward: D's own as the look-ahead's
    (:func:`discriminator_gradients`); the generator loss's with respect to the fake points,
    ∂L/∂G(z) = ((dl ⊙ relu'(a)) ⊙ W2ᵀ) W1ᵀ, enters ``surrogate`` = Σ G(z) ⊙ stop_grad(∂L/∂G(z)), whose
    gradient with respect to G's weights is the generator loss's.
    Returns (generator loss, surrogate, discriminator loss, (D's new weights, m, v) detached)."""
    n = x.shape[1]
    fake = mlp(G, z)
    grads, d_loss = discriminator_gradients(D, torch.cat([x, fake.detach()], 1), n)
    own = _detached(_adam_update(D, grads, m, v, step_sizes[0], corrections[0], b1, b2, eps))
    w1, b1_, w2, b2_ = own[0]
    seen = fake.detach() if non_saturating else torch.cat([x, fake.detach()], 1)
    h = torch.relu(linear(seen, w1, b1_))
    logit = linear(h, w2, b2_)
    if non_saturating:  # L = E softplus(-D(G(z))) = -E log D(G(z))
        g_loss, dl = _bce_ones(logit), -torch.sigmoid(-logit) / n
    else:  # L = -(E softplus(-D(x)) + E softplus(D(G(z)))); only the fake rows depend on G
        g_loss, dl = -_real_fake_loss(logit, n), -torch.sigmoid(logit[:, n:]) / n
        h = h[:, n:]
    return g_loss, (fake * _input_gradient(w1, w2, h, dl)).sum(dim=(1, 2)), d_loss, own


def _unrolled_generator_loss(G, D, m, v, step_sizes, corrections, x, z, b1: float, b2: float, eps: float,
                             unroll_steps: int, non_saturating: bool):
    """The generator's loss against θ_D^K (Metz et al. 2016 eq. 4-6), K Adam steps of the discriminator
    from its optimiser's moments, each step's gradient written out (:func:`discriminator_gradients`)
    so the generator's gradient is one first-order backward through the K explicit Adam steps.
    ``step_sizes[k]`` = lr / (1 - b1^t), ``corrections[k]`` = 1 - b2^t at Adam step t of look-ahead step k.
    Returns (generator loss, discriminator loss at θ_D, (θ_D^1, m^1, v^1) detached): the first
    look-ahead step is the discriminator's own Adam step."""
    n = x.shape[1]
    both = torch.cat([x, mlp(G, z)], 1)
    current = D
    for k in range(max(unroll_steps, 1)):
        grads, loss = discriminator_gradients(current, both, n)
        new, m, v = _adam_update(current, grads, m, v, step_sizes[k], corrections[k], b1, b2, eps)
        if k == 0:
            d_loss, own = loss, _detached((new, m, v))
        if k < unroll_steps:
            current = new
    logits = mlp(current, both)
    g_loss = _bce_ones(logits[:, n:]) if non_saturating else -_real_fake_loss(logits, n)
    return g_loss, d_loss, own


def _veegan_step(G, R, D, m, v, step_sizes, corrections, x, z, eps_rec, b1: float, b2: float, eps: float):
    """One VEEGAN step as one region (Srivastava et al. 2017, Alg. 1; repro.core.toy.veegan), as
    :func:`_gan_step`: D tells (z, G(z)) from (z_g, x), z_g = F(x) + ``eps_rec`` ~ N(F(x), I) sampled
    (F = the reconstructor), and takes its Adam step (gradient written out); G and F descend
    E D(z, G(z)) + E ½||z - F(G(z))||² at the same, pre-step D (Alg. 1: every gradient at the current
    weights), D's part written out through ``surrogate``. Returns (generator loss, surrogate,
    reconstruction term, D's loss, (D's new weights, m, v) detached)."""
    n, z_dim = x.shape[1], z.shape[2]
    fake = mlp(G, z)
    with torch.no_grad():
        z_data = mlp(R, x) + eps_rec
    generated = torch.cat([z, fake.detach()], 2)
    grads, d_loss = discriminator_gradients(D, torch.cat([generated, torch.cat([z_data, x], 2)], 1), n)
    own = _detached(_adam_update(D, grads, m, v, step_sizes[0], corrections[0], b1, b2, eps))
    w1, b1_, w2, b2_ = D
    h = torch.relu(linear(generated, w1, b1_))
    adv = linear(h, w2, b2_).mean(dim=(1, 2))
    rec = reconstruction_loss(z, mlp(R, fake)).mean(1)
    d_fake = _input_gradient(w1[:, z_dim:], w2, h, 1.0 / n)  # only G(z)'s columns of D's input
    return adv + rec, (fake * d_fake).sum(dim=(1, 2)) + rec, rec, d_loss, own


def _vae_loss(E, G, log_tau, x, eps):
    """-ELBO per data point, per seed (Kingma & Welling 2014), Gaussian decoder of learned std τ."""
    mu, log_var = mlp(E, x).chunk(2, dim=2)
    z = mu + (0.5 * log_var).exp() * eps
    residual = (x - mlp(G, z)) / log_tau.exp()
    log_px = (-0.5 * residual.pow(2) - log_tau - 0.5 * math.log(2 * math.pi)).sum(2)
    kl = 0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var).sum(2)
    return (kl - log_px).mean(1)


def _sig_loss(G, z, x, sigma: float):
    """H_M (004 eq. 6): -mean_i log 1/M Σ_j N(x_i | θ_j, σ² I), θ_j = G(z_j)."""
    theta = mlp(G, z)  # (S, M, d)
    d, inv = x.shape[2], 1.0 / sigma ** 2
    # log N(x_i | θ_j, σ² I) = (2 x·θ - ||x||² - ||θ||²) / (2σ²) - d/2 log(2πσ²), in one baddbmm
    offset = (-0.5 * inv) * (x.pow(2).sum(2, keepdim=True) + theta.pow(2).sum(2)[:, None, :]) \
        - 0.5 * d * math.log(2 * math.pi * sigma ** 2)
    log_p = torch.baddbmm(offset, x, theta.transpose(1, 2), alpha=inv)
    return -(_LogMeanExp.apply(log_p)).mean(1)


class StackedToy(nn.Module):
    def __init__(self, family: str, params: dict | None, sigma: float, seeds: list[int],
                 device: torch.device | str = "cpu", compile: bool | str | None = False):
        super().__init__()
        if family not in _NETS:
            raise ValueError(f"unknown toy model '{family}'; choose one of {', '.join(_NETS)}")
        self.family, self.seeds, self.device = family, list(seeds), torch.device(device)
        self.compile, self._compiled = compile or False, {}  # False, True or a torch.compile mode
        plain = []
        for seed in self.seeds:  # the one-seed model's initial weights, seed by seed
            torch.manual_seed(seed)
            plain.append(build_toy_model(family, params, sigma, "cpu"))
        ref = plain[0]
        self.z_dim = ref.z_dim
        names, opts = _NETS[family]
        self.nets: dict[str, list[nn.Parameter]] = {}
        for name in names:
            if name == "log_tau":
                t = torch.stack([m.log_tau.detach()[None, :] for m in plain])
                self.nets[name] = [nn.Parameter(t.to(self.device), requires_grad=ref.log_tau.requires_grad)]
            else:
                self.nets[name] = [nn.Parameter(p.to(self.device))
                                   for p in _stack_linear_layers([getattr(m, name) for m in plain])]
            for i, p in enumerate(self.nets[name]):
                self.register_parameter(f"{name.replace('-', '_')}_{i}", p)
        self.opts: dict[str, torch.optim.Adam] = {}
        for oname, owned in opts.items():
            group = getattr(ref, oname).param_groups[0]
            ps = [p for n in owned for p in self.nets[n] if p.requires_grad]
            self.opts[oname] = torch.optim.Adam(ps, lr=group["lr"], betas=group["betas"], eps=group["eps"],
                                                fused=True)
        if family == "sig":
            self.sigma, self.m = ref.sigma, ref.m
        if family in ("gan", "unrolled-gan"):
            self.generator_loss = ref.generator_loss
        if family == "unrolled-gan":
            self.unroll_steps = ref.unroll_steps
        if family == "vae":
            self.sample_mode = ref.sample_mode

    # ----------------------------------------------------------------------------- randomness
    def noise(self, n: int, rngs: list[torch.Generator]) -> torch.Tensor:
        """z ~ N(0, I) per seed from that seed's generator (drawn on CPU: device-independent streams)."""
        return torch.stack([torch.randn(n, self.z_dim, generator=g) for g in rngs]).to(self.device)

    # ----------------------------------------------------------------------------- training
    def _call(self, fn, *args):
        """``fn(*args)``, through ``torch.compile`` when the model was built with ``compile`` set."""
        if not self.compile:
            return fn(*args)
        compiled = self._compiled.get(fn)
        if compiled is None:
            mode = None if self.compile is True else self.compile
            compiled = self._compiled[fn] = torch.compile(fn, dynamic=False, mode=mode)
            try:  # the first call compiles
                return compiled(*args)
            except Exception as err:  # noqa: BLE001 - any backend failure: the eager step is the same step
                warnings.warn(f"torch.compile failed ({type(err).__name__}: {str(err).splitlines()[0][:200]}); "
                              "training this model eagerly", stacklevel=3)
                self.compile = False
                return fn(*args)
        return compiled(*args)

    def _step(self, opt_name: str, loss: torch.Tensor) -> None:
        opt = self.opts[opt_name]
        params = opt.param_groups[0]["params"]
        opt.zero_grad(set_to_none=True)
        loss.sum().backward(inputs=params)  # seeds are independent: d(sum)/d(slice s) = seed s's gradient
        opt.step()

    def train_step(self, x: torch.Tensor, rngs: list[torch.Generator]) -> dict[str, torch.Tensor]:
        """One training step of every seed; x: (S, N, d) data, ``rngs``: each seed's noise generator."""
        x = x.to(self.device)
        return getattr(self, "_train_" + self.family.replace("-", "_"))(x, rngs)

    def _train_gan(self, x, rngs):
        """D's step, then G's against the updated D (004 App. B, Alg. 1), in one region (:func:`_gan_step`)."""
        G, D = self.nets["generator"], self.nets["discriminator"]
        m, v, step_sizes, corrections, hyper = self._discriminator_adam(1)
        g_loss, surrogate, d_loss, own = self._call(
            _gan_step, G, [p.detach() for p in D], m, v, step_sizes, corrections,
            x, self.noise(x.shape[1], rngs), *hyper, self.generator_loss == "non_saturating")
        self._generator_step(surrogate, own)
        return {"loss": g_loss.detach(), "d_loss": d_loss.detach()}

    def _train_unrolled_gan(self, x, rngs):
        """Metz et al. 2016 eq. 4-6: the generator descends the loss of the discriminator K Adam steps
        ahead; the discriminator's own (simultaneous) step is the look-ahead's first step, taken over."""
        G, D = self.nets["generator"], self.nets["discriminator"]
        m, v, step_sizes, corrections, hyper = self._discriminator_adam(max(self.unroll_steps, 1))
        g_loss, d_loss, own = self._call(
            _unrolled_generator_loss, G, [p.detach() for p in D], m, v, step_sizes, corrections,
            x, self.noise(x.shape[1], rngs), *hyper, self.unroll_steps, self.generator_loss == "non_saturating")
        self._generator_step(g_loss, own)
        return {"loss": g_loss.detach(), "d_loss": d_loss.detach()}

    def _discriminator_adam(self, k: int):
        """The discriminator optimiser's moments and the step sizes and bias corrections of its next k
        Adam steps (as tensors: a new lr recompiles nothing), and (b1, b2, eps)."""
        opt = self.opts["opt_d"]
        group = opt.param_groups[0]
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        D = self.nets["discriminator"]
        states = [opt.state.get(p) for p in D]
        m = [st["exp_avg"] if st else torch.zeros_like(p) for st, p in zip(states, D)]
        v = [st["exp_avg_sq"] if st else torch.zeros_like(p) for st, p in zip(states, D)]
        t = int(states[0]["step"]) if states[0] else 0
        ahead = range(t + 1, t + 1 + k)
        step_sizes = torch.tensor([lr / (1 - b1 ** i) for i in ahead], device=self.device)
        corrections = torch.tensor([1 - b2 ** i for i in ahead], device=self.device)
        return m, v, step_sizes, corrections, (b1, b2, eps)

    def _generator_step(self, g_loss: torch.Tensor, own) -> None:
        """The discriminator takes the Adam step ``own`` = (weights, m, v) computed in the region, then the
        generator (and VEEGAN's reconstructor) its Adam step on ``g_loss``."""
        D, opt = self.nets["discriminator"], self.opts["opt_d"]
        G = self.opts["opt_g"].param_groups[0]["params"]
        g_grads = torch.autograd.grad(g_loss.sum(), G)
        with torch.no_grad():
            for p, new, m1, v1 in zip(D, *own):
                p.copy_(new)
                st = opt.state.get(p)
                if st:
                    st["exp_avg"].copy_(m1)
                    st["exp_avg_sq"].copy_(v1)
                    st["step"] += 1
                else:
                    opt.state[p] = {"step": torch.tensor(1.0, device=p.device),  # fused Adam: on the weight's device
                                    "exp_avg": m1.clone(), "exp_avg_sq": v1.clone()}
        for p, g in zip(G, g_grads):
            p.grad = g.contiguous()  # the fused Adam walks grad and weight in the same memory order
        self.opts["opt_g"].step()

    def _train_veegan(self, x, rngs):
        """D's, G's and F's steps from the same weights (Alg. 1), in one region (:func:`_veegan_step`); each
        seed's generator draws the latent noise z, then the reconstructor's noise (the one-seed model's order)."""
        m, v, step_sizes, corrections, hyper = self._discriminator_adam(1)
        z = self.noise(x.shape[1], rngs)
        g_loss, surrogate, rec, d_loss, own = self._call(
            _veegan_step, self.nets["generator"], self.nets["reconstructor"],
            [p.detach() for p in self.nets["discriminator"]], m, v, step_sizes, corrections,
            x, z, self.noise(x.shape[1], rngs), *hyper)
        self._generator_step(surrogate, own)
        return {"loss": g_loss.detach(), "d_loss": d_loss.detach(), "rec": rec.detach()}

    def _train_vae(self, x, rngs):
        loss = self._call(_vae_loss, self.nets["encoder"], self.nets["generator"], self.nets["log_tau"][0],
                          x, self.noise(x.shape[1], rngs))
        self._step("opt", loss)
        return {"loss": loss.detach()}

    def _train_sig(self, x, rngs):
        loss = self._call(_sig_loss, self.nets["generator"], self.noise(self.m or x.shape[1], rngs), x, self.sigma)
        self._step("opt", loss)
        return {"loss": loss.detach()}

    # ----------------------------------------------------------------------------- sampling
    @torch.no_grad()
    def sample(self, n: int, rngs: list[torch.Generator]) -> torch.Tensor:
        """n samples per seed, (S, n, d); all randomness from ``rngs`` (one generator per seed)."""
        out = mlp(self.nets["generator"], self.noise(n, rngs))
        if self.family == "sig":  # x = θ + σ ε
            eps = torch.stack([torch.randn(n, out.shape[2], generator=g) for g in rngs]).to(self.device)
            out = out + self.sigma * eps
        elif self.family == "vae" and self.sample_mode == "draw":
            eps = torch.stack([torch.randn(n, out.shape[2], generator=g) for g in rngs]).to(self.device)
            out = out + self.nets["log_tau"][0].exp() * eps
        return out

    # ----------------------------------------------------------------------------- one seed's state
    def seed_state(self, s: int) -> dict:
        """Seed s's weights and Adam moments (copies), the state a one-seed run would checkpoint."""
        weights = {k: [p[s].detach().clone().cpu() for p in ps] for k, ps in self.nets.items()}
        optim = {}
        for name, opt in self.opts.items():
            entries = []
            for p in opt.param_groups[0]["params"]:
                st = opt.state.get(p, {})
                entries.append({"step": float(st["step"]), "exp_avg": st["exp_avg"][s].clone().cpu(),
                                "exp_avg_sq": st["exp_avg_sq"][s].clone().cpu()} if st else None)
            optim[name] = entries
        return {"weights": weights, "optim": optim}

    def load_seed_states(self, states: list[dict]) -> None:
        """Load one state per seed (same order as ``seeds``); all must be at the same optimiser step."""
        with torch.no_grad():
            for k, ps in self.nets.items():
                for i, p in enumerate(ps):
                    p.copy_(torch.stack([st["weights"][k][i] for st in states]).to(self.device))
        for name, opt in self.opts.items():
            for i, p in enumerate(opt.param_groups[0]["params"]):
                entries = [st["optim"][name][i] for st in states]
                if entries[0] is None:
                    opt.state.pop(p, None)
                    continue
                steps = {e["step"] for e in entries}
                if len(steps) != 1:
                    raise ValueError(f"seeds are at different optimiser steps {sorted(steps)}; resume them apart")
                opt.state[p] = {"step": torch.tensor(float(entries[0]["step"]), device=self.device),
                                "exp_avg": torch.stack([e["exp_avg"] for e in entries]).to(self.device),
                                "exp_avg_sq": torch.stack([e["exp_avg_sq"] for e in entries]).to(self.device)}
