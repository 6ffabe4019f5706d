"""Records -> a verdict per claim. Reads records only (through the aggregator's frame); never trains.

The scale: the largest one with records in every cell the claim names. Before a rule runs:

- an ``untested`` (or ``by_eye``) claim, a cell without records, records below the claim's ``scale`` (smoke
  records are a pipeline check), or a rule that compares with the paper's number (``within_error``, ``near``)
  on stand-in data (†) or with an uncalibrated extractor (‡): **untested**, with the reason
  (:data:`UNTESTED_REASONS`);
- a cell whose runs all diverged or failed: **inconclusive**.

A verdict decided on stand-in data or with an uncalibrated extractor is qualified ("reproduced on digits32 †")
and never counts as reproduced for the paper's dataset. Where the records carry training curves, ordering
and threshold claims are also evaluated at every budget the runs share (:mod:`repro.curves`).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from .. import store
from ..aggregate import STAND_IN_MARK, UNCALIBRATED_MARK, estimate_rungs, leading, paper_lookup, records_frame, summarize
from ..estimate_ladder import chosen
from ..convergence import still_moving
from ..curves import common_budgets, value_at, window_sentence
from ..spec import SCALES, Spec, parse_value
from . import rules
from .ledger import UNTESTED_REASONS as DECLARED, Claim, ClaimError, resolve_cell
from .rules import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, UNTESTED, CellStats, Outcome, fmt
from .trials import paper_trials

RANK = {s: i for i, s in enumerate(SCALES)}  # smoke < cpu < paper
# why a claim is untested: computed here (no records, records below its scale, not the paper's data) or declared
UNTESTED_REASONS = ("no-records", "below-scale", "no-data", *[r for r in DECLARED if r != "no-data"])
BY_BUDGET = ("less_than", "greater_than", "ordering", "best_of", "at_least", "at_most")  # evaluated per budget
WORDS = {REPRODUCED: "holds", NOT_REPRODUCED: "fails", INCONCLUSIVE: "inconclusive"}


@dataclass
class Verdict:
    claim: Claim
    status: str
    reason: str
    evidence: list[str] = field(default_factory=list)
    scale: str | None = None
    qualifier: str | None = None  # "digits32 †", "‡ uncalibrated extractor": decided on data that is not the paper's
    untested_reason: str | None = None  # one of UNTESTED_REASONS when status is untested
    outcome: Outcome | None = None  # the rule's p-value / statistic / margin
    cells: list[CellStats] = field(default_factory=list)
    budgets: list[tuple[int, str, float | None]] = field(default_factory=list)  # (step, status, p) per shared budget
    steps: list[int] = field(default_factory=list)  # the records' training lengths (distinct)
    pipeline: bool = False  # the deciding scale is a short pipeline run (the spec's scale notes say so)
    shared_with: list[str] = field(default_factory=list)  # other claims that read some of the same records
    paper_data: list[str] = field(default_factory=list)  # the paper's datasets of the claim's cells

    @property
    def records(self) -> list[str]:
        return sorted({r for c in self.cells for r in c.records})

    @property
    def n(self) -> dict[str, int]:
        return {c.label: c.n for c in self.cells}

    @property
    def window(self) -> str | None:
        """Where the claim holds by training budget ("holds from 32k to 120k steps; fails from 160k")."""
        return window_sentence([(s, st) for s, st, _ in self.budgets], WORDS) or None

    @property
    def strength(self) -> str:
        """The evidence's strength in words: runs per cell, scale, single run, stand-in, pipeline run, shared."""
        if self.status == UNTESTED:
            return f"none ({self.untested_reason})"
        ns = sorted({c.n for c in self.cells})
        if ns == [1]:
            runs = "a single run"
        else:
            runs = (f"{ns[0]}" if len(ns) == 1 else f"{ns[0]}–{ns[-1]}") + " runs per cell"
            runs += " (a single run in some cell)" if ns[0] == 1 else ""
        parts = [runs, f"scale {self.scale}"]
        if self.pipeline:
            parts.append("a short pipeline run")
        if any(c.stand_in for c in self.cells):
            parts.append("on stand-in data")
        if any(c.uncalibrated for c in self.cells):
            parts.append("an uncalibrated extractor")
        if self.shared_with:
            parts.append(f"evidence shared with {len(self.shared_with)} other claim(s)")
        return ", ".join(parts)

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


