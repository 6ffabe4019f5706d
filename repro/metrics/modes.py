"""Mode-capture metrics on synthetic mixtures (004 §5.2, Table 1)."""
from __future__ import annotations

import numpy as np
import torch


def _as_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)


def gmm_grid_metrics(samples, centers, std: float, threshold: float = 3.0, min_count: int = 1000,
                     weights=None) -> dict:
    """Modes captured, proportion of high-quality samples, and KL(P_g || P_d) over K+1 bins.

    004 §5.2: a sample is high quality when it lies within ``threshold`` standard deviations of a
    centre (it is assigned to the nearest centre); a mode is captured when more than ``min_count``
    high-quality samples are assigned to it. P_g is the (K+1)-bin histogram (K modes plus one
    'low quality' bin); P_d is the same histogram of the true mixture, whose low-quality mass is
    the probability that a component draw lands beyond ``threshold`` std (chi distribution, d dims).
    Empty bins of P_g contribute 0 to KL(P_g || P_d).

    Assumes the threshold balls of different centres do not overlap (true for the 004 grid: spacing 2,
    3·std = 0.15), so that "within 3 std of any centre" equals "within 3 std of the nearest centre".
    ``weights`` gives uneven mixtures (004 Fig. 3a); uniform otherwise. Keys: ``modes`` (int),
    ``hq`` (proportion of high-quality samples), ``kl``.
    """
    from scipy.stats import chi2

    x = _as_numpy(samples)
    c = _as_numpy(centers)
    if x.ndim != 2 or c.ndim != 2 or x.shape[1] != c.shape[1]:
        raise ValueError(f"samples {x.shape} and centers {c.shape} must be N×d and K×d with the same d")
    if not np.isfinite(x).all():
        raise ValueError("samples contain NaN or inf")
    if not (std > 0 and threshold > 0 and min_count >= 0):
        raise ValueError(f"need std > 0, threshold > 0 and min_count >= 0; got {std}, {threshold}, {min_count}")
    if len(x) == 0:
        raise ValueError("gmm_grid_metrics needs at least one sample")
    k, d = c.shape
    w = np.full(k, 1.0 / k) if weights is None else _as_numpy(weights) / _as_numpy(weights).sum()
    # squared distances as (K, N), one coordinate at a time: the same sums as broadcasting (N, K, d) and
    # summing over d, without its N·K·d temporary, and argmin over the leading axis (4-5× faster at N = 50,000)
    d2 = sum((c[:, j, None] - x[None, :, j]) ** 2 for j in range(d))
    nearest = d2.argmin(0)
    high_quality = np.sqrt(d2[nearest, np.arange(len(x))]) <= threshold * std
    counts = np.bincount(nearest[high_quality], minlength=k)
    p_g = np.append(counts, (~high_quality).sum()) / len(x)
    inside = chi2.cdf(threshold ** 2, df=d)  # P(|N(0, I_d)| <= threshold)
    p_d = np.append(w * inside, 1.0 - inside)
    mask = p_g > 0
    kl = float(np.sum(p_g[mask] * np.log(p_g[mask] / p_d[mask])))
    return {
        "modes": int((counts > min_count).sum()),
        "hq": float(high_quality.mean()),
        "kl": kl,
    }
