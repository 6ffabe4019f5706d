"""A table job's comparison table: the aggregator's reproduced and paper columns, plus a Δ column.

The reproduced and paper cells are exactly those of ``tables/<job>.md`` (:func:`repro.aggregate.layout`);
this module only adds, per column group, reproduced minus paper and its size in combined standard
errors (delta.py), using n_p from repro/claims/trials.py.
"""
from __future__ import annotations

import math

import pandas as pd

from ..aggregate import build_cells, cell_keys, cell_marks, footer, layout, paper_lookup
from ..spec import parse_value
from .delta import NOT_COMPARABLE, delta_text
from .document import Bullets, Table
from ..claims.trials import paper_trials

SUBCOLUMNS = ["repro.", "paper", "Δ"]


def _summary_rows(spec, summary: pd.DataFrame, scale: str) -> dict[tuple, pd.Series]:
    sub = summary[summary.scale == scale] if not summary.empty else summary
    return {tuple(str(row[d]) for d in spec.cell_dims()): row for _, row in sub.iterrows()}


def delta_cell(spec, key: tuple, stats: pd.Series | None, paper_value, n_p: int) -> str:
    """The Δ text of one cell (see delta.py); marks travel with "n/c" so the reason stays visible."""
    if stats is None or paper_value is None:
        return "–"
    metric = key[-1]
    n_r = int(stats[f"{metric}__n"])
    mean_p, std_p = parse_value(paper_value)
    std_r = stats[f"{metric}__std"]
    marks = cell_marks(stats, metric)
    fmt = next(m.get("format", ".2f") for m in spec.metrics if m["name"] == metric)
    return delta_text(float(stats[f"{metric}__mean"]), None if math.isnan(std_r) else float(std_r), n_r,
                      mean_p, std_p, n_p, fmt=fmt, comparable=not marks, marks=marks)


def comparison_table(spec, summary: pd.DataFrame, scale: str) -> Table:
    header, body, groups = layout(spec, build_cells(spec, summary, scale))
    keys = cell_keys(spec)[1]
    stats = _summary_rows(spec, summary, scale)
    papers = paper_lookup(spec)
    n_p = paper_trials(spec).n
    rows, flat = [], [header[0]]
    for i, name in enumerate(" / ".join(g) for g in groups):
        flat += [header[1 + 2 * i], header[2 + 2 * i], f"{name} Δ"]
    for row_keys, line in zip(keys, body):
        out = [line[0]]
        for i, key in enumerate(row_keys):
            out += [line[1 + 2 * i], line[2 + 2 * i], delta_cell(spec, key, stats.get(key[:-1]), papers.get(key), n_p)]
        rows.append(out)
    caption = (spec.table or {}).get("caption") or spec.title
    return Table(header=flat, rows=rows, groups=[" / ".join(g) for g in groups], subcolumns=SUBCOLUMNS,
                 caption=f"{caption}: scale {scale}")


def table_notes(spec, summary: pd.DataFrame, scale: str) -> Bullets:
    """The aggregator's footer plus how Δ is computed for this job."""
    trials = paper_trials(spec)
    lines = footer(spec, summary, scale)
    lines.append(f"Δ: reproduced mean minus the paper's; in brackets that difference over the combined standard "
                 f"error sqrt(s_r²/n_r + s_p²/n_p), with n_p = {trials.n} ({trials.source}); no SE where the "
                 f"paper gives no std or fewer than 2 runs finished. {NOT_COMPARABLE}: stand-in or "
                 f"uncalibrated cell, not compared.")
    if scale == "smoke":
        lines.append("Smoke scale: a pipeline check on tiny budgets; its Δ says nothing about the reproduction.")
    return Bullets(lines)
