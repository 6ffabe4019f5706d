"""Verdict rules: pure functions of per-cell values (no records, no specs, no I/O).

Each rule returns an :class:`Outcome`: the status (:data:`REPRODUCED`, :data:`NOT_REPRODUCED`,
:data:`INCONCLUSIVE`), the reason, and the p-value or margin that decided it.

- ``less_than`` / ``greater_than`` (:func:`compare`): a one-sided Welch t-test at α = 0.05
  (``scipy.stats.ttest_ind(equal_var=False)``). Reproduced when the claimed order's p < α (the test rejects
  the opposite), not reproduced when the opposite order's p < α, inconclusive otherwise; n ≥ 3 runs per cell.
  Welch, because the cells are different methods with different spread and 3-5 seeds each: it does not
  assume equal variances; a bootstrap CI is not usable at these n (three values have ten distinct resamples).
- ``ordering`` / ``best_of``: every pair as above, combined as an intersection-union test (the claim
  holds when every pair does; the p-value shown is the largest pair's, no multiplicity correction needed).
- ``within_error``: |mean − paper| ≤ max(k·SE, tol), SE combining the runs' std and the paper's std over
  n_p runs (k = 2): the combined-error rule. The outcome carries the margin.
- ``at_least`` / ``at_most`` (:func:`threshold`): every run (``every_run``), else a one-sided one-sample
  t-test of the mean against the value at α (n ≥ 3).
- ``ks_test``: every run's KS statistic at most the one-sample critical value at α for its sample size.
- ``near``: every coordinate within ``tol`` of the paper's point. ``label``: every run carries the label.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, UNTESTED = "reproduced", "not reproduced", "inconclusive", "untested"
STATUSES = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, UNTESTED)
ALPHA = 0.05  # the charter's level for every statistical rule
MIN_N = 3     # runs per cell a test needs


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
    records: list[str] = field(default_factory=list)  # "<job>/<key>" of the runs behind the values

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return math.fsum(self.values) / self.n if self.n else math.nan

    @property
    def std(self) -> float:
        """Sample std (ddof=1); 0 for one run (used only where a rule allows one run)."""
        if self.n < 2:
            return 0.0
        m = self.mean
        return math.sqrt(math.fsum((v - m) ** 2 for v in self.values) / (self.n - 1))

    @property
    def constant(self) -> bool:
        """Every run gave the same value (no spread: a t statistic is undefined)."""
        return bool(self.values) and max(self.values) == min(self.values)

    def se2(self) -> float:
        return self.std ** 2 / self.n if self.n else math.nan


@dataclass
class Outcome:
    status: str
    reason: str
    p_value: float | None = None   # the claim's one-sided p (ordering / best_of: the largest pair's)
    statistic: str | None = None   # e.g. "Welch t = -4.1 (df 3.9)"
    margin: float | None = None    # within_error / near: the margin the rule allowed; ks_test: the critical value
    alpha: float | None = None     # the level, where a test decided


def fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.4g}"


def fmt_p(p: float | None) -> str:
    return "–" if p is None else f"{p:.2g}"


def _too_few(cells: list[CellStats], min_n: int, what: str = "") -> str | None:
    few = [c for c in cells if c.n < min_n]
    if few:
        return ("too few runs: " + ", ".join(f"{c.label} n={c.n}" for c in few)
                + f" (a {what or 'test'} needs {min_n} per cell)")
    return None


def within_error(cell: CellStats, paper_mean: float, paper_std: float | None, paper_n: int, k: float = 2.0,
                 tol: float | None = None, min_n: int | None = None) -> Outcome:
    min_n = min_n if min_n is not None else (1 if tol is not None else 2)
    if (why := _too_few([cell], min_n, "standard error")):
        return Outcome(INCONCLUSIVE, why)
    se = math.sqrt(cell.se2() + (paper_std or 0.0) ** 2 / paper_n)
    margin = max(k * se, tol or 0.0)
    delta = cell.mean - paper_mean
    how = f"Δ = {fmt(delta)}; margin {fmt(margin)} = " + (f"max({k:g}·SE {fmt(k * se)}, tol {fmt(tol)})" if tol is not None
                                                         else f"{k:g}·SE (SE {fmt(se)})")
    return Outcome(REPRODUCED if abs(delta) <= margin else NOT_REPRODUCED, how, margin=margin)


def welch_p(a: CellStats, b: CellStats, alternative: str) -> tuple[float, float | None, float | None]:
    """(p, t, df) of the one-sided Welch test of mean(a) vs mean(b) (alternative 'less' or 'greater').
    Zero spread in both cells: the means' order is exact (p 0 or 1; equal means: p 1, t and df None)."""
    if a.constant and b.constant:
        d = a.values[0] - b.values[0]
        holds = d < 0 if alternative == "less" else d > 0
        return (0.0 if holds else 1.0), None, None
    from scipy.stats import ttest_ind

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy's precision note on nearly equal values
        res = ttest_ind(a.values, b.values, equal_var=False, alternative=alternative)
    return float(res.pvalue), float(res.statistic), float(res.df)


