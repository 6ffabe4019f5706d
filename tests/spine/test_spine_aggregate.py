"""Aggregation arithmetic on hand-made records, and Markdown/LaTeX rendering against golden files."""
import math
import os
from pathlib import Path

import pytest

from repro import store
from repro.aggregate import records_frame, render_latex, render_markdown, select_best, summarize
from repro.spec import find_job

from spine_helpers import make_project

GOLDEN = Path(__file__).parent / "golden"


def put(results, key, method, seed, status="ok", stand_in=False, axes=None, **metrics):
    store.write_json_atomic(results / "selftest-table" / key / "record.json", {
        "key": key, "axes": axes or {}, "job": "selftest-table", "method": method, "dataset": "toy", "seed": seed, "scale": "cpu",
        "status": status, "config": {}, "metrics": metrics, "stand_in": stand_in, "wall_time": 1.5,
        "data_source": "digits" if stand_in else "toy"})


@pytest.fixture
def results(tmp_path, monkeypatch):
    make_project(tmp_path, monkeypatch)
    r = tmp_path / "results"
    put(r, "a0", "selftest-sgd", 0, weight_error=1.0, final_loss=0.5)
    put(r, "a1", "selftest-sgd", 1, weight_error=2.0, final_loss=0.25)
    put(r, "a2", "selftest-sgd", 2, weight_error=3.0, final_loss=0.75)
    put(r, "a3", "selftest-sgd", 3, status="diverged", weight_error=99.0)
    put(r, "b0", "selftest-sgd-slow", 0, stand_in=True, weight_error=4.0, final_loss=0.125)
    put(r, "b1", "selftest-sgd-slow", 1, stand_in=True, weight_error=6.0, final_loss=0.125)
    put(r, "b2", "selftest-sgd-slow", 2, status="failed")
    return r


