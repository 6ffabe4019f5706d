"""`repro claims --json` against its schema (repro/claims/schema.json, reproduced in docs/claims.md), on the
fixed fixture and on the committed reference."""
import json
import re
import sys
from pathlib import Path

import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from claims_fixtures import write_claims, write_records  # noqa: E402

from repro import paths  # noqa: E402
from repro.claims.export import schema  # noqa: E402
from repro.cli import main  # noqa: E402


def _json(capsys, *args) -> dict:
    assert main(["claims", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_schema_is_a_valid_json_schema_and_the_docs_show_it():
    jsonschema.Draft202012Validator.check_schema(schema())
    docs = (paths.project_root() / "docs" / "claims.md").read_text()
    block = re.search(r"```json\n(.*?)```", docs, re.S)
    assert block and json.loads(block.group(1)) == schema(), "docs/claims.md: the --json schema block is stale"


def test_json_on_the_fixture(tmp_path, monkeypatch, capsys):
    write_records(tmp_path / "results")
    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("REPRO_CLAIMS", str(write_claims(tmp_path / "claims")))
    data = _json(capsys, "--no-reference")
    jsonschema.validate(data, schema())
    assert data["sources"] == ["your results"]
    claims = {c["id"]: c for c in data["claims"]}
    order = claims["fx-standin-order"]["verdicts"][0]
    assert order["verdict"] == "reproduced" and order["text"] == "reproduced on digits32 †"
    assert order["stand_in"] and order["stand_in_for"] == ["cifar10"] and order["data"] == ["digits32"]
    assert order["n"] == {"rep-gan-dk": 3, "rep-gan": 3} and 0 < order["p_value"] < 0.05
    assert order["budget_window"] == "fails at 5 steps; holds at 10" and order["steps"] == [10]
    assert [b["step"] for b in order["budgets"]] == [5, 10] and order["pipeline_run"]
    assert len(order["records"]) == 6 and all(r.startswith("kernelnet-table1/") for r in order["records"])
    assert order["shared_with"] == ["fx-standin-value"]
    no_job = claims["fx-no-job"]
    assert no_job["job"] is None and no_job["contradiction"] and no_job["verdicts"][0]["untested_reason"] == "needs-gpu"
    summary = data["summary"]["your results"]["003"]
    assert summary["claims"] == 13 and summary["verdicts"]["untested"] == sum(summary["untested"].values()) == 5
    assert summary["contradictions"] == 1


def test_schema_rejects_what_it_should(tmp_path, monkeypatch, capsys):
    """The schema is not vacuous: a verdict outside the four, or an untested verdict without its reason, fails."""
    write_records(tmp_path / "results")
    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("REPRO_CLAIMS", str(write_claims(tmp_path / "claims")))
    data = _json(capsys, "--no-reference")
    bad = json.loads(json.dumps(data))
    bad["claims"][0]["verdicts"][0]["verdict"] = "mostly reproduced"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema())
    bad = json.loads(json.dumps(data))
    eye = next(c for c in bad["claims"] if c["id"] == "fx-eye")
    eye["verdicts"][0]["untested_reason"] = None
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema())


@pytest.mark.skipif(not (paths.project_root() / "reference" / "results").is_dir(), reason="no committed reference/results")
def test_json_on_the_committed_reference(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path / "none"))
    monkeypatch.delenv("REPRO_REFERENCE", raising=False)
    monkeypatch.delenv("REPRO_CLAIMS", raising=False)
    data = _json(capsys)
    jsonschema.validate(data, schema())
    decided = [v for c in data["claims"] for v in c["verdicts"] if v["verdict"] == "reproduced"]
    # every reproduced ordering is significant at 0.05 with n >= 3 per cell
    for c in data["claims"]:
        v = c["verdicts"][0]
        if c["rule"]["kind"] in ("less_than", "greater_than", "ordering", "best_of") and v["verdict"] == "reproduced":
            assert v["p_value"] < 0.05 and min(v["n"].values()) >= 3, c["id"]
    assert decided
