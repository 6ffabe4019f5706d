"""Has a training curve stopped moving? The table footer's test (``table.convergence``: it names the cells
that still do) and the claims ledger's (a cell still moving at its last budget decides nothing).

A curve is a list of evaluation points ``{"step": int, <metric>: float, ...}`` in training order.
"""
from __future__ import annotations


def late_change(curve: list[dict], metric: str, window: float) -> float | None:
    """How much ``metric`` moved over the last ``window`` of training: its value at the curve's last
    point minus that at the point nearest (1 - window) × the last step (None without two points)."""
    points = [(p["step"], p[metric]) for p in curve if p.get(metric) is not None and "step" in p]
    if len(points) < 2:
        return None
    last_step, last = points[-1]
    _, before = min(points[:-1], key=lambda p: abs(p[0] - (1 - window) * last_step))
    return float(last - before)


def still_moving(changes: list[float], tolerance: float, alpha: float = 0.05, min_n: int = 3) -> tuple[bool, str]:
    """Whether a cell still moves: its seeds' late changes drift, significantly and by more than ``tolerance``.

    Relevant: the mean change lies beyond ±``tolerance``. Significant: a one-sided one-sample t-test of
    the changes against 0, on the side the mean lies, at ``alpha``. One seed's late jump in a noisy cell
    (a GAN seed finding a mode) does not flag it; a drift the seeds share does. The ledger reads a moving
    cell as deciding nothing, so where the two could part the test errs toward "moving" (against 0, not
    against the tolerance). Every seed moved by the same amount (no spread): by the mean alone, exactly.
    Fewer than ``min_n`` seeds: no test; by the mean alone. Returns (moving, how it was decided)."""
    changes = [float(c) for c in changes]
    if not changes:
        return False, "no curve"
    mean = sum(changes) / len(changes)
    if abs(mean) <= tolerance:
        return False, f"mean {mean:+.2g} within ±{tolerance:g}"
    if max(changes) == min(changes):
        return True, f"every seed {mean:+.2g}"
    if len(changes) < min_n:
        return True, f"mean {mean:+.2g} beyond ±{tolerance:g} (n {len(changes)}: no test)"
    from scipy.stats import ttest_1samp

    p = float(ttest_1samp(changes, 0.0, alternative="greater" if mean > 0 else "less").pvalue)
    return p < alpha, (f"mean {mean:+.2g} beyond ±{tolerance:g}; drift one-sided p = {p:.2g}"
                       + (" < " if p < alpha else " ≥ ") + f"{alpha:g}")
