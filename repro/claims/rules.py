"""Verdict rules: pure functions of per-cell statistics (no records, no specs, no I/O).

Each rule returns ``(status, reason)`` with status one of :data:`REPRODUCED`, :data:`NOT_REPRODUCED`,
:data:`INCONCLUSIVE`. Margins use the combined (Welch) standard error ``sqrt(s_a²/n_a + s_b²/n_b)`` with
sample stds (ddof=1), as the report's Δ column does:

- ``within_error``: |mean − paper| ≤ max(k·SE, tol), SE combining the runs' and the paper's std (k = 2).
- ``less_than`` / ``greater_than``: the difference has the claimed sign by more than k·SE (k = 1, the
  issue's "by more than the combined standard error"); the opposite sign by more than k·SE is "not
  reproduced"; in between (overlapping errors) "inconclusive".
- ``ordering``: each consecutive pair as ``less_than`` (direction lower: ascending values) or
  ``greater_than``; ``best_of``: the first cell against each other one.
- ``at_least`` / ``at_most``: every run (``every_run``) or the mean (with a k·SE margin) against a value.
- ``near``: every coordinate within ``tol`` of the paper's point.
- ``label``: each run is ``below`` or ``above`` a threshold; all runs must carry the expected label.

Too few runs (n < min_n; default 2 where a std is needed, 1 otherwise) is "inconclusive".
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, UNTESTED = "reproduced", "not reproduced", "inconclusive", "untested"
STATUSES = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, UNTESTED)


@dataclass
class CellStats:
    """The ok runs' values of one metric in one cell, at one scale."""
    label: str
    values: list[float]
    scale: str | None = None
    stand_in: bool = False
    uncalibrated: bool = False
    data_sources: list[str] = field(default_factory=list)
    n_diverged: int = 0
    n_failed: int = 0
    n_ok: int = 0  # runs that ended ok (their metric may still be missing)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return sum(self.values) / self.n if self.n else math.nan

    @property
    def std(self) -> float:
        """Sample std (ddof=1); 0 for one run (used only where min_n allows it: deterministic tasks)."""
        if self.n < 2:
            return 0.0
        m = self.mean
        return math.sqrt(sum((v - m) ** 2 for v in self.values) / (self.n - 1))

    def se2(self) -> float:
        return self.std ** 2 / self.n if self.n else math.nan


def fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.4g}"


def _too_few(cells: list[CellStats], min_n: int) -> str | None:
    few = [c for c in cells if c.n < min_n]
    if few:
        return "too few runs: " + ", ".join(f"{c.label} n={c.n}" for c in few) + f" (need {min_n})"
    return None


def within_error(cell: CellStats, paper_mean: float, paper_std: float | None, paper_n: int, k: float = 2.0,
                 tol: float | None = None, min_n: int | None = None) -> tuple[str, str]:
    min_n = min_n if min_n is not None else (1 if tol is not None else 2)
    if (why := _too_few([cell], min_n)):
        return INCONCLUSIVE, why
    se = math.sqrt(cell.se2() + (paper_std or 0.0) ** 2 / paper_n)
    margin = max(k * se, tol or 0.0)
    delta = cell.mean - paper_mean
    how = f"Δ = {fmt(delta)}; margin {fmt(margin)} = " + (f"max({k:g}·SE {fmt(k * se)}, tol {fmt(tol)})" if tol is not None
                                                         else f"{k:g}·SE (SE {fmt(se)})")
    return (REPRODUCED if abs(delta) <= margin else NOT_REPRODUCED), how


def compare(a: CellStats, b: CellStats, op: str, k: float = 1.0, min_n: int = 2) -> tuple[str, str]:
    """Claim: mean(a) < mean(b) (op '<') or > (op '>') by more than k combined standard errors."""
    if (why := _too_few([a, b], min_n)):
        return INCONCLUSIVE, why
    d = a.mean - b.mean
    signed = -d if op == "<" else d  # > 0: in the claimed direction
    se = math.sqrt(a.se2() + b.se2())
    how = f"{a.label} − {b.label} = {fmt(d)} (SE {fmt(se)})"
    if se == 0:
        return (REPRODUCED if signed > 0 else NOT_REPRODUCED), how
    if signed > k * se:
        return REPRODUCED, how
    if signed < -k * se:
        return NOT_REPRODUCED, how + f": the opposite order by more than {k:g} SE"
    return INCONCLUSIVE, how + f": within {k:g} SE (overlapping errors)"


