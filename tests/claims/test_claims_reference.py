"""The committed reference/ folder: `repro claims` renders it, it holds records only, and it stays small."""
from pathlib import Path

import pytest

from repro import paths, store
from repro.claims.ledger import load_claims
from repro.cli import main

REFERENCE = paths.project_root() / "reference"
pytestmark = pytest.mark.skipif(not (REFERENCE / "results").is_dir(), reason="no committed reference/results")


def test_repro_claims_renders_the_committed_reference(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path / "no-results"))
    monkeypatch.delenv("REPRO_REFERENCE", raising=False)
    monkeypatch.delenv("REPRO_CLAIMS", raising=False)
    assert main(["claims"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("verdicts from: reference")
    for claim in load_claims():
        assert f"] {claim.id}\n" in out


def test_reference_holds_records_only_and_is_small():
    files = [p for p in (REFERENCE / "results").rglob("*") if p.is_file()]
    assert files and all(p.name == store.RECORD for p in files)
    for path in files:
        store.read_record(path)  # every committed record is readable
    assert not list(REFERENCE.rglob("*.pt")) and not list(REFERENCE.rglob("*.pdf"))
    size = sum(p.stat().st_size for p in REFERENCE.rglob("*") if p.is_file())
    assert size < 8 * 2**20, f"reference/ is {size / 2**20:.1f} MiB; keep it small"
    assert (REFERENCE / "PROVENANCE.md").is_file() and (REFERENCE / "report" / "README.md").is_file()
    assert Path(REFERENCE / "report" / "README.md").read_text().count("## What reproduces") == 1
