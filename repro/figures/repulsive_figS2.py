"""003 Fig. S2: per dataset, boxplots of the FID over learning-rate pairs for each loss × spectral
normalisation (PIM, PICO with C^K = 16 … 256), using the runs with FID < τ; the number of runs above τ
or diverged (out of the pairs) is printed above each box. τ = 50, 80, 50, 90 (CIFAR-10, STL-10, CelebA,
LSUN-bedroom). A pair's FID is its mean over ok seeds."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..aggregate import STAND_IN_MARK, UNCALIBRATED_MARK
from .common import largest_scale, new_figure, save_png_pdf

TAU = {"cifar10": 50.0, "stl10": 80.0, "celeba64": 50.0, "celeba160": 50.0, "lsun-bedroom64": 90.0}  # 003 Fig. S2


def box_data(spec, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, method, spectral): FIDs below τ (list) and the number of poor/diverged pairs."""
    cols = ["dataset", "method", "spectral", "fids", "n_poor"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    scale = largest_scale(frame)
    frame = frame[frame.scale == scale]
    rows = []
    for (dataset, method, spectral), sub in frame.groupby(["dataset", "method", "spectral"], sort=False):
        tau = TAU.get(dataset, np.inf)
        good, poor = [], 0
        for _, pair in sub.groupby(["lr_d", "lr_g"], sort=False):
            ok = pair[pair.status == "ok"]
            fid = pd.to_numeric(ok["fid"], errors="coerce").dropna() if "fid" in ok else pd.Series(dtype=float)
            if len(fid) and fid.mean() < tau:
                good.append(float(fid.mean()))
            else:
                poor += 1
        rows.append({"dataset": dataset, "method": method, "spectral": spectral, "fids": good, "n_poor": poor})
    return pd.DataFrame(rows, columns=cols)


def plot(spec, frame: pd.DataFrame, results_dir: Path, out_base: Path) -> list[Path]:
    data = box_data(spec, frame)
    datasets, methods = spec.grid["datasets"], spec.grid["methods"]
    spectrals = [str(s) for s in spec.axes["spectral"]]
    fig = new_figure(12, 2.8 * len(datasets))
    axes = fig.subplots(len(datasets), 1, squeeze=False)[:, 0]
    marks = ""
    if not frame.empty:
        marks = (STAND_IN_MARK if frame.stand_in.any() else "") + (UNCALIBRATED_MARK if frame.uncalibrated.any() else "")
    for ax, dataset in zip(axes, datasets):
        positions, boxes, labels, counts = [], [], [], []
        for i, method in enumerate(methods):
            for j, spectral in enumerate(spectrals):
                pos = i * (len(spectrals) + 1) + j
                row = data[(data.dataset == dataset) & (data.method == method) & (data.spectral == spectral)]
                fids = row.fids.iloc[0] if not row.empty else []
                positions.append(pos)
                boxes.append(fids if fids else [np.nan])
                labels.append(f"{method}\n{spectral}")
                counts.append(int(row.n_poor.iloc[0]) if not row.empty else 0)
        ax.boxplot(boxes, positions=positions, widths=0.7)
        top = max([max(b) for b in boxes if b and np.isfinite(b).any()] or [1.0])
        for pos, n in zip(positions, counts):
            if n:
                ax.text(pos, top * 1.05, str(n), ha="center", fontsize=7, color="tab:red")
        ax.set_xticks(positions, labels, fontsize=5, rotation=90)
        ax.set_ylabel("FID")
        ax.set_title(f"{dataset} (τ = {TAU.get(dataset, float('nan')):g}){marks}")
    return save_png_pdf(fig, out_base)
