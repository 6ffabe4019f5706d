"""Records -> pandas -> tables laid out as the paper prints them, with the paper's value beside each cell.

Reads records only; never runs anything. Mean ± sample std (ddof=1) and n over seeds; diverged and
failed runs are counted and shown, never averaged in.
"""
from __future__ import annotations

import json
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from . import store
from .convergence import late_change, still_moving
from .curves import common_budgets, step_text, value_at, window_sentence
from .estimate_ladder import RungCheck, check_rungs, chosen
from .spec import SCALES, Spec, expand, parse_value

STAND_IN_MARK, UNCALIBRATED_MARK = "†", "‡"


def _keys_of_spec(spec: Spec) -> set[str]:
    """The run keys of every scale's runs."""
    from .spec import SpecError, expand

    out: set[str] = set()
    for scale in spec.scales:
        try:
            out.update(r.key for r in expand(spec, scale))
        except SpecError:
            continue
    return out


def _current_config(spec: Spec):
    """record -> the configuration the spec now gives the run at the record's scale, method, dataset,
    axes and seed (also a seed, dataset or axis value beyond the scale's defaults); None when the spec
    has no such method or dataset any more."""
    from .spec import SpecError, expand

    cache: dict[tuple, dict | None] = {}

    def config_of(rec: dict) -> dict | None:
        where = (rec.get("scale"), rec["method"], rec["dataset"], rec.get("seed"))
        if where not in cache:
            try:
                runs = expand(spec, where[0], methods=[where[1]], datasets=[where[2]], seeds=int(where[3]) + 1)
            except (SpecError, TypeError, ValueError):
                runs = []
            cache[where] = next((r.config for r in runs if r.seed == where[3]), None)
        config = cache[where]
        if config is None:
            return None
        axes = rec.get("axes") or {}
        return {**config, **axes, "axes": {**config.get("axes", {}), **axes}}  # as expand sets an axis value

    return config_of


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _older_configuration(rec: dict, current: dict | None) -> bool:
    """Whether a record was run with settings the spec no longer gives its run: no such method or dataset
    any more, or a setting the record names now has another value (settings it does not name are not
    compared)."""
    from .spec import EXECUTION_ONLY_KEYS

    if current is None:
        return True
    ran = rec.get("config") or {}
    return any(_canonical(ran[k]) != _canonical(current[k]) for k in ran.keys() & current.keys()
               if k not in EXECUTION_ONLY_KEYS)


def records_frame(spec: Spec, results: Path) -> pd.DataFrame:
    """One row per record and scale it counts at: dims, seed, scale, status, flags, wall time and every metric.

    A record counts at the scale it was run at (also a run beyond the scale's defaults: ``--seeds``,
    ``--dataset``), unless it is of an older configuration of the job (:func:`_older_configuration`):
    that one counts nowhere, so a cell never mixes two protocols. Its record stays on disk."""
    scales_of = record_scales(spec)
    return pd.DataFrame([_record_row(spec, rec, scale) for rec in store.iter_records(results, spec.id)
                         for scale in scales_of(rec)])


def record_scales(spec: Spec):
    """record -> the scales it counts at, as :func:`records_frame` counts them ([] for a record of an
    older configuration of the job)."""
    keys = _keys_of_spec(spec)
    current = _current_config(spec)

    def scales_of(rec: dict) -> list[str]:
        if rec["key"] in keys or not _older_configuration(rec, current(rec)):
            return [rec.get("scale")]
        return []  # an older configuration of the job: no scale asks for it

    return scales_of


def _record_row(spec: Spec, rec: dict, scale) -> dict:
    row = {"method": rec["method"], "dataset": rec["dataset"], "seed": rec.get("seed"),
           "scale": scale, "status": rec["status"], "stand_in": bool(rec.get("stand_in")),
           "uncalibrated": bool(rec.get("uncalibrated")), "data_source": rec.get("data_source", rec["dataset"]),
           "wall_time": rec.get("wall_time"), "key": rec["key"], "finished_at": rec.get("finished_at"),
           "uncalibrated_metrics": tuple(rec.get("uncalibrated_metrics") or ()),
           "footnotes": tuple(rec.get("footnotes") or ()), "feature_network": rec.get("feature_network")}
    for axis in spec.axes:
        row[axis] = str((rec.get("axes") or {}).get(axis))
    for name, value in (rec.get("metrics") or {}).items():
        row[name] = value
    row["curve"] = rec.get("curve") or []
    conv = (spec.table or {}).get("convergence")
    if conv:
        row["late_change"] = late_change(rec.get("curve") or [], conv["metric"], conv["window"])
        row["train_steps"] = rec.get("steps")
    return row