def paper_value(spec: Spec, claim: Claim, cell: dict, metric: str) -> tuple[float | None, float | None]:
    """The paper's (mean, std) a within_error claim compares with: rule.value, else the spec's paper_values."""
    if "value" in claim.rule:
        return parse_value(claim.rule["value"])
    key = tuple(resolve_cell(spec, cell)[d] for d in spec.cell_dims()) + (metric,)
    return parse_value(paper_lookup(spec).get(key))


class Frames:
    """records_frame per job, read once (corrupt records: one warning each, naming the file)."""

    def __init__(self, results: Path, on_corrupt=None):
        self.results = Path(results)
        self.on_corrupt = on_corrupt
        self._frames: dict[str, pd.DataFrame] = {}
        self._runs: dict[str, dict[str, dict]] = {}

    def get(self, spec: Spec) -> pd.DataFrame:
        if spec.id not in self._frames:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                frame = records_frame(spec, self.results)
            for w in caught:
                (self.on_corrupt or (lambda m: warnings.warn(m, stacklevel=3)))(str(w.message))
            self._frames[spec.id] = frame
        return self._frames[spec.id]

    def runs(self, spec: Spec) -> dict[str, dict]:
        """Record key -> {"steps": training length or None, "curve": training curve or []}."""
        if spec.id not in self._runs:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # corrupt records were reported by get()
                self._runs[spec.id] = {rec["key"]: {"steps": rec.get("steps"), "curve": rec.get("curve") or []}
                                       for rec in store.iter_records(self.results, spec.id)}
        return self._runs[spec.id]

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


def _stats(rows: pd.DataFrame, metric: str, label: str, scale: str, job: str) -> CellStats:
    ok = rows[rows.status == "ok"]
    values = pd.to_numeric(ok[metric], errors="coerce").dropna().tolist() if metric in ok else []
    flagged = ok if len(ok) else rows
    uncalibrated = bool(flagged.uncalibrated.any())
    if "uncalibrated_metrics" in flagged:  # per-metric ‡ (e.g. IS from a pool-features-only network beside its FID)
        uncalibrated |= any(metric in (ms or ()) for ms in flagged.uncalibrated_metrics)
    return CellStats(label=label, values=[float(v) for v in values], scale=scale,
                     stand_in=bool(flagged.stand_in.any()), uncalibrated=uncalibrated,
                     data_sources=sorted(set(flagged.data_source)), n_diverged=int((rows.status == "diverged").sum()),
                     n_failed=int((rows.status == "failed").sum()), n_ok=len(ok),
                     records=[f"{job}/{k}" for k in rows.key])


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


def _declared_untested(claim: Claim) -> Verdict:
    reason = claim.declared_untested
    why = claim.rule.get("why") or claim.rule.get("reason") or "no numeric test: judged by eye"
    if reason == "by-eye" and claim.job:
        why += f" (see the `{claim.job}` figure in the report)"
    return Verdict(claim, UNTESTED, why, untested_reason=reason)


def _pipeline(spec: Spec, scale: str) -> bool:
    """The spec's notes for this scale call it a pipeline check (a short run, not a reproduction)."""
    notes = " ".join(str(n) for n in ((spec.raw.get("scales") or {}).get(scale) or {}).get("notes") or [])
    return "pipeline" in notes.lower()


