"""Generic figure for scalar results: one panel per metric, bars = methods, groups along x = every
combination of the dataset and axis values that vary; bar height mean, error bar sample std (ddof=1)
over the runs that ended `ok`; the paper's value, where the spec gives one, as a black cross.

Drawn from the largest scale present (paper > cpu > smoke). Panels computed on stand-in data or with
an uncalibrated extractor carry the table's marks (†, ‡) in their title.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..aggregate import STAND_IN_MARK, UNCALIBRATED_MARK, paper_lookup
from ..spec import parse_value
from .common import largest_scale, new_figure, save_png_pdf


def varying_dims(spec) -> list[str]:
    """Dataset and axis dimensions with more than one value (the x groups)."""
    sizes = {"dataset": len(spec.grid["datasets"]), **{a: len(v) for a, v in spec.axes.items()}}
    return [d for d, n in sizes.items() if n > 1]


def bar_data(spec, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (metric, group, method): mean, std, n over ok runs, and the paper's mean."""
    if frame.empty:
        return pd.DataFrame(columns=["metric", "group", "method", "mean", "std", "n", "paper", "stand_in", "uncalibrated"])
    scale = largest_scale(frame)
    ok = frame[(frame.scale == scale) & (frame.status == "ok")]
    dims, papers, rows = varying_dims(spec), paper_lookup(spec), []
    for metric in spec.metric_names:
        for (method, *rest), sub in ok.groupby(["method", "dataset", *spec.axes], sort=False):
            values = pd.to_numeric(sub[metric], errors="coerce").dropna() if metric in sub else pd.Series(dtype=float)
            where = dict(zip(["dataset", *spec.axes], map(str, rest)))
            group = " / ".join(where[d] for d in dims) or str(where["dataset"])
            paper = parse_value(papers.get((str(method), *[where[d] for d in ["dataset", *spec.axes]], metric)))[0]
            rows.append({"metric": metric, "group": group, "method": str(method),
                         "mean": float(values.mean()) if len(values) else np.nan,
                         "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0, "n": len(values),
                         "paper": np.nan if paper is None else paper, "stand_in": bool(sub.stand_in.any()),
                         "uncalibrated": bool(sub.uncalibrated.any())})
    return pd.DataFrame(rows)


def plot(spec, frame: pd.DataFrame, results_dir: Path, out_base: Path) -> list[Path]:
    data = bar_data(spec, frame)
    methods = [str(m) for m in spec.grid["methods"]]
    fig = new_figure(max(4.0, 1.2 * len(methods) * max(1, data.group.nunique() if len(data) else 1)), 2.8 * len(spec.metrics))
    axes = np.atleast_1d(fig.subplots(len(spec.metrics), 1, squeeze=False)[:, 0])
    width = 0.8 / max(1, len(methods))
    for ax, metric in zip(axes, spec.metrics):
        sub = data[data.metric == metric["name"]] if len(data) else data
        groups = list(dict.fromkeys(sub.group)) if len(sub) else []
        for i, method in enumerate(methods):
            rows = sub[sub.method == method].set_index("group").reindex(groups) if len(sub) else sub
            x = np.arange(len(groups)) + (i - (len(methods) - 1) / 2) * width
            ax.bar(x, rows["mean"], width, yerr=rows["std"], capsize=2, label=method)
            if len(rows) and rows["paper"].notna().any():
                ax.scatter(x, rows["paper"], marker="x", color="black", zorder=3, label="paper" if i == 0 else None)
        marks = (STAND_IN_MARK if len(sub) and sub.stand_in.any() else "") + (UNCALIBRATED_MARK if len(sub) and sub.uncalibrated.any() else "")
        ax.set_title(metric.get("label", metric["name"]) + marks, fontsize=9)
        ax.set_xticks(np.arange(len(groups)), groups, fontsize=8)
        ax.set_xlabel(" / ".join(varying_dims(spec)) or "dataset", fontsize=8)
        ax.legend(fontsize=7, ncols=min(len(methods) + 1, 6))
    fig.suptitle(spec.title, fontsize=10)
    return save_png_pdf(fig, out_base)