def compare(a: CellStats, b: CellStats, op: str, alpha: float = ALPHA, min_n: int = MIN_N) -> Outcome:
    """Claim: mean(a) < mean(b) (op '<') or > (op '>'), by a one-sided Welch t-test at ``alpha``."""
    if (why := _too_few([a, b], min_n)):
        return Outcome(INCONCLUSIVE, why, alpha=alpha)
    claim, opposite = ("less", "greater") if op == "<" else ("greater", "less")
    p, t, df = welch_p(a, b, claim)
    p_opp, _, _ = welch_p(a, b, opposite)
    stat = f"Welch t = {t:.3g} (df {df:.3g})" if t is not None else "no spread in either cell: exact order"
    how = (f"{a.label} − {b.label} = {fmt(a.mean - b.mean)} (n {a.n}, {b.n}); {stat}; "
           f"one-sided p = {fmt_p(p)} for {a.label} {op} {b.label}")
    if p < alpha:
        return Outcome(REPRODUCED, how, p, stat, alpha=alpha)
    if p_opp < alpha:
        return Outcome(NOT_REPRODUCED, how + f": the opposite order is significant (p = {fmt_p(p_opp)} < {alpha:g})",
                       p, stat, alpha=alpha)
    return Outcome(INCONCLUSIVE, how + f": neither order significant at {alpha:g}", p, stat, alpha=alpha)


def combine(outcomes: list[Outcome]) -> Outcome:
    """All reproduced -> reproduced; any not reproduced -> not reproduced; else inconclusive. The p-value is
    the largest (the intersection-union test's), with its statistic."""
    statuses = [o.status for o in outcomes]
    reason = "; ".join(o.reason for o in outcomes)
    status = (NOT_REPRODUCED if NOT_REPRODUCED in statuses else
              REPRODUCED if all(s == REPRODUCED for s in statuses) else INCONCLUSIVE)
    with_p = [o for o in outcomes if o.p_value is not None]
    worst = max(with_p, key=lambda o: o.p_value) if with_p else None
    return Outcome(status, reason, worst.p_value if worst else None, worst.statistic if worst else None,
                   alpha=next((o.alpha for o in outcomes if o.alpha), None))


def ordering(cells: list[CellStats], direction: str = "lower", alpha: float = ALPHA) -> Outcome:
    """cells[0] best, then cells[1], ...: ascending values when lower is better, descending when higher."""
    op = "<" if direction == "lower" else ">"
    return combine([compare(a, b, op, alpha) for a, b in zip(cells, cells[1:])])


def best_of(cells: list[CellStats], direction: str = "lower", alpha: float = ALPHA) -> Outcome:
    """cells[0] better than every other cell."""
    op = "<" if direction == "lower" else ">"
    return combine([compare(cells[0], other, op, alpha) for other in cells[1:]])


def _one_sample(c: CellStats, value: float, op: str, alpha: float) -> Outcome:
    """One-sided one-sample t-test of mean(c) against value (claim: mean >= value for op '>=')."""
    claim, opposite = ("greater", "less") if op == ">=" else ("less", "greater")
    if c.constant:
        v = c.values[0]
        p = 0.0 if (v > value if claim == "greater" else v < value) else 1.0
        p_opp = 0.0 if (v < value if claim == "greater" else v > value) else 1.0
        stat = "no spread: exact"
    else:
        from scipy.stats import ttest_1samp

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = ttest_1samp(c.values, value, alternative=claim)
            p, p_opp = float(res.pvalue), float(ttest_1samp(c.values, value, alternative=opposite).pvalue)
        stat = f"t = {res.statistic:.3g} (df {c.n - 1})"
    how = f"{c.label}: mean {fmt(c.mean)} (n {c.n}) {op} {value:g}? {stat}; one-sided p = {fmt_p(p)}"
    if p < alpha:
        return Outcome(REPRODUCED, how, p, stat, alpha=alpha)
    if p_opp < alpha:
        return Outcome(NOT_REPRODUCED, how + f": significantly on the other side (p = {fmt_p(p_opp)})", p, stat,
                       alpha=alpha)
    return Outcome(INCONCLUSIVE, how + f": not significant either way at {alpha:g}", p, stat, alpha=alpha)


