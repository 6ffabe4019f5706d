"""Figure modules of the image-GAN figure jobs, on hand-made record frames with known answers."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from repro.figures import draw
from repro.figures.repulsive_fig3 import bar_table
from repro.figures.repulsive_figS2 import box_data
from repro.spec import load_spec

JOBS_DIR = Path(__file__).resolve().parents[2] / "jobs"


def _row(**kw):
    base = {"dataset": "cifar10", "seed": 0, "scale": "cpu", "status": "ok", "stand_in": True, "uncalibrated": True,
            "key": "k", "data_source": "digits32"}
    return {**base, **kw}


def test_fig3_bar_values_and_drawing(tmp_path):
    spec = load_spec(JOBS_DIR / "repulsive-fig3.yaml")
    rows = [_row(method="mmd-lambda-rbf", **{"lambda": "1.0"}, lr_d="0.0001", lr_g="0.0002", fid=12.0, seed=0),
            _row(method="mmd-lambda-rbf", **{"lambda": "1.0"}, lr_d="0.0001", lr_g="0.0002", fid=14.0, seed=1),
            _row(method="mmd-lambda-rbf-b", **{"lambda": "-1.0"}, lr_d="0.001", lr_g="0.001", fid=np.nan,
                 status="diverged")]
    table = bar_table(spec, pd.DataFrame(rows))
    a = table[table.method == "mmd-lambda-rbf"].iloc[0]
    assert a.fid == pytest.approx(13.0) and a.n_ok == 2 and a["lambda"] == 1.0 and a.lr_g == 2e-4
    b = table[table.method == "mmd-lambda-rbf-b"].iloc[0]
    assert np.isnan(b.fid) and b.n_diverged == 1
    written = draw(spec, pd.DataFrame(rows), tmp_path, tmp_path / "fig3")
    assert {p.suffix for p in written} == {".png", ".pdf"}


def test_figS2_counts_runs_above_tau(tmp_path):
    spec = load_spec(JOBS_DIR / "repulsive-figS2.yaml")
    rows = [
        _row(method="hinge", spectral="pim", lr_d="0.0001", lr_g="0.0001", fid=20.0),
        _row(method="hinge", spectral="pim", lr_d="0.0001", lr_g="0.0002", fid=60.0),  # above τ = 50
        _row(method="hinge", spectral="pim", lr_d="0.0002", lr_g="0.0001", fid=np.nan, status="diverged"),
        _row(method="hinge", spectral="pim", lr_d="0.0002", lr_g="0.0002", fid=30.0),
        _row(method="hinge", spectral="pim", lr_d="0.0002", lr_g="0.0002", fid=40.0, seed=1),  # mean 35
        _row(method="mmd-rep", spectral="pico-64", dataset="stl10", lr_d="0.0001", lr_g="0.0001", fid=60.0),  # τ 80
    ]
    data = box_data(spec, pd.DataFrame(rows))
    hinge = data[(data.method == "hinge")].iloc[0]
    assert sorted(hinge.fids) == [20.0, 35.0] and hinge.n_poor == 2
    rep = data[data.method == "mmd-rep"].iloc[0]
    assert rep.fids == [60.0] and rep.n_poor == 0
    written = draw(spec, pd.DataFrame(rows), tmp_path, tmp_path / "figS2")
    assert all(p.exists() for p in written)


def test_fig4_tsne_from_saved_outputs(tmp_path):
    spec = load_spec(JOBS_DIR / "repulsive-fig4.yaml")
    g = torch.Generator().manual_seed(0)
    rows = []
    for i, method in enumerate(spec.grid["methods"]):
        key = f"run{i}"
        folder = tmp_path / spec.id / key
        folder.mkdir(parents=True)
        labels = torch.arange(40) % 10
        outputs = torch.randn(40, 16, generator=g) + 3 * torch.nn.functional.one_hot(labels, 16).float()
        torch.save({"outputs": outputs, "labels": labels, "method": method}, folder / "d_outputs.pt")
        rows.append(_row(method=method, key=key, fid=20.0))
    written = draw(spec, pd.DataFrame(rows), tmp_path, tmp_path / "fig4")
    assert {p.suffix for p in written} == {".png", ".pdf"}
