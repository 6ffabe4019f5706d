"""The ledger against the specs, and bad input: one line naming the claim and the field."""
import textwrap

import pytest

from repro.claims.ledger import ClaimError, check_against_specs, load_claims, load_file, specs_by_id
from repro.cli import main

GOOD = """\
paper: 004_b5b197064a80ecd0.txt
claims:
  - id: ok-claim
    quote: "SIG captures all the modes"
    where: "004 Table 1"
    job: sig-table1
    metric: modes
    cells: [{method: sig}]
    rule: {kind: at_least, value: 25, every_run: true}
"""


def test_every_claim_names_an_existing_job_metric_and_cell():
    """Like the every-spec-is-valid test: the committed ledger checks out against the committed specs."""
    claims = load_claims()
    assert len(claims) >= 40
    assert check_against_specs(claims, specs_by_id()) == []
    papers = {c.paper.split("_")[0] for c in claims}
    assert papers == {"000", "001", "002", "003", "004"}
    kinds = {c.kind for c in claims}
    assert {"within_error", "less_than", "best_of", "at_least", "near", "label"} <= kinds


def _ledger(tmp_path, text):
    (tmp_path / "x.yaml").write_text(textwrap.dedent(text))
    return load_claims(tmp_path)


@pytest.mark.parametrize("old, new, field", [
    ("job: sig-table1", "job: sig-tabel1", "'job'"),
    ("metric: modes", "metric: mode", "'metric'"),
    ("cells: [{method: sig}]", "cells: [{method: sigg}]", "'cells[0].method'"),
    ("cells: [{method: sig}]", "cells: [{method: sig, size: S}]", "'cells[0].size'"),
])
def test_missing_job_metric_or_cell_is_one_line(tmp_path, old, new, field):
    claims = _ledger(tmp_path, GOOD.replace(old, new))
    problems = check_against_specs(claims, specs_by_id())
    assert len(problems) == 1 and "\n" not in problems[0]
    assert "claim 'ok-claim'" in problems[0] and f"field {field}" in problems[0]


@pytest.mark.parametrize("old, new, field", [
    ("rule: {kind: at_least, value: 25, every_run: true}", "rule: {kind: at_leest}", "'rule.kind'"),
    ("rule: {kind: at_least, value: 25, every_run: true}", "rule: {kind: at_least}", "'rule.value'"),
    ("rule: {kind: at_least, value: 25, every_run: true}", "rule: {kind: at_least, value: 25, evry_run: 1}",
     "'rule.evry_run'"),
    ("    quote: \"SIG captures all the modes\"\n", "", "'quote'"),
    ("cells: [{method: sig}]", "cells: []", "'cells'"),
    ("rule: {kind: at_least, value: 25, every_run: true}", "rule: {kind: less_than, k: 1}", "'rule.k'"),  # no SE margin
    ("rule: {kind: at_least, value: 25, every_run: true}", "rule: {kind: ks_test}", "'rule.samples'"),
    ("rule: {kind: at_least, value: 25, every_run: true}", "rule: {kind: untested, reason: no-gpu, why: x}",
     "'rule.reason'"),
    ("rule: {kind: at_least, value: 25, every_run: true}", "rule: {kind: untested, reason: needs-gpu}", "'rule.why'"),
    ("metric: modes", "metrics: [modes, hq]", "'metrics'"),  # at_least takes one metric
    ("    job: sig-table1\n", "", "'job'"),  # only an untested rule may leave out the job
])
def test_schema_errors_name_claim_and_field(tmp_path, old, new, field):
    with pytest.raises(ClaimError) as err:
        _ledger(tmp_path, GOOD.replace(old, new))
    assert "claim 'ok-claim'" in str(err.value) and f"field {field}" in str(err.value)
    assert "\n" not in str(err.value)


def test_untested_rule_needs_no_job_metric_or_cell(tmp_path):
    text = GOOD.replace("    job: sig-table1\n    metric: modes\n    cells: [{method: sig}]\n", "") \
        .replace("rule: {kind: at_least, value: 25, every_run: true}",
                 "rule: {kind: untested, reason: no-job, why: a running-time claim}\n    contradiction: a b")
    (claim,) = _ledger(tmp_path, text)
    assert claim.declared_untested == "no-job" and claim.job is None and claim.contradiction == "a b"
    assert check_against_specs([claim], specs_by_id()) == []


def test_within_error_takes_several_metrics_each_with_a_paper_value(tmp_path):
    text = GOOD.replace("metric: modes", "metrics: [modes, kl]") \
        .replace("rule: {kind: at_least, value: 25, every_run: true}", "rule: {kind: within_error}")
    assert check_against_specs(_ledger(tmp_path, text), specs_by_id()) == []
    fid_is = GOOD.replace("job: sig-table1", "job: kernelnet-table2").replace("metric: modes", "metrics: [fid, is]") \
        .replace("rule: {kind: at_least, value: 25, every_run: true}", "rule: {kind: within_error}")
    assert check_against_specs(_ledger(tmp_path, fid_is.replace("{method: sig}", "{method: cr-gan}")), specs_by_id()) == []
    problems = check_against_specs(_ledger(tmp_path, fid_is.replace("{method: sig}", "{method: cr-gan, dataset: stl10}")),
                                   specs_by_id())  # 000 prints "–" for CR-GAN on STL-10
    assert len(problems) == 1 and "metric fid" in problems[0] and "field 'rule.value'" in problems[0]


def test_duplicate_ids_are_refused(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD)
    with pytest.raises(ClaimError, match="field 'id': duplicate"):
        load_claims(tmp_path)


def test_within_error_needs_a_paper_value(tmp_path):
    text = GOOD.replace("job: sig-table1", "job: kernelnet-fig4").replace("metric: modes", "metric: ks") \
        .replace("cells: [{method: sig}]", "cells: [{dataset: laplace}]") \
        .replace("rule: {kind: at_least, value: 25, every_run: true}", "rule: {kind: within_error}")
    problems = check_against_specs(_ledger(tmp_path, text), specs_by_id())
    assert len(problems) == 1 and "field 'rule.value'" in problems[0]


def test_cli_reports_a_bad_claim_in_one_line_and_exits_2(tmp_path, capsys):
    (tmp_path / "x.yaml").write_text(GOOD.replace("metric: modes", "metric: mode"))
    assert main(["claims", "--claims-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "claim 'ok-claim'" in err[0] and "field 'metric'" in err[0]


def test_cli_check(capsys):
    assert main(["claims", "--check"]) == 0
    assert "every job, metric and cell found" in capsys.readouterr().out


def test_load_file_rejects_non_ledger(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("- just a list\n")
    with pytest.raises(ClaimError, match="x.yaml: expected 'paper"):
        load_file(path)
