"""Verdicts from hand-made records: every status, the scale rules, stand-in data never 'reproduced'."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from claims_fixtures import record, write_claims, write_records  # noqa: E402

from repro.claims.evaluate import evaluate, summary_counts, summary_line  # noqa: E402
from repro.claims.ledger import load_claims, specs_by_id  # noqa: E402
from repro.claims.rules import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, UNTESTED  # noqa: E402



@pytest.fixture()
def verdicts(tmp_path):
    write_records(tmp_path / "results")
    claims = load_claims(write_claims(tmp_path / "claims"))
    return {v.claim.id: v for v in evaluate(claims, specs_by_id(), tmp_path / "results")}


def test_each_status(verdicts):
    assert verdicts["fx-near-yes"].status == REPRODUCED
    assert verdicts["fx-near-not"].status == NOT_REPRODUCED
    assert verdicts["fx-label-yes"].status == REPRODUCED
    assert verdicts["fx-label-not"].status == NOT_REPRODUCED
    assert verdicts["fx-ks"].status == REPRODUCED  # at most 0.05, a round number: both runs pass
    ks = verdicts["fx-ks-test"]  # the KS critical value for 10,000 samples, 0.01356: the run at 0.0139 fails it
    assert ks.status == NOT_REPRODUCED and "1 of 2 runs above it" in ks.reason
    assert verdicts["fx-one-seed"].status == INCONCLUSIVE and "too few runs" in verdicts["fx-one-seed"].reason
    assert verdicts["fx-missing"].status == UNTESTED and "no records" in verdicts["fx-missing"].reason
    assert verdicts["fx-missing"].untested_reason == "no-records"
    assert verdicts["fx-eye"].status == UNTESTED and "by eye" in verdicts["fx-eye"].reason
    assert verdicts["fx-eye"].untested_reason == "by-eye"
    no_job = verdicts["fx-no-job"]
    assert no_job.status == UNTESTED and no_job.untested_reason == "needs-gpu" and "wall-clock" in no_job.reason
    paper = verdicts["fx-paper-scale"]
    assert paper.status == UNTESTED and "needs scale paper" in paper.reason and paper.evidence
    assert paper.untested_reason == "below-scale"


def test_stand_in_is_never_reproduced_for_the_papers_dataset(verdicts):
    order = verdicts["fx-standin-order"]  # rep-gan-dk 81 ± 1.4 vs rep-gan 96 ± 1.4 on digits32
    assert order.status == REPRODUCED and order.text == "reproduced on digits32 †"
    assert order.strength == ("3 runs per cell, scale cpu, a short pipeline run, on stand-in data, "
                              "evidence shared with 1 other claim(s)")  # kernelnet-table1 calls its cpu scale one
    assert order.shared_with == ["fx-standin-value"]  # rep-gan-dk's records decide both
    assert order.counts_as == "reproduced on stand-in"
    assert any("stand-in for cifar10" in e and "†" in e for e in order.evidence)
    value = verdicts["fx-standin-value"]  # a comparison with the paper's number on a stand-in is not made
    assert value.status == UNTESTED and "not comparable" in value.reason and value.untested_reason == "no-data"
    counts = summary_counts(list(verdicts.values()))
    assert counts["reproduced"] == 3 and counts["reproduced on stand-in"] == 1


def test_summary_line_counts_untested_by_reason_and_contradictions(verdicts):
    line = summary_line(list(verdicts.values()))
    assert line == ("3 of 13 claims reproduced · 1 reproduced on stand-in · 3 not reproduced · 1 inconclusive · "
                    "5 untested (1 no-records, 1 below-scale, 1 no-data, 1 needs-gpu, 1 by-eye) · "
                    "1 self-contradiction noted")


def test_ordering_evaluated_at_each_budget(verdicts):
    """The stand-in order holds at the records' final step (10) and fails at step 5 where every run's curve
    has the opposite order; p at each budget is the one-sided Welch p of the values at that step."""
    from scipy import stats

    order = verdicts["fx-standin-order"]
    assert [(s, st) for s, st, _ in order.budgets] == [(5, NOT_REPRODUCED), (10, REPRODUCED)]
    assert order.window == "fails at 5 steps; holds at 10"
    early = stats.ttest_ind([100.0, 101.0, 99.0], [90.0, 91.0, 89.0], equal_var=False, alternative="less").pvalue
    assert order.budgets[0][2] == pytest.approx(early)
    assert order.steps == [10]


def test_smoke_records_do_not_decide(tmp_path):
    write_records(tmp_path / "results", scale="smoke")
    claims = load_claims(write_claims(tmp_path / "claims"))
    v = {v.claim.id: v for v in evaluate(claims, specs_by_id(), tmp_path / "results")}
    assert v["fx-near-yes"].status == UNTESTED and "pipeline check" in v["fx-near-yes"].reason


def test_largest_scale_wins_and_diverged_runs_are_inconclusive(tmp_path):
    results = tmp_path / "results"
    runs = [("slides-diracgan", "dirac-wgan", "dirac", 0, {"amplitude": 0.0}, False, None)]
    write_records(results, runs, scale="smoke")   # would say "converges"
    write_records(results, [("slides-diracgan", "dirac-wgan", "dirac", 0, {"amplitude": 2.0}, False, None)])  # cpu
    claims = load_claims(write_claims(tmp_path / "claims"))
    v = {v.claim.id: v for v in evaluate(claims, specs_by_id(), results)}
    assert v["fx-label-yes"].status == REPRODUCED and v["fx-label-yes"].scale == "cpu"
    from repro import store
    rec = record("slides-diracgan", "dirac-mmd-gan-gp", "dirac", 0, {}, status="diverged")
    store.write_json_atomic(store.record_path(results, "slides-diracgan", rec["key"]), rec)
    v = {v.claim.id: v for v in evaluate(claims, specs_by_id(), results)}
    assert v["fx-label-not"].status == INCONCLUSIVE and "1 diverged" in v["fx-label-not"].reason


def test_best_over_cell_is_the_best_learning_rate_pair(tmp_path):
    """003 reports the best of the learning-rate pairs: the claim's cell is that setting, as in the table."""
    from repro import store
    from repro.claims.ledger import parse_claim
    from repro.claims.evaluate import evaluate_claim, Frames

    results = tmp_path / "results"
    runs = [("mmd-rep-16", 0.0001, 0.0001, [30.0, 31.0, 30.5]), ("mmd-rep-16", 0.0002, 0.0001, [20.0, 21.0, 20.5]),
            ("mmd-rep-1", 0.0001, 0.0001, [25.0, 26.0, 25.5]), ("mmd-rep-1", 0.0002, 0.0001, [40.0, 41.0, 40.5])]
    i = 0
    for method, lr_d, lr_g, fids in runs:
        for seed, fid in enumerate(fids):
            rec = record("repulsive-tableS5", method, "cifar10", seed, {"fid": fid, "is": 5.0},
                         axes={"lr_d": lr_d, "lr_g": lr_g}, minute=i)
            rec["key"] = f"k{i}"
            i += 1
            store.write_json_atomic(store.record_path(results, "repulsive-tableS5", rec["key"]), rec)
    claim = parse_claim({"id": "x", "quote": "q", "where": "w", "job": "repulsive-tableS5", "metric": "fid",
                         "cells": [{"method": "mmd-rep-16"}, {"method": "mmd-rep-1"}], "rule": {"kind": "less_than"}},
                        "003_x.txt", "test")
    v = evaluate_claim(claim, specs_by_id()["repulsive-tableS5"], Frames(results))
    assert v.status == REPRODUCED  # best 20.5 (lr_d 2e-4) vs best 25.5 (lr_d 1e-4)
    assert "mmd-rep-16 fid = 20.5" in v.evidence[0] and "mmd-rep-1 fid = 25.5" in v.evidence[1]


