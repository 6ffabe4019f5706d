"""What a task sees of the run it executes: config, device, checkpoints, RNG state, progress.

Tasks (``repro/tasks/*.py``) receive a :class:`RunContext`. This module knows nothing of YAML
specs or executors; the worker builds the context from a run description.
"""
from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch


class Diverged(Exception):
    """Raised by a task when training diverged (NaN/inf loss, or a metric past its threshold).

    ``metrics`` (what could still be measured) and ``step`` go into the record of status `diverged`.
    """

    def __init__(self, message: str, metrics: dict | None = None, step: int | None = None):
        super().__init__(message)
        self.metrics = metrics or {}
        self.step = step


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rng_state() -> dict:
    """Every RNG state a CPU or CUDA run draws from, for exact resume."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@dataclass
class RunContext:
    """Handed to ``task.run(cfg, ctx)``.

    ``run_dir``: a folder private to this run (checkpoints, samples, figures).
    ``checkpoint_every``: steps between checkpoints (0 disables them).
    ``progress``: callback ``progress(step, total, **scalars)``; the worker turns it into a bar or log line.
    """

    run_dir: Path
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    checkpoint_every: int = 0
    progress: Callable[..., None] = lambda *a, **k: None
    stop_after_checkpoint: int | None = None  # test hook: exit after the n-th checkpoint written

    _checkpoints_written: int = 0

    @property
    def checkpoint_path(self) -> Path:
        return self.run_dir / "checkpoint.pt"

    def save_checkpoint(self, state: dict[str, Any]) -> None:
        """Atomically save ``state`` plus every RNG state. ``state`` holds models, optimisers, step, ..."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.checkpoint_path.with_suffix(".pt.tmp")
        torch.save({"state": state, "rng": rng_state()}, tmp)
        os.replace(tmp, self.checkpoint_path)
        self._checkpoints_written += 1
        if self.stop_after_checkpoint is not None and self._checkpoints_written >= self.stop_after_checkpoint:
            os._exit(75)  # simulate a kill right after a checkpoint (tests only)

    def load_checkpoint(self) -> dict[str, Any] | None:
        """The saved state (RNG restored as a side effect), or None when there is no checkpoint."""
        if not self.checkpoint_path.exists():
            return None
        blob = torch.load(self.checkpoint_path, map_location=self.device, weights_only=False)
        set_rng_state(blob["rng"])
        return blob["state"]

    def save_training(self, step: int, model_state: dict, data_rng: torch.Generator) -> None:
        """Checkpoint a training loop that draws its data from its own generator ``data_rng``."""
        self.save_checkpoint({"model": model_state, "data_rng": data_rng.get_state(), "step": step})

    def resume_training(self, load_model: Callable[[dict], None], data_rng: torch.Generator) -> int:
        """Restore what :meth:`save_training` saved (model via ``load_model``, ``data_rng``, every global
        RNG); returns the step to continue after, 0 when there is no checkpoint."""
        state = self.load_checkpoint()
        if state is None:
            return 0
        load_model(state["model"])
        data_rng.set_state(state["data_rng"])
        return int(state["step"])

    def after_step(self, step: int, steps: int, losses: dict[str, float], model_state: Callable[[], dict],
                   data_rng: torch.Generator, progress_every: int, label: str = "") -> None:
        """What a training loop does after step ``step`` of ``steps``: raise :class:`Diverged` on a non-finite
        loss, report progress every ``progress_every`` steps, and :meth:`save_training` every
        ``checkpoint_every`` steps (``model_state()`` is called only then)."""
        if not all(math.isfinite(v) for v in losses.values()):
            raise Diverged(f"{label}non-finite loss at step {step}: {losses}", step=step)
        if step % progress_every == 0 or step == steps:
            self.progress(step, steps, **losses)
        if self.checkpoint_every and step % self.checkpoint_every == 0 and step < steps:
            self.save_training(step, model_state(), data_rng)

    def artifact(self, name: str) -> Path:
        """Path for a file this run produces (figure, samples); recorded in the record by name."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        return self.run_dir / name
