"""Common interface of the toy generative models (004 Table 1).

A model is an ``nn.Module`` holding its networks and its optimisers (as attributes), with
``train_step(x_real) -> {loss name: float}``, ``sample(n) -> Tensor`` and
``state()/load_state()`` covering parameters *and* optimiser moments for exact resume.
Random draws (latent noise) come from the global torch RNG, which ``RunContext`` checkpoints.
"""
from __future__ import annotations

import copy

import torch
from torch import nn


class ToyModel(nn.Module):
    def __init__(self, z_dim: int, device: torch.device | str = "cpu"):
        super().__init__()
        if z_dim < 1:
            raise ValueError(f"z_dim must be a positive integer, got {z_dim}")
        self.z_dim = z_dim
        self.device = torch.device(device)

    # -- to be provided by each model
    def train_step(self, x_real: torch.Tensor) -> dict[str, float]:
        raise NotImplementedError

    def sample(self, n: int) -> torch.Tensor:
        raise NotImplementedError

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Every optimiser of the model by attribute name (found automatically)."""
        return {k: v for k, v in vars(self).items() if isinstance(v, torch.optim.Optimizer)}

    # -- shared helpers
    def noise(self, n: int) -> torch.Tensor:
        """Latent draws z ~ N(0, I_{z_dim}); drawn on CPU so the stream is device-independent."""
        return torch.randn(n, self.z_dim).to(self.device, self.dtype)

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    def state(self) -> dict:
        """A snapshot (deep copy: optimisers' state_dicts alias their live moment tensors)."""
        return copy.deepcopy({"model": self.state_dict(),
                              "optim": {k: o.state_dict() for k, o in self.optimizers().items()}})

    def load_state(self, state: dict) -> None:
        self.load_state_dict(state["model"])
        for k, opt in self.optimizers().items():
            opt.load_state_dict(state["optim"][k])


def descend(opt: torch.optim.Optimizer, loss: torch.Tensor) -> float:
    """One optimiser step on ``loss``; returns its value."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return float(loss.detach())


def adam(params, lr: float, betas) -> torch.optim.Adam:
    return torch.optim.Adam(params, lr=float(lr), betas=(float(betas[0]), float(betas[1])))