def test_mean_std_n_by_hand(results):
    spec = find_job("tst")
    s = summarize(records_frame(spec, results), spec).set_index("method")
    a, b = s.loc["selftest-sgd"], s.loc["selftest-sgd-slow"]
    assert (a.n, a.n_diverged, a.n_failed) == (3, 1, 0)
    assert a.weight_error__mean == pytest.approx(2.0)           # (1+2+3)/3, diverged 99 not averaged in
    assert a.weight_error__std == pytest.approx(1.0)            # sqrt(((1)^2+0+(1)^2)/(3-1))
    assert a.final_loss__std == pytest.approx(0.25)
    assert (b.n, b.n_failed, bool(b.stand_in)) == (2, 1, True)
    assert b.weight_error__mean == pytest.approx(5.0)
    assert b.weight_error__std == pytest.approx(math.sqrt(2.0))  # sqrt((1+1)/1)
    assert b.final_loss__std == pytest.approx(0.0)
    assert a.wall_time == pytest.approx(6.0)


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("REPRO_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_markdown_golden(results):
    md = render_markdown(find_job("tst"), results)
    _golden("selftest-table.md", md)
    assert "**2.000 ± 1.000 [1 div.]**" in md          # best by direction (lower), diverged counted
    assert "5.000 ± 1.414 [1 failed]†" in md            # stand-in marked, failed counted
    assert "0.050 ± 0.010" in md                         # paper value beside


def test_latex_golden(results):
    tex = render_latex(find_job("tst"), results)
    _golden("selftest-table.tex", tex)
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    assert r"\textbf{2.000 $\pm$ 1.000 [1 div.]}" in tex


BEST_OVER_SPEC = """
id: selftest-table
paper: 004_b5b197064a80ecd0.txt
title: Best over a learning-rate axis
kind: table
task: selftest
grid:
  methods: [selftest-sgd, selftest-sgd-slow]
  datasets: [toy]
  axes: {lr: [1, 2, 5]}
scales: {smoke: {seeds: 1}, cpu: {seeds: 2}, paper: {seeds: 2}}
metrics:
  - {name: weight_error, direction: lower, format: ".2f"}
  - {name: final_loss, direction: lower, format: ".2f"}
table: {rows: method, columns: [metric], best_over: [lr], best_by: weight_error}
"""


def test_best_over_an_axis_reports_the_best_setting_whole(tmp_path, monkeypatch):
    make_project(tmp_path, monkeypatch, BEST_OVER_SPEC)
    r = tmp_path / "results"
    runs = [("selftest-sgd", 1, "ok", 3.0, 0.1), ("selftest-sgd", 1, "ok", 5.0, 0.1),
            ("selftest-sgd", 2, "ok", 1.0, 0.9), ("selftest-sgd", 2, "ok", 2.0, 0.7),  # best by weight_error
            ("selftest-sgd", 5, "diverged", 0.0, 0.0), ("selftest-sgd", 5, "diverged", 0.0, 0.0),
            ("selftest-sgd-slow", 1, "diverged", 0.0, 0.0), ("selftest-sgd-slow", 2, "failed", 0.0, 0.0)]
    for i, (method, lr, status, err, loss) in enumerate(runs):
        put(r, f"k{i}", method, i % 2, status=status, axes={"lr": lr}, weight_error=err, final_loss=loss)
    spec = find_job("selftest-table")
    table = select_best(summarize(records_frame(spec, r), spec), spec).set_index("method")
    sgd, slow = table.loc["selftest-sgd"], table.loc["selftest-sgd-slow"]
    assert (sgd.lr, sgd.selected, sgd.n_settings, sgd.n) == ("2", "lr=2", 3, 2)
    assert sgd.weight_error__mean == pytest.approx(1.5)
    assert sgd.final_loss__mean == pytest.approx(0.8)  # from lr=2, not the lower 0.1 of lr=1
    assert sgd.final_loss__std == pytest.approx(math.sqrt(0.02))
    assert (slow.n, slow.n_diverged, slow.n_failed, slow.n_settings) == (0, 1, 1, 2)
    md = render_markdown(spec, r)
    assert "| selftest-sgd      | 1.50 ± 0.71          |" in md
    assert "| selftest-sgd-slow | – [1 div., 1 failed] |" in md
    assert "- selftest-sgd / toy: lr=2 (best of 3; 2 diverged runs among them)" in md
    assert "Each cell: the best of the (lr) settings run, by mean weight_error" in md
    # the chosen settings are listed in the table's row order
    assert md.index("- selftest-sgd / toy:") < md.index("- selftest-sgd-slow / toy:")


def test_reference_rows_are_never_bolded(results, tmp_path):
    spec = find_job("tst")
    assert "**" in render_markdown(spec, results)  # the two methods are compared
    spec.raw["table"]["reference"] = ["selftest-sgd"]  # e.g. 003's "Real data" row
    assert "**" not in render_markdown(spec, results)  # one method left in each comparison: nothing to bold


def test_per_metric_uncalibrated_mark_footnotes_and_network(tmp_path, monkeypatch):
    # a calibrated FID network with uncalibrated IS: only the IS-like metric's cells carry ‡; the record's
    # footnote (why) and the network that scored it appear in the footer, once
    make_project(tmp_path, monkeypatch)
    r = tmp_path / "results"
    for key, seed in (("c0", 0), ("c1", 1)):
        store.write_json_atomic(r / "selftest-table" / key / "record.json", {
            "key": key, "axes": {}, "job": "selftest-table", "method": "selftest-sgd", "dataset": "toy", "seed": seed,
            "scale": "cpu", "status": "ok", "config": {}, "metrics": {"weight_error": 1.0 + seed, "final_loss": 0.5},
            "stand_in": True, "data_source": "fashion32", "wall_time": 1.0, "uncalibrated": False,
            "uncalibrated_metrics": ["final_loss"], "footnotes": ["IS ‡: no logits layer offline."],
            "feature_network": "TF-Inception FID network: default_1.pt"})
    text = render_markdown(find_job("tst"), r)
    assert "| 1.500 ± 0.707† |" in text and "0.500 ± 0.000†‡" in text
    assert text.count("IS ‡: no logits layer offline.") == 1 and "Feature network: TF-Inception FID network" in text
    assert "fashion32: Fashion-MNIST zero-padded to 32×32" in text


def test_records_of_an_older_configuration_are_left_out(tmp_path):
    """A cell never mixes protocols: a record whose settings the spec has since changed counts nowhere;
    one beyond the scale's default seeds, with today's settings, counts at its scale."""
    from repro.spec import expand

    spec = find_job("sig-fig3")  # a job whose runs are not shared across scales
    results = tmp_path / "results"
    runs = {r.seed: r for r in expand(spec, "cpu", datasets=["gmm-uneven"], seeds=4)}

    def write(key, run, config, modes):
        store.write_json_atomic(results / spec.id / key / store.RECORD, {
            "key": key, "job": spec.id, "method": run.method, "dataset": run.dataset, "seed": run.seed,
            "scale": "cpu", "axes": {}, "config": config, "status": "ok", "metrics": {"modes": modes}})

    write(runs[0].key, runs[0], runs[0].config, 25.0)  # today's run
    older = dict(runs[1].config, uneven={**runs[1].config["uneven"], "std": 0.2})
    write("older", runs[1], older, 3.0)  # the same seed's slot under an earlier protocol
    write(runs[3].key, runs[3], runs[3].config, 24.0)  # seed 3: beyond the scale's 2 seeds, today's settings
    write("compiled", runs[2], dict(runs[2].config, compile=True), 23.0)  # kernels only: the same run
    frame = records_frame(spec, results)
    assert sorted(frame["seed"]) == [0, 2, 3]
    assert sorted(frame["modes"]) == [23.0, 24.0, 25.0]
