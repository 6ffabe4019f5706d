"""Reading training curves by budget: the steps several runs share, a metric at a step, and where an
outcome holds, as windows and as a sentence.

A curve is a record's ``curve``: a list of evaluation points ``{"step": int, <metric>: float, ...}`` in
training order. Used by the claims ledger (a claim evaluated at every budget) and the aggregator's table
footer; imports nothing of either.

API::

    common_budgets(curves, metric=None) -> list[int]     # steps present in every curve (with the metric)
    value_at(curve, step, metric) -> float | None         # the metric at exactly that step
    windows(outcomes) -> list[Window]                     # [(step, outcome), ...] -> runs of equal outcome
    window_sentence(outcomes, words=None) -> str          # "holds from 32k to 120k steps; fails from 160k"
    step_text(step) -> str                                # 32000 -> "32k", 1600000 -> "1.6M"
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence


def _points(curve: Sequence[dict], metric: str | None) -> dict[int, float | None]:
    """step -> value (None when the point lacks the metric or it is not a finite number)."""
    out: dict[int, float | None] = {}
    for point in curve or ():
        if "step" not in point:
            continue
        value = point.get(metric) if metric else 0.0
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        out[int(point["step"])] = float(value) if ok else None
    return out


def common_budgets(curves: Iterable[Sequence[dict]], metric: str | None = None) -> list[int]:
    """The steps present in every curve (and, with ``metric``, where every curve has a finite value), ascending.
    No curves, or any curve empty: []."""
    common: set[int] | None = None
    for curve in curves:
        steps = {s for s, v in _points(curve, metric).items() if v is not None}
        common = steps if common is None else common & steps
        if not common:
            return []
    return sorted(common or ())


def value_at(curve: Sequence[dict], step: int, metric: str) -> float | None:
    """The metric at exactly ``step`` (None if the curve has no such point or it lacks the metric)."""
    return _points(curve, metric).get(int(step))


@dataclass(frozen=True)
class Window:
    outcome: str
    first: int  # first budget (step) of the run of equal outcomes
    last: int   # last budget of it
    count: int  # budgets in it


def windows(outcomes: Sequence[tuple[int, str]]) -> list[Window]:
    """[(step, outcome), ...] (any order) -> maximal runs of consecutive budgets with the same outcome."""
    out: list[Window] = []
    for step, outcome in sorted(outcomes):
        if out and out[-1].outcome == outcome:
            w = out[-1]
            out[-1] = Window(outcome, w.first, step, w.count + 1)
        else:
            out.append(Window(outcome, step, step, 1))
    return out


def step_text(step: int) -> str:
    """32000 -> "32k", 1600000 -> "1.6M", 500 -> "500" (the training-curve figures' tick labels)."""
    if step >= 1_000_000:
        return f"{step / 1e6:g}M"
    if step >= 1000:
        return f"{step / 1e3:g}k"
    return str(step)


def window_sentence(outcomes: Sequence[tuple[int, str]], words: dict[str, str] | None = None) -> str:
    """"holds from 32k to 120k steps; fails from 160k": one clause per window, in step order; ``words`` maps
    an outcome to its verb ("reproduced" -> "holds"). A window of one budget reads "at X"; the last of
    several windows "from X" (to the last budget); any other "from X to Y". Empty outcomes: ""."""
    ws = windows(outcomes)
    words = words or {}
    clauses = []
    for i, w in enumerate(ws):
        if w.count == 1:
            span = f"at {step_text(w.first)}"
        elif i == len(ws) - 1 and i > 0:
            span = f"from {step_text(w.first)}"
        else:
            span = f"from {step_text(w.first)} to {step_text(w.last)}"
        clauses.append(f"{words.get(w.outcome, w.outcome)} {span}" + (" steps" if i == 0 else ""))
    return "; ".join(clauses)


__all__ = ["Window", "common_budgets", "value_at", "windows", "window_sentence", "step_text"]