def threshold(cells: list[CellStats], value: float, op: str, every_run: bool = False,
              alpha: float = ALPHA) -> Outcome:
    """at_least (op '>=') / at_most (op '<='): every run meets the value, or the mean does significantly."""
    ok = (lambda v: v >= value) if op == ">=" else (lambda v: v <= value)
    if (why := _too_few(cells, 1 if every_run else MIN_N)):
        return Outcome(INCONCLUSIVE, why)
    if not every_run:
        return combine([_one_sample(c, value, op, alpha) for c in cells])
    results = []
    for c in cells:
        bad = [v for v in c.values if not ok(v)]
        results.append(Outcome(NOT_REPRODUCED if bad else REPRODUCED,
                               f"{c.label}: {c.n - len(bad)} of {c.n} runs {op} {value:g}"
                               + (f" (others: {', '.join(fmt(v) for v in bad)})" if bad else "")))
    return combine(results)


def ks_critical(samples: int, alpha: float = ALPHA) -> float:
    """The one-sample Kolmogorov-Smirnov critical value: P(D_n > c) = alpha under the null (exact, scipy's kstwo)."""
    from scipy.stats import kstwo

    return float(kstwo.ppf(1 - alpha, samples))


def ks_test(cells: list[CellStats], samples: int, alpha: float = ALPHA) -> Outcome:
    """Every run's KS statistic (of ``samples`` draws against the exact target CDF) at most the critical value:
    the test does not reject "the samples follow the target" at alpha. Any run above it: not reproduced.
    The p-value shown is the smallest run's."""
    from scipy.stats import kstwo

    if (why := _too_few(cells, 1)):
        return Outcome(INCONCLUSIVE, why)
    crit = ks_critical(samples, alpha)
    values = [v for c in cells for v in c.values]
    ps = [float(kstwo.sf(v, samples)) for v in values]
    above = [v for v in values if v > crit]
    how = ("; ".join(f"{c.label}: KS " + ", ".join(f"{fmt(v)} (p {fmt_p(float(kstwo.sf(v, samples)))})" for v in c.values)
                     for c in cells)
           + f"; critical value {crit:.4g} at α = {alpha:g} for {samples} samples: "
           + (f"{len(above)} of {len(values)} runs above it" if above else "no run above it"))
    return Outcome(NOT_REPRODUCED if above else REPRODUCED, how, min(ps),
                   f"largest KS {max(values):.4g} vs critical {crit:.4g}; the smallest run's p", crit, alpha)


def near(cells: list[CellStats], point: list[float], tol: float | list[float]) -> Outcome:
    """Each coordinate's mean within tol of the paper's point (cells: one per coordinate)."""
    tols = tol if isinstance(tol, list) else [tol] * len(point)
    if (why := _too_few(cells, 1)):
        return Outcome(INCONCLUSIVE, why)
    parts, ok = [], True
    for c, p, t in zip(cells, point, tols):
        d = c.mean - p
        ok &= abs(d) <= t
        parts.append(f"{c.label} {fmt(c.mean)} vs {p:g} (Δ {fmt(d)}, tol {t:g})")
    return Outcome(REPRODUCED if ok else NOT_REPRODUCED, "; ".join(parts), margin=min(tols))


def label(cells: list[CellStats], threshold_: float, below: str, above: str, expect: str) -> Outcome:
    """Every run labelled ``below`` (value < threshold) or ``above``; all must carry ``expect``."""
    if (why := _too_few(cells, 1)):
        return Outcome(INCONCLUSIVE, why)
    labels = {c.label: [below if v < threshold_ else above for v in c.values] for c in cells}
    got = [lab for labs in labels.values() for lab in labs]
    how = "; ".join(f"{c.label}: {', '.join(sorted(set(labels[c.label])))} (values {', '.join(fmt(v) for v in c.values)}; "
                    f"threshold {threshold_:g})" for c in cells)
    if all(g == expect for g in got):
        return Outcome(REPRODUCED, how)
    if all(g != expect for g in got):
        return Outcome(NOT_REPRODUCED, how)
    return Outcome(INCONCLUSIVE, how + ": runs disagree")