def evaluate_claim(claim: Claim, spec: Spec, frames: Frames) -> Verdict:
    if claim.declared_untested:
        return _declared_untested(claim)
    frame = frames.get(spec)
    cells = [_lead_filled(spec, frame, c) for c in claim.cells]
    empty = [c for c in cells if _cell_rows(frame, spec, c).empty]
    if empty:
        names = ", ".join(_cell_label(spec, c) for c in empty)
        return Verdict(claim, UNTESTED, f"no records for {names}: `repro run {claim.job} --scale {claim.scale}`",
                       untested_reason="no-records")
    common = set.intersection(*(set(_cell_rows(frame, spec, c).scale) for c in cells))
    if not common:
        return Verdict(claim, UNTESTED, "the cells have records only at different scales", untested_reason="no-records")
    scale = max(common, key=RANK.get)
    rungs = estimate_rungs(spec, summarize(frame[frame.scale == scale], spec))
    rung = chosen(rungs)
    on_ladder = bool(rungs) and rungs[0].metric in claim.metrics
    read = {rungs[0].metric: rung.metric} if on_ladder and rung and rung.metric != rungs[0].metric else {}
    paper_dataset = None
    stats: list[CellStats] = []
    cell_rows: list[pd.DataFrame] = []
    for cell in cells:
        rows = _cell_rows(frame, spec, cell, scale)
        paper_dataset = resolve_cell(spec, cell).get("dataset")
        for metric in claim.metrics:
            label = _cell_label(spec, cell) + (f" {metric}" if len(claim.metrics) > 1 else "")
            stats.append(_stats(rows, read.get(metric, metric), label, scale, spec.id))
            cell_rows.append(rows)
    evidence = [_evidence(c, "" if len(claim.metrics) > 1 else m, resolve_cell(spec, cell).get("dataset"))
                for c, (cell, m) in zip(stats, [(cell, m) for cell in cells for m in claim.metrics])]
    verdict = Verdict(claim, UNTESTED, "", evidence, scale, cells=stats, pipeline=_pipeline(spec, scale),
                      paper_data=sorted({d for c in cells if (d := resolve_cell(spec, c).get("dataset"))}))
    runs = frames.runs(spec)
    verdict.steps = sorted({int(runs[k]["steps"]) for rows in cell_rows for k in rows[rows.status == "ok"].key
                            if isinstance(runs.get(k, {}).get("steps"), int)})
    if RANK[scale] < RANK[claim.scale]:
        verdict.reason = (f"needs scale {claim.scale} or larger; records only at scale {scale}"
                          + (" (a pipeline check)" if scale == "smoke" else ""))
        verdict.untested_reason = "below-scale"
        return verdict
    qualifier = _qualifier(stats)
    if claim.absolute and qualifier:
        verdict.reason = (f"computed on {qualifier}, not the paper's data ({paper_dataset}) and extractor: "
                          "not comparable with the paper's value")
        verdict.untested_reason = "no-data"
        return verdict
    dead = [c for c in stats if c.n == 0]
    if dead:
        verdict.status = INCONCLUSIVE
        verdict.reason = "no value: " + ", ".join(
            f"{c.label}: {c.n_ok} ok runs without this metric" if c.n_ok else
            f"{c.label}: no run finished ok ({c.n_diverged} diverged, {c.n_failed} failed)" for c in dead)
        return verdict
    if on_ladder and rung is None:
        verdict.status = INCONCLUSIVE
        verdict.reason = ("the estimate has not converged: no rung of the spec's estimate ladder holds ("
                          + "; ".join(r.sentence() for r in rungs) + ")")
        return verdict
    verdict.outcome = _apply(claim, spec, stats, verdict.evidence)
    verdict.status, verdict.reason = verdict.outcome.status, verdict.outcome.reason
    if on_ladder:
        verdict.reason += (f" (read at {rung.metric}, the first rung of the estimate ladder that holds: "
                           + "; ".join(r.sentence() for r in rungs[:rungs.index(rung) + 1]) + ")")
    verdict.qualifier = qualifier
    if claim.kind in BY_BUDGET:
        verdict.budgets = _by_budget(claim, spec, stats, cell_rows, {k: r["curve"] for k, r in runs.items()})
    moving = _still_moving(spec, frame, cells, scale)
    settled = [s for i, s in enumerate(stats) if i not in moving]
    if moving and claim.kind == "best_of" and 0 not in moving and len(settled) > 1 \
            and verdict.status == NOT_REPRODUCED:  # a settled cell beats the first: the moving ones need not decide
        again = _apply(claim, spec, settled, [])
        if again.status == NOT_REPRODUCED:
            verdict.outcome, verdict.status = again, again.status
            verdict.reason = (f"{', '.join(moving.values())} still moved at the end of training and decide nothing; "
                              "among the settled cells: " + again.reason)
            return verdict
    if moving and verdict.status in (REPRODUCED, NOT_REPRODUCED):  # a snapshot of training, not its result
        verdict.reason = (f"would be {verdict.status}, but {', '.join(moving.values())} still moved at the end of "
                          "training (longer training may change it): "
                          + verdict.reason)
        verdict.status = INCONCLUSIVE
    return verdict


