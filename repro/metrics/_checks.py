"""Input validation shared by the metrics: one clear error per kind of bad input."""
from __future__ import annotations

import numpy as np
import torch


def to_numpy(x, dtype=np.float64) -> np.ndarray:
    """``x`` as a numpy array of ``dtype``; ``dtype=None`` keeps float32/float64 and makes anything else float64."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    if dtype is None:
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float64
    return x.astype(dtype, copy=False)


def feature_matrix(x, name: str, min_rows: int = 1, dtype=np.float64) -> np.ndarray:
    """``x`` as an N×d array of ``dtype``; ValueError when it is not 2-D, too short, or not finite."""
    arr = to_numpy(x, dtype)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be an N×d feature matrix; got shape {arr.shape}. "
                         "Flatten each sample's features into one row.")
    if arr.shape[0] < min_rows:
        raise ValueError(f"{name} has {arr.shape[0]} samples; at least {min_rows} are needed. "
                         "Generate or load more samples.")
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).any(axis=1).sum())
        raise ValueError(f"{name} contains NaN or inf in {bad} of {arr.shape[0]} rows; "
                         "check the generator output (a diverged model) or the feature extractor.")
    return arr


def same_dimension(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{name_a} has dimension {a.shape[1]} but {name_b} has dimension {b.shape[1]}; "
                         "both sets must come from the same feature extractor layer.")


def image_batch(images, name: str = "images", low: float = -1.0, high: float = 1.0,
                tolerance: float = 1e-3) -> torch.Tensor:
    """``images`` as a float N×C×H×W tensor with values in [low, high] (checked with a small tolerance)."""
    x = images if isinstance(images, torch.Tensor) else torch.as_tensor(np.asarray(images))
    if x.dim() != 4:
        raise ValueError(f"{name} must be an N×C×H×W batch; got shape {tuple(x.shape)}.")
    x = x.float()
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or inf; the generator probably diverged.")
    lo, hi = float(x.min()), float(x.max())
    if lo < low - tolerance or hi > high + tolerance:
        raise ValueError(f"{name} has values in [{lo:.4g}, {hi:.4g}] but [{low:g}, {high:g}] is expected; "
                         f"rescale the images (repro datasets and generators use [-1, 1]).")
    return x.clamp(low, high)
