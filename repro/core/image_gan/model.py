"""An image GAN assembled from a method's recipe: nets, Lipschitz control, objective, optimisers.

Recipe keys (``repro/methods.yaml``; any of them can be overridden by the run's ``model`` config or a
grid axis of the same name):

``loss`` and its options (see :mod:`repro.core.image_gan.objectives`); ``out_dim`` (s of 003 Table
S1); ``lipschitz`` none | pim | pico | spectral-param with ``lipschitz_coeff`` (C per layer) or
``coeff_total`` (C^K, 003 App. C.3); ``noise`` normal (003 Table S1) | uniform (U[-1, 1]^128, 000 §4.1);
``n_dis`` discriminator updates per generator update; ``betas`` of Adam; ``kernel_lr_ratio``
(KernelNet's learning rate over the generator's, 000 §4.1).
Learning rates ``lr_g`` and ``lr_d`` (TTUR, 003 §5.1) come from the run's config.
"""
from __future__ import annotations

from typing import Callable, Iterator

import torch
from torch import nn

from repro.core.spectral import apply_lipschitz

from .architectures import build_nets
from .objectives import build_objective

NOISES = ("normal", "uniform")


def sample_noise(kind: str, n: int, dim: int, generator: torch.Generator, device) -> torch.Tensor:
    if kind == "normal":  # 003 Table S1
        z = torch.randn(n, dim, generator=generator)
    elif kind == "uniform":  # 000 §4.1: U[-1, 1]^128
        z = torch.rand(n, dim, generator=generator) * 2 - 1
    else:
        raise ValueError(f"noise must be one of {NOISES}; got {kind!r}.")
    return z.to(device)