def combine(results: list[tuple[str, str]]) -> tuple[str, str]:
    """All reproduced -> reproduced; any not reproduced -> not reproduced; else inconclusive."""
    statuses = [s for s, _ in results]
    reasons = "; ".join(r for _, r in results)
    if NOT_REPRODUCED in statuses:
        return NOT_REPRODUCED, reasons
    if all(s == REPRODUCED for s in statuses):
        return REPRODUCED, reasons
    return INCONCLUSIVE, reasons


def ordering(cells: list[CellStats], direction: str = "lower", k: float = 1.0, min_n: int = 2) -> tuple[str, str]:
    """cells[0] best, then cells[1], ...: ascending values when lower is better, descending when higher."""
    op = "<" if direction == "lower" else ">"
    return combine([compare(a, b, op, k, min_n) for a, b in zip(cells, cells[1:])])


def best_of(cells: list[CellStats], direction: str = "lower", k: float = 1.0, min_n: int = 2) -> tuple[str, str]:
    """cells[0] better than every other cell."""
    op = "<" if direction == "lower" else ">"
    return combine([compare(cells[0], other, op, k, min_n) for other in cells[1:]])


def threshold(cells: list[CellStats], value: float, op: str, every_run: bool = False, k: float = 1.0,
              min_n: int | None = None) -> tuple[str, str]:
    """at_least (op '>=') / at_most (op '<='), per run or on the mean with a k·SE margin."""
    ok = (lambda v: v >= value) if op == ">=" else (lambda v: v <= value)
    min_n = min_n if min_n is not None else (1 if every_run else 2)
    if (why := _too_few(cells, min_n)):
        return INCONCLUSIVE, why
    results = []
    for c in cells:
        if every_run:
            bad = [v for v in c.values if not ok(v)]
            results.append((NOT_REPRODUCED if bad else REPRODUCED,
                            f"{c.label}: {c.n - len(bad)} of {c.n} runs {op} {value:g}"
                            + (f" (others: {', '.join(fmt(v) for v in bad)})" if bad else "")))
            continue
        margin = k * math.sqrt(c.se2())
        if ok(c.mean):
            results.append((REPRODUCED, f"{c.label}: mean {fmt(c.mean)} {op} {value:g}"))
        elif (op == ">=" and c.mean + margin < value) or (op == "<=" and c.mean - margin > value):
            results.append((NOT_REPRODUCED, f"{c.label}: mean {fmt(c.mean)} misses {value:g} by more than {k:g} SE"))
        else:
            results.append((INCONCLUSIVE, f"{c.label}: mean {fmt(c.mean)} within {k:g} SE of {value:g}"))
    return combine(results)


def near(cells: list[CellStats], point: list[float], tol: float | list[float]) -> tuple[str, str]:
    """Each coordinate's mean within tol of the paper's point (cells: one per coordinate)."""
    tols = tol if isinstance(tol, list) else [tol] * len(point)
    if (why := _too_few(cells, 1)):
        return INCONCLUSIVE, why
    parts, ok = [], True
    for c, p, t in zip(cells, point, tols):
        d = c.mean - p
        ok &= abs(d) <= t
        parts.append(f"{c.label} {fmt(c.mean)} vs {p:g} (Δ {fmt(d)}, tol {t:g})")
    return (REPRODUCED if ok else NOT_REPRODUCED), "; ".join(parts)


def label(cells: list[CellStats], threshold_: float, below: str, above: str, expect: str) -> tuple[str, str]:
    """Every run labelled ``below`` (value < threshold) or ``above``; all must carry ``expect``."""
    if (why := _too_few(cells, 1)):
        return INCONCLUSIVE, why
    labels = {c.label: [below if v < threshold_ else above for v in c.values] for c in cells}
    got = [lab for labs in labels.values() for lab in labs]
    how = "; ".join(f"{c.label}: {', '.join(sorted(set(labels[c.label])))} (values {', '.join(fmt(v) for v in c.values)}; "
                    f"threshold {threshold_:g})" for c in cells)
    if all(g == expect for g in got):
        return REPRODUCED, how
    if all(g != expect for g in got):
        return NOT_REPRODUCED, how
    return INCONCLUSIVE, how + ": runs disagree"