def test_per_metric_uncalibrated_flag_is_honoured(tmp_path):
    """A record may mark single metrics uncalibrated (``uncalibrated_metrics``): those verdicts carry ‡."""
    from repro import store
    from repro.claims.evaluate import Frames, _stats

    results = tmp_path / "results"
    rec = record("kernelnet-table1", "rep-gan-dk", "cifar10", 0, {"fid": 30.0, "is": 6.0})
    rec["uncalibrated_metrics"] = ["is"]
    store.write_json_atomic(store.record_path(results, "kernelnet-table1", rec["key"]), rec)
    frame = Frames(results).get(specs_by_id()["kernelnet-table1"])
    if "uncalibrated_metrics" not in frame:
        frame["uncalibrated_metrics"] = [tuple(rec["uncalibrated_metrics"])]  # before the aggregator carries it
    assert _stats(frame, "is", "x", "cpu", "kernelnet-table1").uncalibrated
    assert not _stats(frame, "fid", "x", "cpu", "kernelnet-table1").uncalibrated


def _sig_table1_records(results, finals: dict, gan_rise: float) -> None:
    """Three seeds per method at std 0.2 (paper scale) ending at ``finals[method] + seed`` modes; GAN seeds had
    ``gan_rise`` fewer modes at 80 % of training (their mean moved by ``gan_rise`` over the last 20 %)."""
    from repro import paths, store
    from repro.spec import expand, load_spec

    spec = load_spec(paths.project_root() / "jobs" / "sig-table1.yaml")
    for run in expand(spec, "paper", seeds=3):
        if run.config["std"] != 0.2 or run.method not in finals:
            continue
        final = finals[run.method] + run.seed
        curve = [{"step": s, "modes": final - (gan_rise if run.method == "gan" and s == 256000 else 0.0)}
                 for s in (64000, 128000, 192000, 256000, 320000)]
        store.write_json_atomic(results / run.job / run.key / store.RECORD, {
            "key": run.key, "job": run.job, "method": run.method, "dataset": run.dataset, "seed": run.seed,
            "scale": run.scale, "axes": dict(run.axes), "config": run.config, "status": "ok",
            "metrics": {"modes": final, "hq": 0.5, "kl": 1.0}, "curve": curve, "steps": 320000})


