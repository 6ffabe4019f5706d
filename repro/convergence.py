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
