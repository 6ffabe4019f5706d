"""Training curves from the records' ``curve`` (evaluation points ``{"step": int, <metric>: float}``):
one row of panels per value of the job's first grid axis (sig-table1: the component std), one column
per metric; per method a line, the mean over its seeds at each evaluated step, and a band from the
lowest to the highest seed; the paper's value as a dotted line in the method's colour. Where the spec's
``table.convergence`` names a window, its last fraction of each cell's training (what the footer's
convergence test reads) is marked on the x axis. Each of the spec's ``table.claims`` is drawn in its
metric's panels as a bar in its method's colour over the budgets where it holds (the footer's reading,
repro.aggregate.claim_by_budget). Drawn from the largest scale present, `ok` runs only.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from matplotlib.transforms import blended_transform_factory

from ..aggregate import claim_by_budget, paper_lookup, select_best, summarize
from ..curves import windows
from ..spec import parse_value
from .common import largest_scale, new_figure, save_png_pdf


def curve_frame(spec, frame: pd.DataFrame, results_dir: Path) -> pd.DataFrame:
    """One row per (run, evaluated step): method, the first axis's value (``row``), seed, step, metrics."""
    axis = next(iter(spec.axes), None)
    if frame.empty:
        return pd.DataFrame(columns=["method", "row", "seed", "step", *spec.metric_names])
    scale = largest_scale(frame)
    rows = []
    for run in frame[(frame.scale == scale) & (frame.status == "ok")].itertuples():
        for point in run.curve or []:
            rows.append({"method": run.method, "row": getattr(run, axis) if axis else run.dataset,
                         "seed": run.seed, "step": point["step"],
                         **{m: point.get(m, np.nan) for m in spec.metric_names}})
    return pd.DataFrame(rows, columns=["method", "row", "seed", "step", *spec.metric_names])


_STEPS = FuncFormatter(lambda x, _: f"{x / 1e6:g}M" if x >= 1e6 else f"{x / 1e3:g}k" if x else "0")


def _claim_bars(ax, spec, summary: pd.DataFrame, scale: str, value: str, metric: str, colours: dict) -> None:
    """Bars near the panel's top, one per ``table.claims`` entry on ``metric``: where it holds by budget."""
    claims = [c for c in (spec.table or {}).get("claims") or [] if c["metric"] == metric]
    if claims:  # head room above the curves for the bars
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi + (hi - lo) * 0.1 * len(claims) / (1 - 0.1 * len(claims)))
    where = blended_transform_factory(ax.transData, ax.transAxes)
    for k, claim in enumerate(claims):
        read = claim_by_budget(spec, summary, scale, claim, value) if (spec.table or {}).get("lead") else None
        if not read or not read[0]:
            continue
        y = 0.97 - 0.1 * k
        for w in windows(read[0]):
            if w.outcome == "holds":
                ax.plot([w.first, w.last], [y, y], color=colours.get(str(claim["method"]), "k"), lw=3,
                        transform=where, solid_capstyle="butt")
        ax.text(0.01, y - 0.05, f"{claim['text']}", transform=ax.transAxes, fontsize=5, va="bottom")


def plot(spec, frame: pd.DataFrame, results_dir: Path, out_base: Path) -> list[Path]:
    curves = curve_frame(spec, frame, results_dir)
    summary = select_best(summarize(frame, spec), spec) if not frame.empty else pd.DataFrame()
    scale = largest_scale(frame) if not frame.empty else None
    axis = next(iter(spec.axes), None)
    values = [str(v) for v in spec.axes[axis]] if axis else [str(d) for d in spec.grid["datasets"]]
    values = [v for v in values if v in set(curves.row)] or values[:1]
    methods = [str(m) for m in spec.grid["methods"]]
    colours = {m: f"C{i}" for i, m in enumerate(methods)}
    papers = paper_lookup(spec)
    window = ((spec.table or {}).get("convergence") or {}).get("window")
    dataset = str(spec.grid["datasets"][0])  # paper values of the first dataset (sig-table1 has one)
    fig = new_figure(3.6 * len(spec.metrics) + 1.6, 2.6 * len(values) + 0.6)
    grid = fig.subplots(len(values), len(spec.metrics), squeeze=False)
    for i, value in enumerate(values):
        for j, metric in enumerate(spec.metrics):
            ax, name = grid[i, j], metric["name"]
            for method in methods:
                sub = curves[(curves.method == method) & (curves.row == value)]
                if sub.empty:
                    continue
                by_step = sub.groupby("step")[name]
                mean = by_step.mean()
                steps = mean.index.to_numpy()
                ax.plot(steps, mean.to_numpy(), color=colours[method], lw=1.2, label=method)
                ax.fill_between(steps, by_step.min().to_numpy(), by_step.max().to_numpy(),
                                color=colours[method], alpha=0.15, lw=0)
                key = (method, dataset, value, name) if axis else (method, value, name)
                paper = parse_value(papers.get(key))[0]
                if paper is not None:
                    ax.axhline(paper, color=colours[method], ls=":", lw=1)
                if window:
                    end = steps.max()
                    ax.plot([end * (1 - window), end], [0, 0], color=colours[method], lw=3,
                            transform=ax.get_xaxis_transform(), solid_capstyle="butt")
            if scale is not None:
                _claim_bars(ax, spec, summary, scale, value, name, colours)
            if j == 0:
                ax.set_title(f"{axis} {value}" if axis else value, fontsize=9, loc="left")
            ax.set_ylabel(metric.get("label", name), fontsize=8)
            ax.set_xlabel("training step", fontsize=8)
            ax.xaxis.set_major_formatter(_STEPS)
            ax.tick_params(labelsize=7)
    handles, labels = grid[0, 0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside right upper", fontsize=7,
                   title="mean, band: min–max over seeds;\ndotted: paper" + ("; bar: test window" if window else "")
                   + ("\ntop bars: budgets where a claim holds" if (spec.table or {}).get("claims") else ""),
                   title_fontsize=7)
    fig.suptitle(spec.title, fontsize=10)
    return save_png_pdf(fig, out_base)
