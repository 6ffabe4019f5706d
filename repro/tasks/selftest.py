"""A tiny, exactly reproducible training task for testing the suite's machinery (store, launcher,
checkpoint/resume, Slurm requeue) in seconds: SGD on a noisy linear regression.

Config: steps, batch_size, lr, sleep_per_step (s, to make a run slow enough to interrupt),
fail_at_step (raise there), diverge (lr blown up so the loss goes to inf).
"""
from __future__ import annotations

import math
import time

import torch

from ..runtime import Diverged, seed_everything


def run(cfg: dict, ctx) -> dict:
    seed_everything(cfg["seed"])
    dim = 8
    true_w = torch.linspace(-1, 1, dim)
    model = torch.nn.Linear(dim, 1)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.get("lr", 0.05) * (1e6 if cfg.get("diverge") else 1))
    start = 0
    state = ctx.load_checkpoint()
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        start = state["step"]
    steps = cfg["steps"]
    for step in range(start, steps):
        x = torch.randn(cfg.get("batch_size", 32), dim)
        y = x @ true_w + 0.1 * torch.randn(x.shape[0])
        loss = ((model(x).squeeze(1) - y) ** 2).mean()
        if not math.isfinite(loss.item()):
            raise Diverged(f"loss is {loss.item()} at step {step}", step=step)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if cfg.get("fail_at_step") == step:
            raise RuntimeError(f"requested failure at step {step}")
        if cfg.get("sleep_per_step"):
            time.sleep(cfg["sleep_per_step"])
        if ctx.checkpoint_every and (step + 1) % ctx.checkpoint_every == 0 and step + 1 < steps:
            ctx.save_checkpoint({"model": model.state_dict(), "opt": opt.state_dict(), "step": step + 1})
        ctx.progress(step + 1, steps, loss=loss.item())
    weight_error = (model.weight.detach().squeeze(0) - true_w).norm().item()
    return {"metrics": {"weight_error": weight_error, "final_loss": loss.item()}, "steps": steps,
            "notes": ["selftest task: linear regression by SGD"]}
