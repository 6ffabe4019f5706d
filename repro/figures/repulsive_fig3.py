"""003 Fig. 3: FID of L_{D,λ} per λ (groups) and learning-rate pair (16 bars, order (ρ_D, ρ_G) =
(1e-4, 1e-4), (1e-4, 2e-4), …, (1e-3, 1e-3)); panel (a) RBF, (b) RBF-B. Bars are the mean FID over ok
seeds; a pair whose FID exceeds 30, or whose every run diverged, is drawn as a hatched bar at 30
("FID > 30 indicates that the model diverged or produced poor results", 003 Fig. 3)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..aggregate import STAND_IN_MARK, UNCALIBRATED_MARK
from .common import largest_scale, new_figure, save_png_pdf

CAP = 30.0  # 003 Fig. 3
PANELS = {"mmd-lambda-rbf": "(a) RBF kernel", "mmd-lambda-rbf-b": "(b) RBF-B kernel"}


def _value(v) -> float:
    return float(v)


def bar_table(spec, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (method, λ, ρ_D, ρ_G): mean FID of ok runs (NaN if none), n ok, n diverged."""
    cols = ["method", "lambda", "lr_d", "lr_g", "fid", "n_ok", "n_diverged"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    scale = largest_scale(frame)
    frame = frame[frame.scale == scale]
    rows = []
    for (method, lam, lr_d, lr_g), sub in frame.groupby(["method", "lambda", "lr_d", "lr_g"], sort=False):
        ok = sub[sub.status == "ok"]
        fid = pd.to_numeric(ok["fid"], errors="coerce").dropna() if "fid" in ok else pd.Series(dtype=float)
        rows.append({"method": method, "lambda": _value(lam), "lr_d": _value(lr_d), "lr_g": _value(lr_g),
                     "fid": float(fid.mean()) if len(fid) else np.nan, "n_ok": len(fid),
                     "n_diverged": int((sub.status == "diverged").sum())})
    return pd.DataFrame(rows, columns=cols)


def plot(spec, frame: pd.DataFrame, results_dir: Path, out_base: Path) -> list[Path]:
    table = bar_table(spec, frame)
    lambdas = [float(v) for v in spec.axes["lambda"]]
    pairs = [(float(d), float(g)) for d in spec.axes["lr_d"] for g in spec.axes["lr_g"]]
    methods = [m for m in spec.grid["methods"]]
    fig = new_figure(11, 3.2 * len(methods))
    axes = fig.subplots(len(methods), 1, squeeze=False)[:, 0]
    cmap = __import__("matplotlib").colormaps["viridis"]
    width = 0.8 / len(pairs)
    marks = ""
    if not frame.empty:
        marks = (STAND_IN_MARK if frame.stand_in.any() else "") + (UNCALIBRATED_MARK if frame.uncalibrated.any() else "")
    for ax, method in zip(axes, methods):
        sub = table[table.method == method]
        for j, (lr_d, lr_g) in enumerate(pairs):
            xs, hs, hatched = [], [], []
            for i, lam in enumerate(lambdas):
                row = sub[(sub["lambda"] == lam) & (sub.lr_d == lr_d) & (sub.lr_g == lr_g)]
                if row.empty:
                    continue
                fid = float(row.fid.iloc[0])
                poor = not np.isfinite(fid) or fid > CAP
                xs.append(i - 0.4 + (j + 0.5) * width)
                hs.append(CAP if poor else fid)
                hatched.append(poor)
            bars = ax.bar(xs, hs, width=width, color=cmap(j / max(1, len(pairs) - 1)),
                          label=f"({lr_d:g}, {lr_g:g})")
            for bar, poor in zip(bars, hatched):
                if poor:
                    bar.set_hatch("///")
                    bar.set_alpha(0.4)
        ax.axhline(CAP, color="k", lw=0.6, ls="--")
        ax.set_xticks(range(len(lambdas)), [f"λ = {lam:g}" for lam in lambdas])
        ax.set_ylabel("FID")
        ax.set_ylim(0, CAP * 1.05)
        ax.set_title(f"{PANELS.get(method, method)}{marks}")
    axes[0].legend(title="(ρ_D, ρ_G)", ncol=8, fontsize=6, title_fontsize=7, loc="upper left")
    return save_png_pdf(fig, out_base)
