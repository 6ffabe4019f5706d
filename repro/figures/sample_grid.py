"""Generic figure: the newest PNG artifact of each method × dataset (rows: methods, columns: datasets).

Among a cell's runs the lowest seed that finished `ok` and has a PNG is shown (else any status),
so the choice does not depend on the order runs finished in.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from .artifacts import newest_png, sample_step
from .common import new_figure, save_png_pdf


def pick_images(spec, frame: pd.DataFrame, results_dir: Path) -> dict[tuple[str, str], tuple[Path, int]]:
    """(method, dataset) -> (PNG path, seed) of the image to show."""
    return {cell: (path, seed) for cell, (path, seed, _) in _pick(spec, frame, results_dir).items()}


def _stand_in_label(row) -> str:
    """"† stand-in: digits" when the run used stand-in data (the table's mark, 'not the paper's data')."""
    if bool(row.get("stand_in", False)):
        return f"† stand-in: {row.get('data_source', '?')}"
    return ""


def _pick(spec, frame: pd.DataFrame, results_dir: Path) -> dict[tuple[str, str], tuple[Path, int, str]]:
    chosen: dict[tuple[str, str], tuple[Path, int, str]] = {}
    if frame.empty:
        return chosen
    order = frame.assign(_not_ok=frame.status != "ok").sort_values(["_not_ok", "seed", "key"])
    for _, row in order.iterrows():
        cell = (str(row.method), str(row.dataset))
        if cell in chosen:
            continue
        png = newest_png(Path(results_dir) / spec.id / row.key)
        if png is not None:
            chosen[cell] = (png, int(row.seed), _stand_in_label(row))
    return chosen


def plot(spec, frame: pd.DataFrame, results_dir: Path, out_base: Path) -> list[Path]:
    methods = [str(m) for m in spec.grid["methods"]]
    datasets = [str(d) for d in spec.grid["datasets"]]
    images = _pick(spec, frame, results_dir)
    fig = new_figure(2.4 * len(datasets) + 0.6, 2.4 * len(methods) + 0.4)
    axes = np.atleast_2d(fig.subplots(len(methods), len(datasets), squeeze=False))
    for i, method in enumerate(methods):
        for j, dataset in enumerate(datasets):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if (method, dataset) in images:
                path, seed, mark = images[(method, dataset)]
                with Image.open(path) as im:
                    ax.imshow(np.asarray(im.convert("RGB")))
                step = sample_step(path.name)
                label = f"seed {seed}" + (f", step {step}" if step is not None else "")
                ax.set_xlabel(label + (f"\n{mark}" if mark else ""), fontsize=7)
            else:
                ax.text(0.5, 0.5, "no image", ha="center", va="center", transform=ax.transAxes, fontsize=8)
            if i == 0:
                ax.set_title(dataset, fontsize=9)
            if j == 0:
                ax.set_ylabel(method, fontsize=9)
    fig.suptitle(spec.title, fontsize=10)
    return save_png_pdf(fig, out_base)