def _modes_claim(kind, *methods):
    from repro.claims.ledger import parse_claim

    return parse_claim({"id": "x", "quote": "q", "where": "w", "job": "sig-table1", "metric": "modes",
                        "cells": [{"method": m, "std": 0.2} for m in methods], "rule": {"kind": kind}},
                       "004_x.txt", "test")


@pytest.mark.parametrize("rise, status", [(-1.0, REPRODUCED), (2.0, INCONCLUSIVE)])
def test_a_cell_still_moving_at_its_last_budget_decides_nothing(tmp_path, rise, status):
    """GAN seeds whose mean modes moved by exactly -1.0 over the last 20 % (within the footer's ±1: settled)
    or by +2.0 (still moving): SIG > GAN is reproduced, or inconclusive naming the moving cell."""
    _sig_table1_records(tmp_path, {"sig": 22.0, "gan": 10.0}, rise)
    (v,) = evaluate([_modes_claim("greater_than", "sig", "gan")], specs_by_id(), tmp_path)
    assert v.status == status, v.reason
    if status == INCONCLUSIVE:
        assert "gan · 0.2 (+2.0 modes over the last 20%; every seed +2)" in v.reason


def test_a_settled_cell_still_refutes_a_best_of_beside_a_moving_one(tmp_path):
    """SIG best of (SIG, GAN, VAE): VAE, settled, has significantly more modes than SIG, so the claim fails
    whatever the moving GAN cell would do."""
    _sig_table1_records(tmp_path, {"sig": 20.0, "gan": 10.0, "vae": 22.0}, 2.0)
    (v,) = evaluate([_modes_claim("best_of", "sig", "gan", "vae")], specs_by_id(), tmp_path)
    assert v.status == NOT_REPRODUCED and "decide nothing; among the settled cells" in v.reason
    assert "gan" not in v.reason.split("among the settled cells")[1]
