"""Has a training curve stopped moving? One test, shared by training (gmm_modes' ``converge``, which
extends a run while its curve still moves) and the table footer (which names the cells that still do).

A curve is a list of evaluation points ``{"step": int, <metric>: float, ...}`` in training order.
"""
from __future__ import annotations

import math


def late_change(curve: list[dict], metric: str, window: float) -> float | None:
    """How much ``metric`` moved over the last ``window`` of training: its value at the curve's last
    point minus that at the point nearest (1 - window) × the last step (None without two points)."""
    points = [(p["step"], p[metric]) for p in curve if p.get(metric) is not None and "step" in p]
    if len(points) < 2:
        return None
    last_step, last = points[-1]
    _, before = min(points[:-1], key=lambda p: abs(p[0] - (1 - window) * last_step))
    return float(last - before)


def mean_late_change(curves: list[list[dict]], metric: str, window: float) -> float | None:
    """:func:`late_change` averaged over several runs' curves (the seeds of one cell); None if none has one."""
    changes = [c for c in (late_change(curve, metric, window) for curve in curves) if c is not None]
    return math.fsum(changes) / len(changes) if changes else None