def summarize(frame: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """Per (scale, method, dataset, axes): n, n_diverged, n_failed, flags, and mean/std per metric."""
    keys = ["scale", *spec.dims()]
    if frame.empty:
        return pd.DataFrame(columns=keys)
    out = []
    for group, sub in frame.groupby(keys, sort=False, dropna=False):
        ok = sub[sub.status == "ok"]
        row = dict(zip(keys, group))
        row.update(n=len(ok), n_diverged=int((sub.status == "diverged").sum()),
                   n_failed=int((sub.status == "failed").sum()), stand_in=bool(ok.stand_in.any()),
                   uncalibrated=bool(ok.uncalibrated.any()),
                   data_sources=sorted(set(ok.data_source)), wall_time=float(sub.wall_time.fillna(0).sum()),
                   uncalibrated_metrics=sorted({m for ms in ok.uncalibrated_metrics for m in ms}),
                   footnotes=sorted({f for fs in ok.footnotes for f in fs}),
                   feature_networks=sorted({str(n) for n in ok.feature_network if isinstance(n, str)}))
        if "late_change" in ok:
            changes = pd.to_numeric(ok.late_change, errors="coerce").dropna()
            row["late_change"] = float(changes.mean()) if len(changes) else math.nan
            row["moving"] = still_moving(list(changes), spec.table["convergence"]["tolerance"])[0]
            lengths = pd.to_numeric(ok.train_steps, errors="coerce").dropna()
            row["train_steps"] = int(lengths.max()) if len(lengths) else math.nan
        row["budgets"] = budget_stats(list(ok.curve), spec.metric_names)
        for metric in spec.metric_names:
            values = pd.to_numeric(ok[metric], errors="coerce").dropna() if metric in ok else pd.Series(dtype=float)
            row[f"{metric}__mean"] = float(values.mean()) if len(values) else math.nan
            row[f"{metric}__std"] = float(values.std(ddof=1)) if len(values) > 1 else math.nan
            row[f"{metric}__n"] = len(values)
        out.append(row)
    return pd.DataFrame(out)


def budget_stats(curves: list[list[dict]], metrics: list[str]) -> dict[int, dict[str, tuple[float, float, int]]]:
    """step -> {metric: (mean, sample std, n)} over the runs' curves, at every step all of them recorded
    (``repro.curves.common_budgets``): the cell read at each training budget. {} without curves."""
    curves = [c for c in curves if c]
    if not curves:
        return {}
    out: dict[int, dict[str, tuple[float, float, int]]] = {}
    for step in common_budgets(curves):
        stats = {}
        for metric in metrics:
            values = [v for v in (value_at(c, step, metric) for c in curves) if v is not None]
            if values:
                series = pd.Series(values, dtype=float)
                stats[metric] = (float(series.mean()), float(series.std(ddof=1)) if len(values) > 1 else math.nan,
                                 len(values))
        out[step] = stats
    return out


def summary_at(summary: pd.DataFrame, spec: Spec, step: int) -> pd.DataFrame:
    """``summary`` with every cell's metrics read at training step ``step`` of its runs' curves (a cell
    without that budget shows no value)."""
    out = summary.copy()
    for i, budgets in out.budgets.items():
        stats = (budgets or {}).get(step, {})
        for metric in spec.metric_names:
            mean, std, n = stats.get(metric, (math.nan, math.nan, 0))
            out.at[i, f"{metric}__mean"], out.at[i, f"{metric}__std"], out.at[i, f"{metric}__n"] = mean, std, n
    return out


def select_best(summary: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """Collapse ``table.best_over`` axes: per cell, the setting with the best mean ``table.best_by``.

    The chosen row keeps its own statistics (all metrics from that one setting, as 003 Table 1 reports
    "the optimal learning rate combinations"). Added columns: ``selected`` (the setting), ``n_settings``
    (settings run) and ``n_diverged_all`` (diverged runs among them). A cell where no setting produced a
    value keeps the summed diverged and failed counts.
    """
    over = spec.best_over
    if not over or summary.empty:
        return summary
    by = spec.table["best_by"]
    higher = next(m["direction"] for m in spec.metrics if m["name"] == by) == "higher"
    out = []
    for _, sub in summary.groupby(["scale", *spec.cell_dims()], sort=False, dropna=False):
        scored = sub[sub[f"{by}__n"] > 0]
        if len(scored):
            row = scored.loc[scored[f"{by}__mean"].idxmax() if higher else scored[f"{by}__mean"].idxmin()].copy()
            row["selected"] = ", ".join(f"{a}={row[a]}" for a in over)
        else:
            row = sub.iloc[0].copy()
            row["n_diverged"], row["n_failed"] = int(sub.n_diverged.sum()), int(sub.n_failed.sum())
            row["selected"] = "none (no setting produced a value)"
        row["n_settings"], row["n_diverged_all"] = len(sub), int(sub.n_diverged.sum())
        out.append(row)
    return pd.DataFrame(out).reset_index(drop=True)


def table_summary(spec: Spec, results: Path) -> pd.DataFrame:
    """What a table shows: :func:`summarize`, then :func:`select_best` over ``table.best_over``."""
    return select_best(summarize(records_frame(spec, results), spec), spec)


@dataclass
class Cell:
    text: str
    mean: float
    paper: str


def paper_lookup(spec: Spec) -> dict:
    """(method, dataset, *axes, metric) -> the paper's text. A row may omit dims the grid has one value of."""
    table = {}
    dims = spec.cell_dims()
    for row in spec.paper_values or []:
        for metric in spec.metric_names:
            if metric not in row or row[metric] is None:
                continue
            key = tuple(str(row.get(d, spec.grid[d + "s"][0] if d in ("method", "dataset") else spec.axes[d][0]))
                        for d in dims)
            table[key + (metric,)] = row[metric]
    return table


def _fmt(x: float, fmt: str) -> str:
    return format(x, fmt) if not math.isnan(x) else "–"


def paper_text(value) -> str:
    mean, std = parse_value(value)
    if mean is None:
        return "–"
    if isinstance(value, str):
        return " ".join(value.replace("+-", "±").split())
    return f"{mean:g}" + (f" ± {std:g}" if std is not None else "")


def cell_marks(row, metric: str) -> str:
    """† when the cell's runs used stand-in data; ‡ when its metric came from an uncalibrated network (the
    whole record, or this metric only: ``uncalibrated_metrics``, e.g. IS beside a calibrated FID)."""
    uncalibrated = bool(row.uncalibrated) or metric in (row.get("uncalibrated_metrics") or ())
    return (STAND_IN_MARK if row.stand_in else "") + (UNCALIBRATED_MARK if uncalibrated else "")


def build_cells(spec: Spec, summary: pd.DataFrame, scale: str) -> dict:
    """(method, dataset, *axes, metric) -> Cell for one scale, with the best per comparison group bolded."""
    metrics = {m["name"]: m for m in spec.metrics}
    papers = paper_lookup(spec)
    sub = summary[summary.scale == scale] if not summary.empty else summary
    cells = {}
    for _, row in sub.iterrows():
        key = tuple(str(row[d]) for d in spec.cell_dims())
        for name, m in metrics.items():
            mean, std, n = row[f"{name}__mean"], row[f"{name}__std"], row[f"{name}__n"]
            fmt = m.get("format", ".2f")
            text = "–" if n == 0 else _fmt(mean, fmt) + (f" ± {_fmt(std, fmt)}" if n > 1 else " (n=1)")
            flags = [f"{row.n_diverged} div." if row.n_diverged else "", f"{row.n_failed} failed" if row.n_failed else ""]
            flags = [f for f in flags if f]
            if flags:
                text += f" [{', '.join(flags)}]"
            if n:
                text += cell_marks(row, name)
            cells[key + (name,)] = Cell(text, mean if n else math.nan, paper_text(papers.get(key + (name,))))
    _bold_best(spec, cells)
    return cells


def _bold_best(spec: Spec, cells: dict) -> None:
    """Bold the best reproduced mean among cells differing only in method (same metric, dataset, axes);
    ``table.reference`` methods (real data) are not compared."""
    direction = {m["name"]: m["direction"] for m in spec.metrics}
    reference = set((spec.table or {}).get("reference") or [])
    groups: dict[tuple, list] = {}
    for key, cell in cells.items():
        if not math.isnan(cell.mean) and key[0] not in reference:
            groups.setdefault(key[1:], []).append(cell)
    for key, group in groups.items():
        if len(group) < 2:
            continue
        pick = max if direction[key[-1]] == "higher" else min
        best = pick(c.mean for c in group)
        for c in group:
            if c.mean == best:
                c.text = f"**{c.text}**"


def dim_values(spec: Spec, dim: str) -> list[str]:
    """The values a table dimension takes, in the order the table prints them."""
    if dim == "metric":
        return spec.metric_names
    if dim in ("method", "dataset"):
        return [str(v) for v in spec.grid[dim + "s"]]
    return [str(v) for v in spec.axes[dim]]


def cell_keys(spec: Spec, values: dict[str, list[str]] | None = None) -> tuple[list[tuple], list[list[tuple]]]:
    """(column keys, per row the (method, dataset, *axes, metric) key of each column) of the spec's table.
    ``values``: dimension -> the values to show, in order (default: all, in the spec's order)."""
    table = spec.table or {"rows": "method", "columns": ["metric"]}
    rdim, cdims = table["rows"], table["columns"]
    all_dims = [*spec.cell_dims(), "metric"]
    values = values or {}
    fixed = {d: dim_values(spec, d)[0] for d in all_dims if d != rdim and d not in cdims}
    col_keys = [()]
    for d in cdims:
        col_keys = [k + (v,) for k in col_keys for v in values.get(d, dim_values(spec, d))]
    rows = [[tuple(dict(fixed, **dict(zip(cdims, ck)), **{rdim: rv})[d] for d in all_dims) for ck in col_keys]
            for rv in values.get(rdim, dim_values(spec, rdim))]
    return col_keys, rows


def _label(spec: Spec, dim: str, value: str) -> str:
    if dim == "metric":
        return next(m.get("label", m["name"]) for m in spec.metrics if m["name"] == value)
    return value


def layout(spec: Spec, cells: dict, values: dict[str, list[str]] | None = None) -> tuple[list[str], list[list[str]], list[tuple]]:
    """Rows × (column groups × {reproduced, paper}) of strings, as the spec's `table` lays them out
    (``values``: as :func:`cell_keys`)."""
    table = spec.table or {"rows": "method", "columns": ["metric"]}
    rdim, cdims = table["rows"], table["columns"]
    col_keys, row_keys = cell_keys(spec, values)
    papers = paper_lookup(spec)
    header = [_label(spec, rdim, rdim) if rdim != "metric" else ""]
    groups = []
    for ck in col_keys:
        name = " / ".join(_label(spec, d, v) for d, v in zip(cdims, ck))
        header += [name, f"{name} (paper)"]
        groups.append(tuple(_label(spec, d, v) for d, v in zip(cdims, ck)))
    body = []
    for rv, keys in zip((values or {}).get(rdim, dim_values(spec, rdim)), row_keys):
        line = [_label(spec, rdim, rv)]
        for key in keys:
            cell = cells.get(key)
            line += [cell.text if cell else "–", cell.paper if cell else paper_text(papers.get(key))]
        body.append(line)
    return header, body, groups


def _best_over_lines(spec: Spec, sub: pd.DataFrame) -> list[str]:
    """Which setting of the ``best_over`` axes each cell shows, in the table's row order."""
    axes = ", ".join(spec.best_over)
    by = spec.table["best_by"]
    if int(sub.n_settings.max()) == 1:
        return [f"One ({axes}) setting ran per cell at this scale ({sub.selected.iloc[0]}); at scale paper each "
                f"cell is the best setting by mean {by}."]
    order = {m: i for i, m in enumerate(map(str, spec.grid["methods"]))}
    rows = sorted((r for _, r in sub.iterrows()), key=lambda r: (order.get(str(r["method"]), len(order)),
                                                                 *(str(r[d]) for d in spec.cell_dims()[1:])))
    lines = [f"Each cell: the best of the ({axes}) settings run, by mean {by}; all of the cell's metrics come "
             "from that setting. Chosen:"]
    lines += [f"{' / '.join(str(r[d]) for d in spec.cell_dims())}: {r['selected']} (best of {r['n_settings']}; "
              f"{r['n_diverged_all']} diverged runs among them)" for r in rows]
    return lines


LEAD_CAP = 10.0  # a disagreement counts at most this many combined standard deviations


def lead_scores(spec: Spec, summary: pd.DataFrame, scale: str) -> dict[str, tuple[float, int, bool, float]]:
    """``table.lead``: per value of its axis, how far the ``methods``' reproduced means lie from the paper's:
    the mean over (method, metric) cells with a paper value of z = |repro mean − paper mean| / sqrt(paper sd² +
    repro sd²) (0 when both means agree exactly, capped at LEAD_CAP; the paper's ± is a standard
    deviation). Returns value -> (score, cells scored, complete: every cell had a reproduced mean, standard
    error of the score over the training seeds). The standard error is the delta method's, each cell's sd
    held fixed: a cell's z moves by (repro sd / √n) / sqrt(paper sd² + repro sd²) per standard error of its
    mean (0 where z is capped or exact), and the cells' seeds are independent."""
    lead = (spec.table or {}).get("lead")
    if not lead or summary.empty:
        return {}
    axis, methods = lead["axis"], [str(m) for m in lead["methods"]]
    papers = paper_lookup(spec)
    sub = summary[summary.scale == scale]
    dims = spec.cell_dims()
    out = {}
    for value in dim_values(spec, axis):
        zs, variances, complete = [], [], True
        for _, row in sub[(sub[axis].astype(str) == value) & sub.method.astype(str).isin(methods)].iterrows():
            key = tuple(str(row[d]) for d in dims)
            for metric in spec.metric_names:
                pm, psd = parse_value(papers.get(key + (metric,)))
                if pm is None:
                    continue
                n, mean, sd = row[f"{metric}__n"], row[f"{metric}__mean"], row[f"{metric}__std"]
                if not n:
                    complete = False
                    continue
                sd = 0.0 if math.isnan(sd) else sd
                gap, scale_ = abs(mean - pm), math.hypot(psd or 0.0, sd)
                z = 0.0 if gap == 0 else min(LEAD_CAP, gap / scale_) if scale_ > 0 else LEAD_CAP
                zs.append(z)
                variances.append((sd / math.sqrt(n) / scale_) ** 2 if 0 < z < LEAD_CAP else 0.0)
        expected = len(methods) * len(spec.metric_names)
        if zs:
            out[value] = (sum(zs) / len(zs), len(zs), complete and len(zs) >= expected,
                          math.sqrt(sum(variances)) / len(zs))
    return out


def leading_value(scores: dict[str, tuple[float, int, bool, float]], order: list[str] | None = None) -> str | None:
    """The best-agreeing value among those scored on every cell (else among all scored). Values whose score
    is within one standard error of the difference of the best one's (sqrt(se₁² + se₂²)) tie with it, and
    a tie goes to the value listed first in ``order`` (the spec's order of the axis)."""
    pool = {v: s for v, s in scores.items() if s[2]} or scores
    if not pool:
        return None
    best = min(pool, key=lambda v: pool[v][0])
    tied = [v for v in pool if abs(pool[v][0] - pool[best][0]) <= math.hypot(pool[v][3], pool[best][3])]
    rank = {v: i for i, v in enumerate(order or [])}
    return min(tied, key=lambda v: (rank.get(v, len(rank)), pool[v][0]))


def _scored_scale(summary: pd.DataFrame, scale: str) -> str:
    """The leading value is chosen on the records of the scale with the most of them (the paper scale's
    sweep over the axis, when it has run), whichever scale's table is being written."""
    counts = summary.groupby("scale")["n"].sum() if not summary.empty else {}
    return max(counts.index, key=lambda s: (counts[s], s == scale)) if len(counts) else scale


def _lead_lines(spec: Spec, summary: pd.DataFrame, scale: str) -> list[str]:
    lead = (spec.table or {}).get("lead")
    scored = _scored_scale(summary, scale) if lead else scale
    scores = lead_scores(spec, summary, scored)
    if not scores:
        return []
    axis = lead["axis"]
    order = dim_values(spec, axis)
    best = leading_value(scores, order)
    ran = sorted(set(summary[summary.scale == scale][axis].astype(str)))
    note = "" if scored == scale else f" (scored on the `{scored}` scale's records; this scale ran {axis} {', '.join(ran)})"
    parts = [f"{v}: {s:.3f} ± {se:.3f}{'' if ok else f' (only {n} cells)'}" for v, (s, n, ok, se) in
             sorted(scores.items(), key=lambda kv: kv[1][0])]
    lower = [v for v, sc in scores.items() if sc[2] and sc[0] < scores[best][0]]
    tie = f" (tied within one standard error with {', '.join(lower)}, listed after it)" if lower else ""
    unscored = [v for v in order if not (v in scores and scores[v][2])]
    # the rule compares every value of the axis: until each has its cells, the lead is provisional
    provisional = (f" (provisional: {axis} {', '.join(unscored)} {'has' if len(unscored) == 1 else 'have'} no "
                   f"complete records on the `{scored}` scale; `repro run {spec.id} --scale {scored} --axis "
                   f"{axis}={','.join(unscored)}` runs {'it' if len(unscored) == 1 else 'them'})") if unscored else ""
    lines = [f"Leading {axis}: {best}{tie}{provisional}, the {axis} at which the baselines ({', '.join(map(str, lead['methods']))}; "
             f"never the paper's own method) agree best with the paper. Rule: mean over their (method, metric) cells "
             f"of |repro mean − paper mean| / sqrt(paper sd² + repro sd²), capped at {LEAD_CAP:g}; lower is better; "
             f"± its standard error over the seeds; scores within one standard error of the difference tie, and a "
             f"tie goes to the {axis} listed first ({', '.join(order)}). "
             f"Scores: {'; '.join(parts)}{note}."]
    for name, sc in spec.scales.items():  # a scale that runs one value of the axis should run the leading one
        sub_axes = ((sc.get("grid") or {}).get("axes") or {}).get(axis)
        if sub_axes and len(sub_axes) == 1 and str(sub_axes[0]) != best and name != "smoke":
            lines.append(f"Scale `{name}` runs {axis} {sub_axes[0]}, but the records now lead with {best}: set "
                         f"scales.{name}.grid.axes.{axis} to [{best}] in jobs/{spec.id}.yaml.")
    return lines + _claim_lines(spec, summary, scale)


def claim_outcome(claim: dict, at: pd.DataFrame, higher: bool) -> tuple[bool, float] | None:
    """(holds?, the method's mean) of a ``table.claims`` entry on the cells ``at`` (one value of the lead axis,
    read at one budget); None where the claim's method has no value there."""
    col = f"{claim['metric']}__mean"
    scored = at[at[f"{claim['metric']}__n"] > 0]
    row = scored[scored.method.astype(str) == str(claim["method"])]
    if row.empty:
        return None
    mean = float(row[col].iloc[0])
    ok = ("min" not in claim or mean >= claim["min"]) and ("max" not in claim or mean <= claim["max"])
    if claim.get("best"):
        ok = ok and mean == (scored[col].max() if higher else scored[col].min())
    return ok, mean


def claim_by_budget(spec: Spec, summary: pd.DataFrame, scale: str, claim: dict, value: str):
    """A ``table.claims`` entry at ``value`` of the lead axis: ([(step, "holds" | "fails")] at every budget the
    cells' curves share, (holds?, mean) at the end of training), or None where its method has no value."""
    axis = spec.table["lead"]["axis"]
    higher = next(m["direction"] for m in spec.metrics if m["name"] == claim["metric"]) == "higher"
    at = summary[(summary.scale == scale) & (summary[axis].astype(str) == value) & (summary.n > 0)]
    final = claim_outcome(claim, at, higher) if not at.empty else None
    if final is None:
        return None
    shared = [set(b) for b in at.budgets if b]
    steps = sorted(set.intersection(*shared)) if shared else []
    outcomes = [(step, "holds" if r[0] else "fails") for step in steps
                if (r := claim_outcome(claim, summary_at(at, spec, step), higher)) is not None]
    return outcomes, final


def _claim_lines(spec: Spec, summary: pd.DataFrame, scale: str) -> list[str]:
    """``table.claims``: each claim checked on the means at every value of the lead axis, at every training
    budget the cells' curves share (where it holds, as windows of steps) and at the end of training."""
    claims = (spec.table or {}).get("claims") or []
    axis = ((spec.table or {}).get("lead") or {}).get("axis")
    if not claims or not axis:
        return []
    fmt = {m["name"]: m.get("format", ".2f") for m in spec.metrics}
    lines = []
    for c in claims:
        parts = []
        for value in dim_values(spec, axis):
            read = claim_by_budget(spec, summary, scale, c, value)
            if read is None:
                continue
            outcomes, (holds, mean) = read
            where = window_sentence(outcomes) if outcomes else ("holds" if holds else "fails")
            parts.append(f"{axis} {value}: {where} (at the end, {format(mean, fmt[c['metric']])})")
        if parts:
            test = " and ".join(x for x in (f"mean ≥ {c['min']:g}" if "min" in c else "",
                                            f"mean ≤ {c['max']:g}" if "max" in c else "",
                                            "best of all methods" if c.get("best") else "") if x)
            lines.append(f"Claim \"{c['text']}\" ({c['metric']} {test}), by training budget: {'; '.join(parts)}.")
    return lines


def _convergence_lines(spec: Spec, sub: pd.DataFrame) -> list[str]:
    """``table.convergence``: the cells whose seeds still moved beyond the tolerance over the last part of
    training (:func:`repro.convergence.still_moving`), or that none did."""
    conv = (spec.table or {}).get("convergence")
    if not conv or sub.empty or "late_change" not in sub or sub.late_change.isna().all():
        return []
    metric, window, tol = conv["metric"], conv["window"], conv["tolerance"]
    dims = [d for d in spec.cell_dims() if d != "dataset" or len(spec.grid["datasets"]) > 1]
    cell = lambda r: " · ".join(str(r[d]) for d in dims)
    moving = [f"{cell(r)} ({r.late_change:+.1f})" for _, r in sub.iterrows() if r.get("moving") == True]  # noqa: E712 (NaN: no curve)
    rule = (f"the seeds' change of {metric} over the last {window:.0%} of training, from the curves in the records, "
            f"beyond ±{tol:g} with a drift significant by a one-sided t-test at 0.05")
    lines = [f"Convergence ({rule}): every cell is within it." if not moving else
             f"Still moving at the end of training ({rule}): {', '.join(moving)}. These values may not be final, "
             "and claims that rest on them may change with longer training."]
    if "train_steps" in sub and sub.train_steps.notna().any():
        by_length: dict[int, list[str]] = {}
        order = {m: i for i, m in enumerate(spec.grid["methods"])}
        for _, r in sorted(sub[sub.train_steps.notna()].iterrows(), key=lambda ir: (ir[1].train_steps, order.get(ir[1].method, 0))):
            by_length.setdefault(int(r.train_steps), []).append(cell(r))
        lines.append("Training steps per cell: " + "; ".join(f"{n:,}: {', '.join(cells)}" for n, cells in by_length.items()) + ".")
    return lines


def estimate_rungs(spec: Spec, sub: pd.DataFrame) -> list[RungCheck]:
    """``table.estimate_ladder`` checked over the cells of ``sub`` (summarize's rows at one scale)."""
    ladder = (spec.table or {}).get("estimate_ladder")
    if not ladder or sub.empty:
        return []
    dims = [d for d in spec.cell_dims() if d != "dataset" or len(spec.grid["datasets"]) > 1]
    return check_rungs(ladder, sub, lambda r: " · ".join(str(r[d]) for d in dims))


def _ladder_lines(spec: Spec, sub: pd.DataFrame) -> list[str]:
    """Each rung's doubling check and the rung the claims read."""
    checks = estimate_rungs(spec, sub)
    if not checks:
        return []
    picked = chosen(checks)
    return [("Estimate ladder (a rung holds when doubling its setting moves no cell's mean by more than that "
             "cell's seed std): " + "; ".join(c.sentence() for c in checks) + ". "
             + (f"Claims read {picked.metric}." if picked else
                f"No rung holds: claims on {checks[0].metric} are inconclusive."))]


def _describe(source: str) -> str:
    """A stand-in's name and what it is (the registry's description), for the † footer line."""
    try:
        from .data.registry import DATASETS

        return f"{source}: {DATASETS[source].description.removeprefix('STAND-IN: ')}"
    except (ImportError, KeyError):
        return source


def footer(spec: Spec, summary: pd.DataFrame, scale: str) -> list[str]:
    sub = summary[summary.scale == scale]
    sc = spec.scales[scale]
    n = sub["n"] if not sub.empty else pd.Series([0])
    lines = [f"Scale `{scale}`: {int(n.min())}–{int(n.max())} seeds per cell (scale default {sc['seeds']}); "
             f"mean ± sample std (ddof=1) over training seeds; bold: best reproduced value per comparison."]
    samples = spec.config.get("eval_samples")
    samples = (sc.get("config") or {}).get("eval_samples", samples)
    if samples:
        lines.append(f"Evaluation samples per run: {samples}.")
    div, fail = int(sub.n_diverged.sum()) if not sub.empty else 0, int(sub.n_failed.sum()) if not sub.empty else 0
    if div or fail:
        lines.append(f"{div} diverged and {fail} failed runs are counted in brackets and excluded from the means.")
    if not sub.empty and sub.stand_in.any():
        sources = sorted({s for ss in sub[sub.stand_in].data_sources for s in ss})
        lines.append(f"{STAND_IN_MARK} computed on offline stand-in data ({'; '.join(_describe(s) for s in sources)}), "
                     "not the paper's dataset: not comparable to the paper's value.")
    if not sub.empty and sub.uncalibrated.any():
        lines.append(f"{UNCALIBRATED_MARK} computed with an uncalibrated feature extractor (random weights): "
                     "not comparable to the paper's value.")
    if not sub.empty and "feature_networks" in sub:
        networks = sorted({n for ns in sub.feature_networks for n in ns})
        if networks:
            lines.append(f"Feature network: {'; '.join(networks)}.")
    if not sub.empty and "footnotes" in sub:
        lines += sorted({f for fs in sub.footnotes for f in fs})
    if spec.best_over and not sub.empty:
        lines += _best_over_lines(spec, sub)
    lines += _lead_lines(spec, summary, scale)
    lines += _convergence_lines(spec, sub)
    lines += _ladder_lines(spec, sub)
    shown = table_values(spec, summary, scale)
    for axis, vals in shown.items():
        missing = [v for v in dim_values(spec, axis) if v not in vals]
        planned = {str(dict(r.axes).get(axis)) for r in expand(spec, scale)} if missing else set()
        pending = [v for v in missing if v in planned]
        if pending:
            lines.append(f"{axis} {', '.join(pending)}: not run yet (`repro run {spec.id} --scale {scale} "
                         f"--axis {axis}={','.join(pending)}`).")
        if len(pending) < len(missing):
            lines.append(f"{axis} {', '.join(v for v in missing if v not in pending)}: no runs at this scale "
                         f"(other scales: `repro run {spec.id} --scale paper`).")
    lines += [f"Scale note: {x}" for x in sc.get("notes", []) or []]
    lines += [f"Protocol: {x}" for x in spec.deviations or []]
    return lines


def leading(spec: Spec, summary: pd.DataFrame, scale: str) -> str | None:
    """The value of ``table.lead``'s axis that the table leads with (scored on the scale with most records)."""
    lead = (spec.table or {}).get("lead")
    order = dim_values(spec, lead["axis"]) if lead else None
    return leading_value(lead_scores(spec, summary, _scored_scale(summary, scale)), order)


def table_values(spec: Spec, summary: pd.DataFrame, scale: str) -> dict[str, list[str]]:
    """The dimension values the table of ``scale`` shows: its rows restricted to the scale's grid (a method
    only the paper scale runs gets no empty row at scale cpu) and, for a job with ``table.lead``, the lead
    axis' values that have records at ``scale``, the leading one first."""
    values = _scale_rows(spec, scale)
    lead = (spec.table or {}).get("lead")
    if not lead or summary.empty:
        return values
    axis = lead["axis"]
    sub = summary[summary.scale == scale]
    present = [v for v in dim_values(spec, axis) if (sub[axis].astype(str) == v).any()]
    best = leading(spec, summary, scale)
    if best in present:
        present = [best] + [v for v in present if v != best]
    return {**values, axis: present} if present else values


def _scale_rows(spec: Spec, scale: str) -> dict[str, list[str]]:
    rdim = (spec.table or {}).get("rows", "method")
    subset = ((spec.scales.get(scale) or {}).get("grid") or {}).get(rdim + "s") if rdim in ("method", "dataset") else None
    return {rdim: [v for v in dim_values(spec, rdim) if v in set(map(str, subset))]} if subset else {}


def budget_readings(spec: Spec, summary: pd.DataFrame, scale: str) -> list[tuple[int, str]]:
    """``table.budgets`` the records of ``scale`` recorded (a step some cell's curves share): [(step, why)]."""
    sub = summary[summary.scale == scale] if not summary.empty else summary
    recorded = {step for b in (sub.budgets if "budgets" in sub else []) if b for step in b}
    return [(int(b["step"]), b.get("why", "")) for b in (spec.table or {}).get("budgets") or [] if int(b["step"]) in recorded]


def sections(spec: Spec, summary: pd.DataFrame, scale: str) -> list[tuple[str, pd.DataFrame, list[str]]]:
    """What a scale's table file shows: (title, the summary its cells come from, footer lines): the end of
    training, then each ``table.budgets`` reading of the same runs."""
    readings = budget_readings(spec, summary, scale)
    head = footer(spec, summary, scale)
    if readings:
        head.insert(1, "Shown: the end of training (the spec's steps); the same runs read at "
                    + ", ".join(f"{step_text(step)} steps" for step, _ in readings) + " follow.")
    out = [(f"Scale `{scale}`", summary, head)]
    for step, why in readings:
        out.append((f"Scale `{scale}` at {step_text(step)} steps", summary_at(summary, spec, step),
                    [f"The same runs as above, read at step {step:,} of their recorded curves"
                     + (f" ({why})" if why else "") + "; mean ± sample std over the seeds."]))
    return out


def render_markdown(spec: Spec, results: Path) -> str:
    summary = table_summary(spec, results)
    parts = [f"# {spec.title}", "", f"Job `{spec.id}` · paper `{spec.paper}` · reproduced values beside the paper's.", ""]
    scales = [s for s in SCALES[::-1] if not summary.empty and s in set(summary.scale)]
    if not scales:
        parts += ["No records yet: `repro run " + spec.id + "`.", ""]
    for scale in scales:
        for title, cells_from, notes in sections(spec, summary, scale):
            header, body, _ = layout(spec, build_cells(spec, cells_from, scale), table_values(spec, summary, scale))
            parts += [f"## {title}", "", tabulate(body, headers=header, tablefmt="github", disable_numparse=True), ""]
            parts += [f"- {line}" for line in notes] + [""]
    return "\n".join(parts)


def _tex_escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"), ("$", r"\$")):
        text = text.replace(a, b)
    return text


def _tex_cell(text: str) -> str:
    bold = text.startswith("**") and "**" in text[2:]
    if bold:
        text = text[2:].replace("**", "", 1)
    text = re.sub(r"`([^`]*)`", r"\\texttt{\1}", _tex_escape(text)).replace("±", r"$\pm$").replace(STAND_IN_MARK, r"$^\dagger$").replace(UNCALIBRATED_MARK, r"$^\ddagger$").replace("–", "--")
    return rf"\textbf{{{text}}}" if bold else text


def render_latex(spec: Spec, results: Path) -> str:
    """booktabs tables (one per scale present) via pandas Styler, with a two-level header (column, repro/paper)."""
    summary = table_summary(spec, results)
    scales = [s for s in SCALES[::-1] if not summary.empty and s in set(summary.scale)]
    out = [f"% {spec.title} -- generated by `repro tables {spec.id}`; do not edit by hand"]
    for scale in scales:
        for title, cells_from, notes in sections(spec, summary, scale):
            header, body, groups = layout(spec, build_cells(spec, cells_from, scale), table_values(spec, summary, scale))
            if not groups:  # a figure job without table metrics (e.g. kernelnet-fig5): its artifacts are the result
                out.append(f"% scale {scale}: no table metrics; see the runs' artifacts")
                break
            cols = pd.MultiIndex.from_tuples([(_tex_escape(" / ".join(g)), sub) for g in groups for sub in ("repro.", "paper")])
            frame = pd.DataFrame([[_tex_cell(c) for c in line[1:]] for line in body], columns=cols,
                                 index=pd.Index([_tex_escape(line[0]) for line in body], name=_tex_escape(header[0]) or None))
            caption = f"{spec.title} ({title.replace('Scale `', 'scale ').replace('`', '')})"
            tex = frame.style.to_latex(hrules=True, multicol_align="c", column_format="l" + "r" * len(cols),
                                       caption=_tex_escape(caption), position="htbp")
            tex = tex.replace(r"\end{table}", "\\par\\footnotesize " + " ".join(map(_tex_cell, notes)) + "\n\\end{table}")
            out.append(tex)
    if not scales:
        out.append(f"% no records yet for {spec.id}")
    return "\n".join(out)


def write_tables(spec: Spec, results: Path, tables: Path) -> tuple[Path, Path]:
    tables.mkdir(parents=True, exist_ok=True)
    md, tex = tables / f"{spec.id}.md", tables / f"{spec.id}.tex"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # corrupt records are reported once, by the caller's first read
        md_text, tex_text = render_markdown(spec, results), render_latex(spec, results)
    store.write_text_atomic(md, md_text)
    store.write_text_atomic(tex, tex_text)
    return md, tex
