"""Records -> a verdict per claim. Reads records only (through the aggregator's frame); never trains.

The scale: the largest one with records in every cell the claim names. Before a rule runs:

- a ``by_eye`` claim, a cell without records, records below the claim's ``scale`` (smoke records are a
  pipeline check), or a rule that compares with the paper's number (``within_error``, ``near``) on stand-in
  data (†) or with an uncalibrated extractor (‡): **untested**, with the reason;
- a cell whose runs all diverged or failed: **inconclusive**.

A verdict decided on stand-in data or with an uncalibrated extractor is qualified ("reproduced on digits32 †")
and never counts as reproduced for the paper's dataset.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..aggregate import STAND_IN_MARK, UNCALIBRATED_MARK, leading, paper_lookup, records_frame, summarize
from ..report.trials import paper_trials
from ..spec import SCALES, Spec, parse_value
from . import rules
from .ledger import Claim, ClaimError, resolve_cell
from .rules import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, UNTESTED, CellStats, fmt

RANK = {s: i for i, s in enumerate(SCALES)}  # smoke < cpu < paper


@dataclass
class Verdict:
    claim: Claim
    status: str
    reason: str
    evidence: list[str] = field(default_factory=list)
    scale: str | None = None
    qualifier: str | None = None  # "digits32 †", "‡ uncalibrated extractor": decided on data that is not the paper's

    @property
    def text(self) -> str:
        if self.qualifier and self.status in (REPRODUCED, NOT_REPRODUCED):
            return f"{self.status} on {self.qualifier}"
        return self.status

    @property
    def counts_as(self) -> str:
        """The summary bucket: a qualified verdict is counted apart from the paper-dataset ones."""
        if self.qualifier and self.status in (REPRODUCED, NOT_REPRODUCED):
            return f"{self.status} on stand-in"
        return self.status


def paper_value(spec: Spec, claim: Claim, cell: dict) -> tuple[float | None, float | None]:
    """The paper's (mean, std) a within_error claim compares with: rule.value, else the spec's paper_values."""
    if "value" in claim.rule:
        return parse_value(claim.rule["value"])
    key = tuple(resolve_cell(spec, cell)[d] for d in spec.cell_dims()) + (claim.metric,)
    return parse_value(paper_lookup(spec).get(key))


class Frames:
    """records_frame per job, read once (corrupt records: one warning each, naming the file)."""

    def __init__(self, results: Path, on_corrupt=None):
        self.results = Path(results)
        self.on_corrupt = on_corrupt
        self._frames: dict[str, pd.DataFrame] = {}

    def get(self, spec: Spec) -> pd.DataFrame:
        if spec.id not in self._frames:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                frame = records_frame(spec, self.results)
            for w in caught:
                (self.on_corrupt or (lambda m: warnings.warn(m, stacklevel=3)))(str(w.message))
            self._frames[spec.id] = frame
        return self._frames[spec.id]

    def has_records(self) -> bool:
        return self.results.is_dir() and any(self.results.glob("*/*/record.json"))


def _cell_label(spec: Spec, cell: dict) -> str:
    resolved = resolve_cell(spec, cell)
    shown = [v for d, v in resolved.items() if d in cell or len(_values(spec, d)) > 1]
    return " · ".join(shown) or next(iter(resolved.values()))


def _values(spec: Spec, dim: str) -> list:
    return spec.grid[dim + "s"] if dim in ("method", "dataset") else spec.axes[dim]


def _cell_rows(frame: pd.DataFrame, spec: Spec, cell: dict, scale: str | None = None) -> pd.DataFrame:
    if frame.empty:
        return frame
    sub = frame if scale is None else frame[frame.scale == scale]
    for dim, value in resolve_cell(spec, cell).items():
        sub = sub[sub[dim].astype(str) == value]
    if spec.best_over and not sub.empty:  # the table's cell: the best setting of the best_over axes by best_by
        by = spec.table["best_by"]
        higher = next(m["direction"] for m in spec.metrics if m["name"] == by) == "higher"
        ok = sub[sub.status == "ok"]
        if by in ok and ok[by].notna().any():
            means = ok.groupby(spec.best_over)[by].mean()
            best = means.idxmax() if higher else means.idxmin()
            best = best if isinstance(best, tuple) else (best,)
            for axis, value in zip(spec.best_over, best):
                sub = sub[sub[axis] == value]
    return sub


def _stats(rows: pd.DataFrame, metric: str, label: str, scale: str) -> CellStats:
    ok = rows[rows.status == "ok"]
    values = pd.to_numeric(ok[metric], errors="coerce").dropna().tolist() if metric in ok else []
    flagged = ok if len(ok) else rows
    uncalibrated = bool(flagged.uncalibrated.any())
    if "uncalibrated_metrics" in flagged:  # per-metric ‡ (e.g. IS from a pool-features-only network beside its FID)
        uncalibrated |= any(metric in (ms or ()) for ms in flagged.uncalibrated_metrics)
    return CellStats(label=label, values=[float(v) for v in values], scale=scale,
                     stand_in=bool(flagged.stand_in.any()), uncalibrated=uncalibrated,
                     data_sources=sorted(set(flagged.data_source)), n_diverged=int((rows.status == "diverged").sum()),
                     n_failed=int((rows.status == "failed").sum()), n_ok=len(ok))


def _evidence(c: CellStats, metric: str, paper_dataset: str | None) -> str:
    marks = (STAND_IN_MARK if c.stand_in else "") + (UNCALIBRATED_MARK if c.uncalibrated else "")
    value = "no ok run" if not c.n else fmt(c.mean) + (f" ± {fmt(c.std)}" if c.n > 1 else "")
    data = ", ".join(c.data_sources)
    if c.stand_in and paper_dataset:
        data += f" (stand-in for {paper_dataset})"
    extra = [f"{c.n_diverged} diverged" if c.n_diverged else "", f"{c.n_failed} failed" if c.n_failed else ""]
    extra = [e for e in extra if e]
    return (f"{c.label}{f' {metric}' if metric else ''} = {value}{marks} (n={c.n}, scale {c.scale}, data {data}"
            + (f"; {', '.join(extra)}" if extra else "") + ")")


def _qualifier(cells: list[CellStats]) -> str | None:
    stand = sorted({s for c in cells if c.stand_in for s in c.data_sources})
    parts = [f"{', '.join(stand)} {STAND_IN_MARK}"] if stand else []
    if any(c.uncalibrated for c in cells):
        parts.append(f"an uncalibrated extractor {UNCALIBRATED_MARK}")
    return " with ".join(parts) if parts else None


def _lead_filled(spec: Spec, frame: pd.DataFrame, cell: dict) -> dict:
    """A claim that leaves the table's lead axis open (sig-table1's std) tests the value the table leads with."""
    axis = ((spec.table or {}).get("lead") or {}).get("axis")
    if not axis or axis in cell or frame.empty:
        return cell
    best = leading(spec, summarize(frame, spec), "paper")
    return {**cell, axis: best} if best else cell


def evaluate_claim(claim: Claim, spec: Spec, frames: Frames) -> Verdict:
    if claim.kind == "by_eye":
        why = claim.rule.get("reason", "no numeric test: judged by eye")
        return Verdict(claim, UNTESTED, f"{why} (see the `{claim.job}` figure in the report)")
    frame = frames.get(spec)
    cells = [_lead_filled(spec, frame, c) for c in claim.cells]
    empty = [c for c in cells if _cell_rows(frame, spec, c).empty]
    if empty:
        names = ", ".join(_cell_label(spec, c) for c in empty)
        return Verdict(claim, UNTESTED, f"no records for {names}: `repro run {claim.job} --scale {claim.scale}`")
    common = set.intersection(*(set(_cell_rows(frame, spec, c).scale) for c in cells))
    if not common:
        return Verdict(claim, UNTESTED, "the cells have records only at different scales")
    scale = max(common, key=RANK.get)
    paper_dataset = None
    stats: list[CellStats] = []
    for cell in cells:
        rows = _cell_rows(frame, spec, cell, scale)
        paper_dataset = resolve_cell(spec, cell).get("dataset")
        for metric in claim.metrics:
            label = _cell_label(spec, cell) + (f" {metric}" if len(claim.metrics) > 1 else "")
            stats.append(_stats(rows, metric, label, scale))
    evidence = [_evidence(c, "" if len(claim.metrics) > 1 else m, resolve_cell(spec, cell).get("dataset"))
                for c, (cell, m) in zip(stats, [(cell, m) for cell in cells for m in claim.metrics])]
    verdict = Verdict(claim, UNTESTED, "", evidence, scale)
    if RANK[scale] < RANK[claim.scale]:
        verdict.reason = (f"needs scale {claim.scale} or larger; records only at scale {scale}"
                          + (" (a pipeline check)" if scale == "smoke" else ""))
        return verdict
    qualifier = _qualifier(stats)
    if claim.absolute and qualifier:
        verdict.reason = (f"computed on {qualifier}, not the paper's data ({paper_dataset}) and extractor: "
                          "not comparable with the paper's value")
        return verdict
    dead = [c for c in stats if c.n == 0]
    if dead:
        verdict.status = INCONCLUSIVE
        verdict.reason = "no value: " + ", ".join(
            f"{c.label}: {c.n_ok} ok runs without this metric" if c.n_ok else
            f"{c.label}: no run finished ok ({c.n_diverged} diverged, {c.n_failed} failed)" for c in dead)
        return verdict
    verdict.status, verdict.reason = _apply(claim, spec, stats, verdict.evidence)
    verdict.qualifier = qualifier
    moving = _still_moving(spec, frame, cells, scale)
    if moving and verdict.status in (REPRODUCED, NOT_REPRODUCED):  # a snapshot of training, not its result
        verdict.reason = (f"would be {verdict.status}, but {', '.join(moving)} still moved at the end of training "
                          f"(tolerance ±{spec.table['convergence']['tolerance']:g}; longer training may change it): "
                          + verdict.reason)
        verdict.status = INCONCLUSIVE
    return verdict


def _still_moving(spec: Spec, frame: pd.DataFrame, cells: list[dict], scale: str) -> list[str]:
    """``table.convergence``: the claim's cells whose seeds' mean metric moved by more than the tolerance
    over the last part of training (the table footer's test)."""
    conv = (spec.table or {}).get("convergence")
    if not conv or "late_change" not in frame:
        return []
    out = []
    for cell in cells:
        rows = _cell_rows(frame, spec, cell, scale)
        change = pd.to_numeric(rows[rows.status == "ok"].late_change, errors="coerce").dropna()
        if len(change) and abs(change.mean()) > conv["tolerance"]:
            out.append(f"{_cell_label(spec, cell)} ({change.mean():+.1f} {conv['metric']} over the last "
                       f"{conv['window']:.0%})")
    return out


def _apply(claim: Claim, spec: Spec, stats: list[CellStats], evidence: list[str]) -> tuple[str, str]:
    r, kind = claim.rule, claim.kind
    k = r.get("k")
    direction = r.get("direction") or next((m["direction"] for m in spec.metrics if m["name"] == claim.metric), "lower")
    if kind == "within_error":
        mean, std = paper_value(spec, claim, claim.cells[0])
        trials = paper_trials(spec)
        evidence.append(f"paper {fmt(mean)}" + (f" ± {fmt(std)}" if std is not None else " (no std given)")
                        + f", n_p = {trials.n} ({trials.source})")
        return rules.within_error(stats[0], mean, std, trials.n, k=2.0 if k is None else k, tol=r.get("tol"),
                                  min_n=r.get("min_n"))
    if kind in ("less_than", "greater_than"):
        return rules.compare(stats[0], stats[1], "<" if kind == "less_than" else ">", 1.0 if k is None else k,
                             r.get("min_n", 2))
    if kind == "ordering":
        return rules.ordering(stats, direction, 1.0 if k is None else k, r.get("min_n", 2))
    if kind == "best_of":
        return rules.best_of(stats, direction, 1.0 if k is None else k, r.get("min_n", 2))
    if kind in ("at_least", "at_most"):
        return rules.threshold(stats, float(r["value"]), ">=" if kind == "at_least" else "<=",
                               bool(r.get("every_run")), 1.0 if k is None else k, r.get("min_n"))
    if kind == "near":
        evidence.append("paper point (" + ", ".join(f"{p:g}" for p in r["point"]) + ")")
        return rules.near(stats, [float(p) for p in r["point"]], r["tol"])
    if kind == "label":
        return rules.label(stats, float(r["threshold"]), r["below"], r["above"], r["expect"])
    raise ClaimError(f"claim '{claim.id}': field 'rule.kind': no evaluator for {kind}")  # parse_claim prevents it


def evaluate(claims: list[Claim], specs: dict[str, Spec], results: Path, on_corrupt=None) -> list[Verdict]:
    frames = Frames(results, on_corrupt)
    out = []
    for claim in claims:
        spec = specs.get(claim.job)
        if spec is None:
            out.append(Verdict(claim, UNTESTED, f"job '{claim.job}' is not among the specs"))
            continue
        out.append(evaluate_claim(claim, spec, frames))
    return out


def summary_counts(verdicts: list[Verdict]) -> dict[str, int]:
    order = [REPRODUCED, f"{REPRODUCED} on stand-in", NOT_REPRODUCED, f"{NOT_REPRODUCED} on stand-in",
             INCONCLUSIVE, UNTESTED]
    counts = {k: 0 for k in order}
    for v in verdicts:
        counts[v.counts_as] += 1
    return counts


def summary_line(verdicts: list[Verdict]) -> str:
    c = summary_counts(verdicts)
    parts = [f"{c[REPRODUCED]} of {len(verdicts)} claims reproduced"]
    parts += [f"{n} {k}" for k, n in c.items() if k != REPRODUCED and n]
    return " · ".join(parts)


__all__ = ["Verdict", "evaluate", "evaluate_claim", "summary_line", "summary_counts", "Frames"]
