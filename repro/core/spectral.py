"""Lipschitz control of the discriminator: spectral normalisation by PIM (Miyato et al. 2018),
PICO (003 App. C) and spectral parameterisation (Arbel et al. 2018; talk 002).

* PIM: power iteration on the weight reshaped to a matrix, one iteration per training step with a
  persistent vector; torch's ``torch.nn.utils.parametrizations.spectral_norm`` implements exactly this
  and is reused.
* PICO: power iteration on the convolution operator itself: u = W * v / ‖W * v‖, then the
  transposed convolution v = Wᵀ u / ‖Wᵀ u‖ (003 App. C.1), one iteration per training step with a
  persistent v of the layer's input shape; the normalised weight is multiplied by a constant C
  (003 App. C.1: C = 1/0.55 per layer; the spec may set the overall C^K instead).
* Spectral parameterisation: W = γ W̄ / ‖W̄‖ with a learnable scalar γ per layer (talk 002, Arbel et al.).

Dense layers have no spatial structure, so PICO on them is PIM on the matrix.
"""
from __future__ import annotations

from typing import Iterable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm as torch_spectral_norm

PICO_C = 1.0 / 0.55  # 003 App. C.1
METHODS = ("none", "pim", "pico", "spectral-param")


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def _normalize(t: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    return t / t.norm().clamp_min(eps)


def conv_output_padding(in_hw, out_hw, kernel_hw, stride, padding, dilation=(1, 1)) -> tuple[int, int]:
    """output_padding that makes ``conv_transpose2d`` return the conv's input size (the exact adjoint)."""
    return tuple(
        i - ((o - 1) * s - 2 * p + d * (k - 1) + 1)
        for i, o, k, s, p, d in zip(in_hw, out_hw, kernel_hw, stride, padding, dilation)
    )


class ConvOperator:
    """The linear map v ↦ conv2d(v, W) on inputs of shape ``(C, H, W)`` and its adjoint."""

    def __init__(self, input_shape, stride=1, padding=0, dilation=1, transposed=False, output_padding=0):
        if len(tuple(input_shape)) != 3:
            raise ValueError(f"input_shape must be (channels, height, width); got {tuple(input_shape)}.")
        self.input_shape = tuple(int(s) for s in input_shape)
        self.stride, self.padding, self.dilation = _pair(stride), _pair(padding), _pair(dilation)
        self.transposed, self.output_padding = transposed, _pair(output_padding)
        self._adj_pad: tuple[int, int] | None = None

    def apply(self, weight: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        if self.transposed:
            return F.conv_transpose2d(v, weight, None, self.stride, self.padding, self.output_padding, 1,
                                      self.dilation)
        return F.conv2d(v, weight, None, self.stride, self.padding, self.dilation)

    def adjoint(self, weight: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        in_hw = self.input_shape[1:]
        if self.transposed:  # adjoint of a transposed conv is the conv (its output has u's input size)
            return F.conv2d(u, weight, None, self.stride, self.padding, self.dilation)
        if self._adj_pad is None:
            self._adj_pad = conv_output_padding(in_hw, u.shape[-2:], weight.shape[-2:], self.stride, self.padding,
                                                self.dilation)
        return F.conv_transpose2d(u, weight, None, self.stride, self.padding, self._adj_pad, 1, self.dilation)

    def power_step(self, weight: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One PICO iteration (003 App. C.1, steps 1-2): returns the new (u, v)."""
        u = _normalize(self.apply(weight, v))
        v = _normalize(self.adjoint(weight, u))
        return u, v


def conv_spectral_norm(weight: torch.Tensor, input_shape, stride=1, padding=0, n_iter: int = 50,
                       transposed: bool = False, output_padding=0, generator: torch.Generator | None = None) -> float:
    """Operator norm of the convolution with ``weight`` on inputs of ``input_shape`` (C, H, W), by PICO
    from a random start with ``n_iter`` iterations. ``transposed=True`` treats ``weight`` as a
    ``ConvTranspose2d`` weight. Power iteration approaches the norm from below."""
    if n_iter < 1:
        raise ValueError(f"n_iter must be at least 1; got {n_iter}.")
    op = ConvOperator(input_shape, stride, padding, transposed=transposed, output_padding=output_padding)
    w = weight.detach()
    v = _normalize(torch.randn((1, *op.input_shape), generator=generator, dtype=w.dtype).to(w.device))
    with torch.no_grad():
        for _ in range(n_iter):
            _, v = op.power_step(w, v)
        return float(op.apply(w, v).norm())


def matrix_spectral_norm(weight: torch.Tensor) -> float:
    """Exact largest singular value of the weight reshaped to ``(out, -1)`` (what PIM estimates)."""
    return float(torch.linalg.matrix_norm(weight.detach().reshape(weight.shape[0], -1), ord=2))


# ---------------------------------------------------------------- parametrizations


class PICONorm(nn.Module):
    """Parametrization W ↦ C · W / σ_PICO(W) for a Conv2d on inputs of a fixed shape (003 App. C)."""

    def __init__(self, weight: torch.Tensor, input_shape, stride, padding, dilation, coeff: float = PICO_C):
        super().__init__()
        self.op = ConvOperator(input_shape, stride, padding, dilation)
        self.coeff = float(coeff)
        with torch.no_grad():
            v = _normalize(torch.randn((1, *self.op.input_shape), device=weight.device, dtype=weight.dtype))
            u = _normalize(self.op.apply(weight, v))
        self.register_buffer("_v", v)
        self.register_buffer("_u", u)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        if self.training:
            with torch.no_grad():  # one iteration per training forward pass, persistent vectors (003 App. C)
                u, v = self.op.power_step(weight, self._v)
                self._u.copy_(u)
                self._v.copy_(v)
        # uᵀ W v, differentiable in W; clones so a later in-place update of the persistent vectors
        # (the next forward pass) does not invalidate this graph (as torch's spectral_norm does)
        sigma = (self._u.clone() * self.op.apply(weight, self._v.clone())).sum()
        return self.coeff * weight / sigma


class Scale(nn.Module):
    """Parametrization W ↦ c · W with a fixed constant (PIM variants scaled "by a constant", 000 §4.1)."""

    def __init__(self, coeff: float):
        super().__init__()
        self.coeff = float(coeff)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return self.coeff * weight


class LearnableScale(nn.Module):
    """Parametrization W ↦ γ · W with a learnable γ (spectral parameterisation, talk 002)."""

    def __init__(self, init: float = 1.0):
        super().__init__()
        self.gamma = nn.Parameter(torch.tensor(float(init)))

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return self.gamma * weight


def _layers(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def _record_input_shapes(model: nn.Module, layers: Iterable[nn.Module], example: torch.Tensor) -> dict:
    shapes, hooks = {}, []
    for layer in layers:
        hooks.append(layer.register_forward_pre_hook(
            lambda mod, inp: shapes.__setitem__(mod, tuple(inp[0].shape[1:]))))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(example[:1])
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return shapes


def per_layer_coefficient(n_layers: int, total: float | None = None, per_layer: float | None = None) -> float:
    """C per layer from either the overall C^K (``total``, 003 App. C.3) or C itself (default 1/0.55)."""
    if total is not None and per_layer is not None:
        raise ValueError("give either the overall coefficient C^K or the per-layer C, not both.")
    if total is not None:
        if total <= 0 or n_layers < 1:
            raise ValueError(f"C^K must be positive and K >= 1; got C^K={total}, K={n_layers}.")
        return float(total) ** (1.0 / n_layers)
    return PICO_C if per_layer is None else float(per_layer)


def apply_lipschitz(model: nn.Module, method: str, example_input: torch.Tensor | None = None,
                    coeff: float | None = None, coeff_total: float | None = None) -> nn.Module:
    """Add Lipschitz control to every Conv2d and Linear layer of ``model`` (in place; returns it).

    ``method``: ``none`` | ``pim`` (Miyato; ``coeff`` default 1) | ``pico`` (003 App. C; needs
    ``example_input`` to learn each conv's input shape; ``coeff`` default 1/0.55, or ``coeff_total`` =
    C^K spread over the K layers) | ``spectral-param`` (PIM then learnable γ; Arbel et al.).
    """
    if method not in METHODS:
        raise ValueError(f"unknown Lipschitz control {method!r}; choose one of {METHODS}.")
    layers = _layers(model)
    if method == "none":
        return model
    if method == "pico":
        if example_input is None:
            raise ValueError("PICO needs example_input (one batch of discriminator inputs) to know each conv's "
                             "input shape.")
        c = per_layer_coefficient(len(layers), coeff_total, coeff)
        shapes = _record_input_shapes(model, layers, example_input)
        for layer in layers:
            if isinstance(layer, nn.Conv2d):
                if layer.padding_mode != "zeros" or layer.groups != 1:
                    raise ValueError("PICO supports zero-padded, ungrouped convolutions only.")
                parametrize.register_parametrization(
                    layer, "weight", PICONorm(layer.weight, shapes[layer], layer.stride, layer.padding,
                                              layer.dilation, c))
            else:
                torch_spectral_norm(layer)
                parametrize.register_parametrization(layer, "weight", Scale(c))
        return model
    if coeff_total is not None:
        coeff = per_layer_coefficient(len(layers), coeff_total, None)
    for layer in layers:
        torch_spectral_norm(layer)  # PIM, n_power_iterations = 1, persistent u (Miyato et al.)
        if method == "spectral-param":
            parametrize.register_parametrization(layer, "weight", LearnableScale(1.0 if coeff is None else coeff))
        elif coeff is not None and coeff != 1.0:
            parametrize.register_parametrization(layer, "weight", Scale(coeff))
    return model


def n_lipschitz_layers(model: nn.Module) -> int:
    """K of 003 App. C.3: the number of Conv2d/Linear layers (8 for the CIFAR-10 DCGAN discriminator)."""
    return len(_layers(model))


__all__ = [
    "PICO_C", "METHODS", "ConvOperator", "conv_spectral_norm", "matrix_spectral_norm", "PICONorm", "Scale",
    "LearnableScale", "apply_lipschitz", "per_layer_coefficient", "n_lipschitz_layers", "conv_output_padding",
]
