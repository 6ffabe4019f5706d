"""003 Fig. 4: t-SNE of discriminator outputs D(x) of real images, coloured by class, one panel per
method (MMD-rbf, MMD-rep). Reads ``d_outputs.pt`` of the first ok run (lowest seed) of each method at the
largest scale present. t-SNE: scikit-learn, perplexity 30 (capped below n/3), PCA init, random_state 0."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..aggregate import STAND_IN_MARK, UNCALIBRATED_MARK
from ..spec import SCALES
from .common import new_figure, save_png_pdf

PERPLEXITY = 30.0


def embed(outputs: np.ndarray, seed: int = 0) -> np.ndarray:
    from sklearn.manifold import TSNE

    perplexity = min(PERPLEXITY, max(1.0, (len(outputs) - 1) / 3))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(outputs)


def plot(spec, frame: pd.DataFrame, results_dir: Path, out_base: Path) -> list[Path]:
    import torch

    methods = spec.grid["methods"]
    fig = new_figure(4.2 * len(methods), 4.2)
    axes = fig.subplots(1, len(methods), squeeze=False)[0]
    scale = next((s for s in SCALES[::-1] if not frame.empty and s in set(frame.scale)), None)
    for ax, method in zip(axes, methods):
        ax.set_title(method)
        ax.set_xticks([])
        ax.set_yticks([])
        if scale is None:
            continue
        sub = frame[(frame.scale == scale) & (frame.method == method) & (frame.status == "ok")].sort_values("seed")
        path = next((Path(results_dir) / spec.id / k / "d_outputs.pt" for k in sub.key
                     if (Path(results_dir) / spec.id / k / "d_outputs.pt").exists()), None)
        if path is None:
            ax.text(0.5, 0.5, "no run", ha="center", transform=ax.transAxes)
            continue
        saved = torch.load(path)
        xy = embed(saved["outputs"].double().numpy())
        labels = saved["labels"].numpy()
        ax.scatter(xy[:, 0], xy[:, 1], c=labels, cmap="tab10", s=3, vmin=0, vmax=9)
        row = sub.iloc[0]
        mark = (STAND_IN_MARK if row.stand_in else "") + (UNCALIBRATED_MARK if row.uncalibrated else "")
        ax.set_title(f"{method} ({len(xy)} real images){mark}")
    return save_png_pdf(fig, out_base)
