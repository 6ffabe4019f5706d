"""The estimate ladder (repro.estimate_ladder): the AIS rung a claim reads, worked out on hand-made records."""
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from claims_fixtures import record  # noqa: E402

from repro import store  # noqa: E402
from repro.aggregate import estimate_rungs, footer, summarize  # noqa: E402
from repro.claims.evaluate import Frames, evaluate  # noqa: E402
from repro.claims.ledger import parse_claim, specs_by_id  # noqa: E402
from repro.claims.rules import INCONCLUSIVE, REPRODUCED  # noqa: E402
from repro.estimate_ladder import check_rungs, chosen  # noqa: E402
from repro.spec import SpecError, load_spec  # noqa: E402

LADDER = [{"metric": "nll", "doubled": "nll_doubled"},
          {"metric": "nll_doubled", "check": "nll_doubled_sub", "doubled": "nll_quadrupled_sub"}]


def test_a_rung_holds_when_doubling_moves_no_cell_beyond_its_seed_std():
    # cell a: nll seeds 90, 91, 92 (std 1): doubled mean 90.5 moves -0.5, within 1; cell b: seeds 80, 80.2, 80.4
    # (std 0.2): doubled mean 79.5 moves -0.7, beyond 0.2. Rung 2: a moves -0.1 (std of sub 0.5), b -0.15 (0.3)
    summary = pd.DataFrame([
        {"method": "a", "nll__mean": 91.0, "nll__std": 1.0, "nll_doubled__mean": 90.5,
         "nll_doubled_sub__mean": 90.0, "nll_doubled_sub__std": 0.5, "nll_quadrupled_sub__mean": 89.9},
        {"method": "b", "nll__mean": 80.2, "nll__std": 0.2, "nll_doubled__mean": 79.5,
         "nll_doubled_sub__mean": 79.0, "nll_doubled_sub__std": 0.3, "nll_quadrupled_sub__mean": 78.85}])
    first, second = check_rungs(LADDER, summary, lambda r: r["method"])
    assert not first.holds and first.moved == ["b (-0.70 against 0.20)"]
    assert second.holds and chosen([first, second]) is second
    # one seed in a cell: no std, the rung cannot be checked there and does not hold
    summary.loc[0, "nll_doubled_sub__std"] = float("nan")
    assert check_rungs(LADDER, summary, lambda r: r["method"])[1].unchecked == ["a"]
    assert chosen(check_rungs(LADDER, summary, lambda r: r["method"])) is None


def _table3_records(results, dk_shift: float, quadrupled_shift: float) -> None:
    """Three cpu seeds of every Table 3 method. nll: 90 + seed (std 1) for every method but dk, 92 + seed
    (worse); doubling moves every method by -0.5 (within 1) and dk by ``dk_shift``; the next rung's check
    (25 points, std 1) moves every method by ``quadrupled_shift``."""
    spec = load_spec(Path(__file__).parents[2] / "jobs" / "kernelnet-table3.yaml")
    for method in spec.grid["methods"]:
        for seed in range(3):
            nll = (92.0 if method == "info-ivae-dk" else 90.0) + seed
            doubled = nll + (dk_shift if method == "info-ivae-dk" else -0.5)
            metrics = {"nll": nll, "nll_doubled": doubled, "nll_doubled_sub": doubled + 1.0,
                       "nll_quadrupled_sub": doubled + 1.0 + quadrupled_shift}
            rec = record("kernelnet-table3", method, "binarized-mnist", seed, metrics)
            store.write_json_atomic(store.record_path(results, rec["job"], rec["key"]), rec)


def _dk_beats_ikl():
    return parse_claim({"id": "x", "quote": "q", "where": "w", "job": "kernelnet-table3", "metric": "nll",
                        "cells": [{"method": "info-ivae-dk"}, {"method": "info-ivae-ikl"}],
                        "rule": {"kind": "less_than"}}, "000_x.txt", "test")


def test_a_claim_reads_the_first_rung_that_holds(tmp_path):
    # dk's doubling moves it by -5 (beyond its std 1): rung 1 fails; at rung 2 (8 x 400) dk is 87 + seed,
    # ikl 89.5 + seed: dk < ikl by 2.5 with std 1 per cell (Welch t = 3.06, 4 df, one-sided p = 0.019)
    _table3_records(tmp_path, dk_shift=-5.0, quadrupled_shift=-0.2)
    (v,) = evaluate([_dk_beats_ikl()], specs_by_id(), tmp_path)
    assert v.status == REPRODUCED, v.reason
    assert "read at nll_doubled" in v.reason and "info-ivae-dk (-5.00 against 1.00)" in v.reason
    assert [c.mean for c in v.cells] == [pytest.approx(88.0), pytest.approx(90.5)]
    spec = specs_by_id()["kernelnet-table3"]
    summary = summarize(Frames(tmp_path).get(spec), spec)
    lines = [line for line in footer(spec, summary, "cpu") if line.startswith("Estimate ladder")]
    assert len(lines) == 1 and lines[0].endswith("Claims read nll_doubled.")


def test_no_rung_that_holds_decides_nothing(tmp_path):
    # the next rung's check moves every method by -1.5, beyond the 25-point std of 1: no rung holds
    _table3_records(tmp_path, dk_shift=-5.0, quadrupled_shift=-1.5)
    (v,) = evaluate([_dk_beats_ikl()], specs_by_id(), tmp_path)
    assert v.status == INCONCLUSIVE and "has not converged" in v.reason, v.reason
    spec = specs_by_id()["kernelnet-table3"]
    assert chosen(estimate_rungs(spec, summarize(Frames(tmp_path).get(spec), spec))) is None


def test_the_ladder_names_metrics_of_the_job(tmp_path):
    text = (Path(__file__).parents[2] / "jobs" / "kernelnet-table3.yaml").read_text()
    bad = tmp_path / "kernelnet-table3.yaml"
    bad.write_text(text.replace("doubled: nll_quadrupled_sub}", "doubled: nll_quadruple}"))
    with pytest.raises(SpecError, match=r"estimate_ladder\[1\]: nll_quadruple not a metric of the job"):
        load_spec(bad)
