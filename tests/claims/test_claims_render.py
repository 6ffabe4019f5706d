"""`repro claims` and the report's claims section: golden text from a fixed fixture, the reference fallback,
both sources side by side, corrupt reference records, and `repro reference collect`."""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from claims_fixtures import RUNS, write_claims, write_records  # noqa: E402

from repro import store  # noqa: E402
from repro.claims import verdict_sources  # noqa: E402
from repro.claims.ledger import load_claims, specs_by_id  # noqa: E402
from repro.claims.render import HOW_TO_READ, render_text  # noqa: E402
from repro.cli import main  # noqa: E402
from repro.report import markdown  # noqa: E402
from repro.report.claims import report_blocks  # noqa: E402
from repro.report.reference import collect  # noqa: E402
from PIL import Image  # noqa: E402

GOLDEN = Path(__file__).parent / "golden"
# The reference differs from "your results" in one run: there MMD-GAN-GP did not converge.
REF_RUNS = [r if r[1] != "dirac-mmd-gan-gp" else (*r[:4], {"amplitude": 0.5, "distance": 0.4}, *r[5:]) for r in RUNS]


@pytest.fixture()
def project(tmp_path, monkeypatch):
    mine, ref = tmp_path / "results", tmp_path / "reference"
    write_records(mine)
    write_records(ref / "results", REF_RUNS)
    claims = write_claims(tmp_path / "claims")
    monkeypatch.setenv("REPRO_RESULTS", str(mine))
    monkeypatch.setenv("REPRO_REFERENCE", str(ref))
    monkeypatch.setenv("REPRO_CLAIMS", str(claims))
    monkeypatch.setenv("REPRO_REPORT", str(tmp_path / "report"))
    return {"mine": mine, "ref": ref, "claims": claims, "root": tmp_path}


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("REPRO_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; review it, then regenerate with REPRO_UPDATE_GOLDEN=1"


def test_golden_text_and_report_section(project):
    sources = verdict_sources(project["mine"], project["ref"], load_claims(project["claims"]), specs_by_id())
    assert [name for name, _ in sources] == ["your results", "reference"]
    _golden("claims.txt", render_text(sources))
    _golden("claims_section.md", markdown.render(report_blocks(sources)))


def test_cli_reads_the_reference_without_results_of_your_own(project, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path / "nothing"))
    assert main(["claims"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("verdicts from: reference") and out.splitlines()[1] == HOW_TO_READ
    assert "[not reproduced (cpu)] fx-near-not" in out and "[reproduced (cpu)] fx-label-not" in out  # the reference's run


def test_cli_shows_both_side_by_side_and_filters(project, capsys):
    assert main(["claims", "slides-diracgan"]) == 0
    out = capsys.readouterr().out
    assert "[your results: not reproduced (cpu) | reference: reproduced (cpu)] fx-label-not" in out
    assert "fx-near-not" not in out
    assert main(["claims", "nonsense-word"]) == 2
    assert "no claim for 'nonsense-word'" in capsys.readouterr().err


def test_corrupt_reference_record_is_skipped_with_a_warning_naming_it(project, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path / "nothing"))
    bad = project["ref"] / "results" / "slides-diracgan" / "broken" / "record.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("{ not json")
    assert main(["claims", "--reference-only"]) == 0
    captured = capsys.readouterr()
    assert str(bad) in captured.err and "corrupt record" in captured.err
    assert "[reproduced (cpu)] fx-label-yes" in captured.out


def test_report_falls_back_to_the_reference_and_has_the_claims_section(project, tmp_path, monkeypatch):
    from repro.report.build import build_report

    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path / "nothing"))
    files = build_report(results=tmp_path / "nothing", out=tmp_path / "report",
                         only=["slides-diracgan", "repulsive-figS1", "kernelnet-fig4", "kernelnet-table1"])
    text = files.markdown.read_text()
    assert "this report shows the committed reference results" in text
    assert "## What reproduces" in text and "| `fx-near-not` | **not reproduced** (cpu) |" in " ".join(text.split())
    assert text.index("## What reproduces") < text.index("## Provenance")