def _by_budget(claim: Claim, spec: Spec, stats: list[CellStats], cell_rows: list[pd.DataFrame],
               curves: dict[str, list]) -> list[tuple[int, str, float | None]]:
    """(step, status, p) at every budget present in every ok run's curve of the claim's cells (none when a
    run has no curve)."""
    keys = [list(rows[(rows.status == "ok")].key) for rows in cell_rows]
    if not all(keys) or not all(curves.get(k) for ks in keys for k in ks):
        return []
    metric = claim.metric
    out = []
    for step in common_budgets([curves[k] for ks in keys for k in ks], metric):
        at = [replace(c, values=[value_at(curves[k], step, metric) for k in ks]) for c, ks in zip(stats, keys)]
        outcome = _apply(claim, spec, at, [])
        out.append((step, outcome.status, outcome.p_value))
    return out


def _still_moving(spec: Spec, frame: pd.DataFrame, cells: list[dict], scale: str) -> dict[int, str]:
    """``table.convergence``: the claim's cells still moving at their last budget (index -> label and why):
    the seeds' mean change over the last part of training beyond the tolerance, a significant drift
    (:func:`repro.convergence.still_moving`, the table footer's test)."""
    conv = (spec.table or {}).get("convergence")
    if not conv or "late_change" not in frame:
        return {}
    out = {}
    for i, cell in enumerate(cells):
        rows = _cell_rows(frame, spec, cell, scale)
        change = pd.to_numeric(rows[rows.status == "ok"].late_change, errors="coerce").dropna()
        moving, how = still_moving(list(change), conv["tolerance"], rules.ALPHA)
        if moving:
            out[i] = (f"{_cell_label(spec, cell)} ({change.mean():+.1f} {conv['metric']} over the last "
                      f"{conv['window']:.0%}; {how})")
    return out