class ImageGAN:
    def __init__(self, recipe: dict, arch: str, resolution: int, channels: int, lr_g: float, lr_d: float,
                 device, example_real: torch.Tensor, z_dim: int = 128, width: int | None = None):
        self.recipe, self.device = dict(recipe), torch.device(device)
        self.z_dim = z_dim
        self.noise = recipe.get("noise", "normal")
        self.out_dim = int(recipe.get("out_dim", 1))
        self.n_dis = int(recipe.get("n_dis", 1))
        if self.n_dis < 1:
            raise ValueError(f"n_dis must be at least 1; got {self.n_dis}.")
        self.G, self.D = build_nets(arch, resolution, self.out_dim, z_dim, channels, width)
        apply_lipschitz(self.D, recipe.get("lipschitz", "none"), example_input=example_real[:2].cpu(),
                        coeff=recipe.get("lipschitz_coeff"), coeff_total=recipe.get("coeff_total"))
        # oneDNN's CPU convolutions run faster on NHWC tensors: 0.78 vs 0.64 of sgemm FLOP/s for the
        # DCGAN-CIFAR step (benchmarks/bench_train_step.py); on GPUs the default layout is kept.
        self.memory_format = torch.channels_last if self.device.type == "cpu" else torch.contiguous_format
        self.G.to(self.device, memory_format=self.memory_format)
        self.D.to(self.device, memory_format=self.memory_format)
        self.objective = build_objective(recipe, self.out_dim)
        betas = tuple(float(b) for b in recipe.get("betas", (0.5, 0.999)))
        self.base_lr = {"g": float(lr_g), "d": float(lr_d)}
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr_d, betas=betas)
        self.opt_k = None
        if self.objective.kernel is not None:
            self.objective.kernel.to(self.device)
            ratio = float(recipe.get("kernel_lr_ratio", 1.0))
            self.base_lr["k"] = ratio * float(lr_g)  # 000 §4.1: ratio to the generator's learning rate
            self.opt_k = torch.optim.Adam(self.objective.kernel.parameters(), lr=self.base_lr["k"], betas=betas)
        self.lr_scale = 1.0

    # ------------------------------------------------------------------ training
    def noise_batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return sample_noise(self.noise, n, self.z_dim, generator, self.device)

    def _optimisers(self) -> dict:
        opts = {"g": self.opt_g, "d": self.opt_d}
        if self.opt_k is not None:
            opts["k"] = self.opt_k
        return opts

    def set_lr_scale(self, scale: float) -> None:
        self.lr_scale = float(scale)
        for name, opt in self._optimisers().items():
            for group in opt.param_groups:
                group["lr"] = self.base_lr[name] * self.lr_scale

    def train_step(self, next_real: Callable[[], torch.Tensor], z_gen: torch.Generator) -> dict[str, float]:
        """``n_dis`` discriminator (+ KernelNet) updates, each on a fresh real batch, then one G update."""
        self.G.train()
        self.D.train()
        for _ in range(self.n_dis):
            x = next_real().contiguous(memory_format=self.memory_format)
            with torch.no_grad():
                y = self.G(self.noise_batch(x.shape[0], z_gen))
            d_loss = self.objective.d_loss(self.D, x, y)
            self.opt_d.zero_grad(set_to_none=True)
            if self.opt_k is not None:
                self.opt_k.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            if self.opt_k is not None:
                self.opt_k.step()
        x = next_real().contiguous(memory_format=self.memory_format)
        y = self.G(self.noise_batch(x.shape[0], z_gen))
        for p in self.D.parameters():
            p.requires_grad_(False)
        kernel_params = list(self.objective.kernel.parameters()) if self.objective.kernel is not None else []
        for p in kernel_params:
            p.requires_grad_(False)
        try:
            g_loss = self.objective.g_loss(self.D, x, y)
            self.opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            self.opt_g.step()
        finally:
            for p in [*self.D.parameters(), *kernel_params]:
                p.requires_grad_(True)
        return {"loss_d": float(d_loss.detach()), "loss_g": float(g_loss.detach())}

    @torch.no_grad()
    def generate(self, n: int, generator: torch.Generator, batch_size: int = 250) -> torch.Tensor:
        self.G.eval()
        out = [self.G(self.noise_batch(min(batch_size, n - i), generator)).cpu() for i in range(0, n, batch_size)]
        return torch.cat(out) if out else torch.empty(0)

    @torch.no_grad()
    def generate_from(self, z: torch.Tensor) -> torch.Tensor:
        self.G.eval()
        return self.G(z.to(self.device)).cpu()

    # ------------------------------------------------------------------ state
    def modules(self) -> dict[str, nn.Module]:
        mods = {"G": self.G, "D": self.D}
        if self.objective.kernel is not None:
            mods["kernel"] = self.objective.kernel
        return mods

    def state_dict(self) -> dict:
        return {"modules": {k: m.state_dict() for k, m in self.modules().items()},
                "optimisers": {k: o.state_dict() for k, o in self._optimisers().items()},
                "lr_scale": self.lr_scale}

    def load_state_dict(self, state: dict) -> None:
        for k, m in self.modules().items():
            m.load_state_dict(state["modules"][k])
        for k, o in self._optimisers().items():
            o.load_state_dict(state["optimisers"][k])
        self.set_lr_scale(state["lr_scale"])


def real_batches(dataset, batch_size: int, generator: torch.Generator, device, start_state=None) -> tuple[Iterator, Callable]:
    """Endless mini-batches, one fresh permutation per epoch (drawn from ``generator``).

    Returns ``(next_batch, get_state)``; ``get_state()`` gives what a checkpoint needs to continue the
    same stream (permutation and position; the generator's state is saved by the caller).
    """
    n = len(dataset)
    if n < batch_size:
        raise ValueError(f"the dataset has {n} images, fewer than one batch of {batch_size}; lower batch_size.")
    state = dict(start_state) if start_state else {"perm": torch.randperm(n, generator=generator), "pos": 0}
    getitems = getattr(dataset, "__getitems__", None)

    def fetch(idx: list[int]) -> torch.Tensor:
        items = getitems(idx) if getitems is not None else [dataset[i] for i in idx]
        return torch.stack([torch.as_tensor(img) for img, _ in items])

    def next_batch() -> torch.Tensor:
        if state["pos"] + batch_size > n:  # drop the last incomplete batch, as DataLoader(drop_last=True)
            state["perm"], state["pos"] = torch.randperm(n, generator=generator), 0
        idx = state["perm"][state["pos"]: state["pos"] + batch_size].tolist()
        state["pos"] += batch_size
        return fetch(idx).to(device, non_blocking=True)

    return next_batch, lambda: {"perm": state["perm"].clone(), "pos": state["pos"]}