def test_collect_copies_records_only_and_writes_provenance(tmp_path, capsys):
    src = tmp_path / "src"
    write_records(src, RUNS[:4])
    run = next((src / "slides-diracgan").iterdir())
    (run / "checkpoint.pt").write_bytes(b"x" * 1000)
    (run / "samples.pt").write_bytes(b"y" * 1000)
    bad = src / "slides-diracgan" / "zz-broken" / "record.json"
    bad.parent.mkdir()
    bad.write_text("{")
    n, size = collect([src], tmp_path / "ref")
    assert n == 4
    files = sorted(p.relative_to(tmp_path / "ref").as_posix() for p in (tmp_path / "ref" / "results").rglob("*"))
    assert all(f.endswith("record.json") for f in files if "." in Path(f).name)
    assert not list((tmp_path / "ref").rglob("*.pt")) and not list((tmp_path / "ref").rglob("*.pdf"))
    assert str(bad) in capsys.readouterr().err
    prov = (tmp_path / "ref" / "PROVENANCE.md").read_text()
    assert "slides-diracgan" in prov and "Size of this folder" in prov and "0123456789" in prov
    assert (tmp_path / "ref" / "report" / "README.md").exists()
    for path in (tmp_path / "ref" / "results").rglob("record.json"):
        store.read_record(path)


def test_collect_keeps_the_figures_of_jobs_it_was_given_no_runs_of(tmp_path, capsys):
    """A second collection from another job's results redraws that job's figure and leaves the first job's
    alone: its runs' artifacts are not among the sources, and a records-only redraw would lose them."""
    first, second, ref = tmp_path / "first", tmp_path / "second", tmp_path / "ref"
    write_records(first, RUNS[2:4])  # slides-diracgan
    collect([first], ref)
    figure = ref / "report" / "figures" / "slides-diracgan.png"
    assert figure.exists()
    Image.new("RGB", (7, 5), (255, 0, 0)).save(figure)  # stands for a figure drawn from the run's artifacts
    drawn = figure.read_bytes()
    write_records(second, RUNS[:2])  # repulsive-figS1
    collect([second], ref)
    assert figure.read_bytes() == drawn and (ref / "report" / "figures" / "repulsive-figS1.png").exists()
    assert "the figures of jobs with no run among the sources are kept as they were" in capsys.readouterr().err
    collect([first], ref)  # given its runs again: redrawn
    assert Image.open(figure).size != (7, 5)


def test_collect_leaves_out_records_of_an_older_configuration(tmp_path, capsys):
    """What the tables would not count is not shipped: a record whose settings the spec has changed."""
    from claims_fixtures import record

    src = tmp_path / "src"
    write_records(src, RUNS[:2])
    old = record("repulsive-figS1", "toy-mmd-rbf", "px-normal", 1, {"w1": 1.5, "w2": 0.7, "max_real_eig": -0.1})
    old["config"]["method"] = "toy-mmd-rep"  # a setting the spec now gives another value
    store.write_json_atomic(store.record_path(src, "repulsive-figS1", "older"), dict(old, key="older"))
    n, _ = collect([src], tmp_path / "ref")
    assert n == 2 and not (tmp_path / "ref" / "results" / "repulsive-figS1" / "older").exists()
    assert "left out 1 record(s) of older configurations" in capsys.readouterr().err


def test_report_with_both_points_at_the_reference(project):
    from repro.report.build import build_report

    files = build_report(results=project["mine"], out=project["root"] / "report", only=["slides-diracgan"])
    text = files.markdown.read_text()
    assert "shown beside yours" in text
    assert "| claim | verdict (your results / reference) |" in " ".join(text.split()).replace("- ", "")
    assert "| `fx-label-not` | **not reproduced** (cpu) / **reproduced** (cpu) | – | 1 | a single run, scale cpu |" \
        in " ".join(text.split())


def test_brief_is_one_line_per_claim(project, capsys):
    assert main(["claims", "--brief", "--no-reference"]) == 0
    lines = [x for x in capsys.readouterr().out.splitlines() if x.startswith("[")]
    assert len(lines) == 13 and lines[0].startswith("[not reproduced (cpu), n 1] fx-near-not: In (c)")
    assert any(x.startswith("[reproduced on digits32 † (cpu), p 2.6e-05, n 3]") and "fx-standin-order" in x for x in lines)
    assert any(x.startswith("[untested (needs-gpu)] fx-no-job") for x in lines)


def test_report_lists_claims_without_a_job_only_when_it_covers_every_job(project):
    from repro.report.build import _claims_blocks, collect as jobs_of

    jobs, _ = jobs_of(None, project["mine"], ["slides-diracgan"])
    for every_job in (False, True):
        text = markdown.render(_claims_blocks(jobs, project["mine"], False, "your results", every_job))
        assert ("`fx-no-job`" in text) == every_job and "`fx-label-yes`" in text