def _apply(claim: Claim, spec: Spec, stats: list[CellStats], evidence: list[str]) -> Outcome:
    r, kind = claim.rule, claim.kind
    direction = r.get("direction") or next((m["direction"] for m in spec.metrics if m["name"] == claim.metric), "lower")
    if kind == "within_error":  # one cell; a claim with several metrics (FID and IS) needs every one within error
        trials = paper_trials(spec)
        outcomes = []
        for metric, cell in zip(claim.metrics, stats):
            mean, std = paper_value(spec, claim, claim.cells[0], metric)
            evidence.append(f"paper {metric + ' ' if len(claim.metrics) > 1 else ''}{fmt(mean)}"
                            + (f" ± {fmt(std)}" if std is not None else " (no std given)")
                            + f", n_p = {trials.n} ({trials.source})")
            outcomes.append(rules.within_error(cell, mean, std, trials.n, k=r.get("k", 2.0), tol=r.get("tol"),
                                               min_n=r.get("min_n")))
        return rules.combine(outcomes) if len(outcomes) > 1 else outcomes[0]  # combined: margins in the reason
    if kind in ("less_than", "greater_than"):
        return rules.compare(stats[0], stats[1], "<" if kind == "less_than" else ">")
    if kind == "ordering":
        return rules.ordering(stats, direction)
    if kind == "best_of":
        return rules.best_of(stats, direction)
    if kind in ("at_least", "at_most"):
        return rules.threshold(stats, float(r["value"]), ">=" if kind == "at_least" else "<=", bool(r.get("every_run")))
    if kind == "ks_test":
        return rules.ks_test(stats, int(r["samples"]))
    if kind == "near":
        evidence.append("paper point (" + ", ".join(f"{p:g}" for p in r["point"]) + ")")
        return rules.near(stats, [float(p) for p in r["point"]], r["tol"])
    if kind == "label":
        return rules.label(stats, float(r["threshold"]), r["below"], r["above"], r["expect"])
    raise ClaimError(f"claim '{claim.id}': field 'rule.kind': no evaluator for {kind}")  # parse_claim prevents it


def _mark_shared(verdicts: list[Verdict]) -> None:
    """Each verdict's ``shared_with``: the other claims that read at least one of its records."""
    by_record: dict[str, list[str]] = {}
    for v in verdicts:
        for r in v.records:
            by_record.setdefault(r, []).append(v.claim.id)
    for v in verdicts:
        v.shared_with = sorted({cid for r in v.records for cid in by_record[r]} - {v.claim.id})


def evaluate(claims: list[Claim], specs: dict[str, Spec], results: Path, on_corrupt=None) -> list[Verdict]:
    frames = Frames(results, on_corrupt)
    out = []
    for claim in claims:
        if claim.declared_untested:
            out.append(_declared_untested(claim))
            continue
        spec = specs.get(claim.job)
        if spec is None:
            out.append(Verdict(claim, UNTESTED, f"job '{claim.job}' is not among the specs", untested_reason="no-job"))
            continue
        out.append(evaluate_claim(claim, spec, frames))
    _mark_shared(out)
    return out


COUNT_ORDER = [REPRODUCED, f"{REPRODUCED} on stand-in", NOT_REPRODUCED, f"{NOT_REPRODUCED} on stand-in",
               INCONCLUSIVE, UNTESTED]


def summary_counts(verdicts: list[Verdict]) -> dict[str, int]:
    counts = {k: 0 for k in COUNT_ORDER}
    for v in verdicts:
        counts[v.counts_as] += 1
    return counts


def untested_counts(verdicts: list[Verdict]) -> dict[str, int]:
    """Untested verdicts by reason, in :data:`UNTESTED_REASONS` order (reasons with none left out)."""
    counts = {r: sum(v.untested_reason == r for v in verdicts if v.status == UNTESTED) for r in UNTESTED_REASONS}
    return {r: n for r, n in counts.items() if n}


def summary_line(verdicts: list[Verdict]) -> str:
    """"3 of 27 claims reproduced · 2 not reproduced · 18 untested (12 below-scale, 4 by-eye, 2 no-job)"."""
    c = summary_counts(verdicts)
    parts = [f"{c[REPRODUCED]} of {len(verdicts)} claims reproduced"]
    for k, n in c.items():
        if k == UNTESTED and n:
            parts.append(f"{n} untested (" + ", ".join(f"{m} {r}" for r, m in untested_counts(verdicts).items()) + ")")
        elif k != REPRODUCED and n:
            parts.append(f"{n} {k}")
    contradictions = sum(bool(v.claim.contradiction) for v in verdicts)
    if contradictions:
        parts.append(f"{contradictions} self-contradiction{'s' if contradictions > 1 else ''} noted")
    return " · ".join(parts)


__all__ = ["Verdict", "evaluate", "evaluate_claim", "summary_line", "summary_counts", "untested_counts", "Frames",
           "UNTESTED_REASONS"]
