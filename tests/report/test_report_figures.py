"""Figure registry, the sample-grid fallback's choice of image, and LaTeX escaping."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import repro.figures as figures
from repro.figures.artifacts import last_sample_grid, newest_png, sample_step
from repro.figures.sample_grid import _pick, pick_images
from repro.report.latex import escape, inline
from repro.spec import Spec

SPEC = Spec(Path("fig.yaml"), {"id": "fig", "title": "T", "grid": {"methods": ["gan"], "datasets": ["mnist"]}})


def _png(path: Path, value: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((4, 4, 3), value, dtype=np.uint8)).save(path)


def test_unknown_plot_is_a_clear_error():
    with pytest.raises(ValueError, match="figure plot 'no_such_plot' not found: add repro/figures/no_such_plot.py"):
        figures.get_plot("no_such_plot")
    with pytest.raises(ValueError, match="not a valid plot name"):
        figures.get_plot("../evil")
    assert "sample_grid" in figures.available() and "common" not in figures.available()


def test_draw_requires_png_and_pdf(tmp_path, monkeypatch):
    def png_only(spec, frame, results_dir, out_base):
        _png(out_base.with_suffix(".png"), 0)
        return [out_base.with_suffix(".png")]

    monkeypatch.setattr(figures, "get_plot", lambda name: png_only)
    with pytest.raises(ValueError, match="did not write .pdf files"):
        figures.draw(SPEC, pd.DataFrame(), tmp_path, tmp_path / "out" / "fig")


def test_sample_step_names():
    assert sample_step("samples_step1200.png") == 1200
    assert sample_step("samples_step12.pdf") is None and sample_step("my_samples_step3.png") is None
    assert last_sample_grid(["samples_step900.png", "samples_step1000.png", "x.png"]) == ("samples_step1000.png", 1000)
    assert last_sample_grid(["x.png"]) is None


def test_newest_png_prefers_the_last_grid_then_the_latest_file(tmp_path):
    _png(tmp_path / "a" / "samples_step90.png", 1)
    _png(tmp_path / "a" / "samples_step100.png", 2)
    _png(tmp_path / "a" / "zzz.png", 3)
    assert newest_png(tmp_path / "a").name == "samples_step100.png"  # by step, not by name or time
    _png(tmp_path / "b" / "old.png", 1)
    _png(tmp_path / "b" / "new.png", 2)
    os.utime(tmp_path / "b" / "old.png", (1, 1))
    assert newest_png(tmp_path / "b").name == "new.png"
    assert newest_png(tmp_path / "missing") is None


def test_pick_images_prefers_ok_runs_then_low_seeds(tmp_path):
    frame = pd.DataFrame([
        {"key": "k2", "method": "gan", "dataset": "mnist", "seed": 0, "status": "diverged"},
        {"key": "k1", "method": "gan", "dataset": "mnist", "seed": 2, "status": "ok"},
        {"key": "k0", "method": "gan", "dataset": "mnist", "seed": 1, "status": "ok"},
    ])
    for key in ("k0", "k1", "k2"):
        _png(tmp_path / "fig" / key / "samples_step10.png", 1)
    path, seed = pick_images(SPEC, frame, tmp_path)[("gan", "mnist")]
    assert seed == 1 and path.parent.name == "k0"


def test_sample_grid_plot_writes_png_and_pdf(tmp_path):
    frame = pd.DataFrame([{"key": "k0", "method": "gan", "dataset": "mnist", "seed": 0, "status": "ok"}])
    _png(tmp_path / "fig" / "k0" / "samples_step10.png", 200)
    written = figures.draw(SPEC, frame, tmp_path, tmp_path / "out" / "fig")
    assert sorted(p.suffix for p in written) == [".pdf", ".png"]
    with Image.open(tmp_path / "out" / "fig.png") as im:
        im.verify()
    assert (tmp_path / "out" / "fig.pdf").read_bytes().startswith(b"%PDF")


def test_latex_escape():
    assert escape("a_b & 50% #1 $x$ {y} ~ ^") == r"a\_b \& 50\% \#1 \$x\$ \{y\} \textasciitilde{} \textasciicircum{}"
    assert escape("4.0 ± 3.08 † ‡ 5×5 – é") == r"4.0 $\pm$ 3.08 $^\dagger$ $^\ddagger$ 5$\times$5 -- é"
    assert escape("ω") == "[greek small letter omega]"
    assert inline("**2.5 ± 0.1** in `a_b`") == r"\textbf{2.5 $\pm$ 0.1} in \texttt{a\_b}"


def test_sample_grid_marks_stand_in_runs(tmp_path):
    frame = pd.DataFrame([{"key": "k0", "method": "gan", "dataset": "mnist", "seed": 0, "status": "ok",
                           "stand_in": True, "data_source": "digits"}])
    _png(tmp_path / "fig" / "k0" / "samples_step10.png", 1)
    assert _pick(SPEC, frame, tmp_path)[("gan", "mnist")][2] == "† stand-in: digits"


def test_metric_bars_data_and_files(tmp_path):
    from repro.figures.metric_bars import bar_data

    spec = Spec(Path("bars.yaml"), {
        "id": "bars", "title": "Bars", "grid": {"methods": ["gan", "sig"], "datasets": ["a"], "axes": {"lam": [0, 1]}},
        "metrics": [{"name": "fid", "direction": "lower"}],
        "paper_values": [{"method": "gan", "lam": 1, "fid": "30 ± 2"}]})
    rows = []
    for method, lam, values in [("gan", 0, [10, 12, 17]), ("gan", 1, [20, 22]), ("sig", 0, [5]), ("sig", 1, [7, 9])]:
        for seed, v in enumerate(values):
            rows.append({"method": method, "dataset": "a", "lam": str(lam), "seed": seed, "scale": "cpu", "status": "ok",
                         "stand_in": method == "sig", "uncalibrated": False, "key": f"{method}{lam}{seed}", "fid": v})
    rows.append({"method": "gan", "dataset": "a", "lam": "0", "seed": 9, "scale": "cpu", "status": "diverged",
                 "stand_in": False, "uncalibrated": False, "key": "div", "fid": 1e9})  # never averaged in
    rows.append({"method": "gan", "dataset": "a", "lam": "0", "seed": 0, "scale": "smoke", "status": "ok",
                 "stand_in": False, "uncalibrated": False, "key": "smk", "fid": 1e9})  # smaller scale: not drawn
    frame = pd.DataFrame(rows)
    data = bar_data(spec, frame).set_index(["method", "group"])
    assert data.loc[("gan", "0"), "mean"] == 13 and data.loc[("gan", "0"), "std"] == pytest.approx(np.std([10, 12, 17], ddof=1))
    assert data.loc[("gan", "1"), "paper"] == 30 and np.isnan(data.loc[("sig", "1"), "paper"])
    assert data.loc[("sig", "0"), "n"] == 1 and data.loc[("sig", "0"), "stand_in"]
    written = figures.get_plot("metric_bars")(spec, frame, tmp_path, tmp_path / "bars")
    assert sorted(p.suffix for p in written) == [".pdf", ".png"]
    with Image.open(tmp_path / "bars.png") as im:
        im.verify()


def test_training_curves_read_each_ok_runs_curve_from_its_record(tmp_path):
    from repro.aggregate import _record_row, claim_by_budget, summarize
    from repro.figures.training_curves import curve_frame

    spec = Spec(Path("curves.yaml"), {
        "id": "curves", "title": "Curves", "grid": {"methods": ["gan", "sig"], "datasets": ["g"], "axes": {"std": [0.2, 0.1]}},
        "metrics": [{"name": "modes", "direction": "higher"}],
        "table": {"convergence": {"metric": "modes", "window": 0.2, "tolerance": 1.0}, "lead": {"axis": "std", "methods": ["gan"]},
                  "claims": [{"text": "GAN below 6", "method": "gan", "metric": "modes", "max": 6}]},
        "paper_values": [{"method": "gan", "std": 0.2, "modes": "4.0 ± 3.08"}]})
    rows = []
    for key, method, std, status, scale, points in [
            ("a", "gan", "0.2", "ok", "paper", [(10, 3.0), (20, 5.0)]),
            ("b", "gan", "0.2", "ok", "paper", [(10, 1.0), (20, 9.0)]),
            ("c", "sig", "0.1", "ok", "paper", [(10, 25.0)]),
            ("d", "gan", "0.2", "diverged", "paper", [(10, 99.0)]),  # not an ok run: not drawn
            ("e", "gan", "0.2", "ok", "cpu", [(10, 99.0)])]:  # a smaller scale than paper: not drawn
        curve = [{"step": s, "modes": m} for s, m in points]
        record = {"key": key, "job": "curves", "status": status, "method": method, "dataset": "g", "seed": ord(key),
                  "axes": {"std": std}, "metrics": {"modes": points[-1][1]}, "curve": curve}
        rows.append(_record_row(spec, record, scale))
    frame = pd.DataFrame(rows)
    curves = curve_frame(spec, frame, tmp_path)
    assert len(curves) == 5 and set(curves.row) == {"0.2", "0.1"}
    gan = curves[(curves.method == "gan") & (curves.row == "0.2")].groupby("step").modes
    assert gan.mean().to_dict() == {10: 2.0, 20: 7.0} and gan.min().to_dict() == {10: 1.0, 20: 5.0}
    assert curves[curves.method == "sig"].modes.tolist() == [25.0]
    # the claim's bar: GAN mean modes 2 at step 10 (holds, ≤ 6) and 7 at step 20 (fails), paper scale only
    claim = spec.table["claims"][0]
    assert claim_by_budget(spec, summarize(frame, spec), "paper", claim, "0.2") == ([(10, "holds"), (20, "fails")],
                                                                                (False, 7.0))
    written = figures.get_plot("training_curves")(spec, frame, tmp_path, tmp_path / "curves")
    assert sorted(p.suffix for p in written) == [".pdf", ".png"]
    with Image.open(tmp_path / "curves.png") as im:
        im.verify()
