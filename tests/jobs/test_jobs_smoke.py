"""Every job spec in jobs/ is valid and runs end to end at scale smoke; the default job through the CLI.

Per job, CI runs seed 0 of the first dataset and first hyper-parameter setting for the first and the last
method of the grid (only the first for image GANs, whose smoke run still trains conv nets and runs
Inception on CPU; each method's components have their own tests in tests/image_gan); sig-table1 runs
its whole smoke grid through `repro run` with the debug and the local executor.
"""
from __future__ import annotations

import importlib
import json

import pytest

from repro import paths, store
from repro.aggregate import render_markdown
from repro.cli import main
from repro.spec import SCALES, expand, load_spec
from repro.worker import execute

JOBS = sorted(paths.jobs_dir().glob("*.yaml"))
# jobs that read another job's records run after it (sig-fig2 draws sig-table1's saved samples)
AFTER = {"sig-fig2": "sig-table1"}
ORDER = sorted((p.stem for p in JOBS), key=lambda j: (j in AFTER, j))


def test_the_jobs_folder_holds_the_papers_tables_and_figures():
    ids = {p.stem for p in JOBS}
    assert {"sig-table1", "kernelnet-table1", "kernelnet-table2", "kernelnet-table3"} <= ids


@pytest.mark.skipif(not paths.seeds_dir().is_dir(), reason="../shared/seeds not found: this check needs the documents")
@pytest.mark.parametrize("path", JOBS, ids=[p.stem for p in JOBS])
def test_spec_names_a_document_of_the_seeds(path):
    spec = load_spec(path)
    assert (paths.seeds_dir() / spec.paper).exists(), f"{spec.id}: paper {spec.paper} is not in ../shared/seeds"


@pytest.mark.parametrize("path", JOBS, ids=[p.stem for p in JOBS])
def test_spec_is_valid_and_its_task_exists(path):
    spec = load_spec(path)
    assert set(spec.scales) == set(SCALES)
    task = importlib.import_module(f"repro.tasks.{spec.task}")
    assert callable(task.run)
    for scale in SCALES:
        assert expand(spec, scale), f"{spec.id} has no runs at scale {scale}"
    if spec.kind == "table":
        assert spec.paper_values, f"{spec.id}: a table job carries the paper's values"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return tmp_path_factory.mktemp("smoke") / "results"


def representative_runs(spec):
    runs = expand(spec, "smoke", seeds=1)
    first = runs[0]
    same_cell = [r for r in runs if r.dataset == first.dataset and r.axes == first.axes]
    methods = list(dict.fromkeys(r.method for r in same_cell))
    keep = {methods[0]} if spec.task == "image_gan" else {methods[0], methods[-1]}
    return [r for r in same_cell if r.method in keep]


@pytest.mark.parametrize("job", ORDER)
def test_job_runs_at_smoke_scale(results, job):
    spec = load_spec(paths.jobs_dir() / f"{job}.yaml")
    for run in representative_runs(spec):
        out = execute(run.config, str(results))
        assert out["status"] in ("ok", "diverged"), f"{job} {run.label}: {out}"
        rec = store.read_record(store.record_path(results, job, out["key"]))
        assert rec["scale"] == "smoke" and rec["provenance"]["torch_version"]
        if rec["status"] == "ok" and spec.kind == "table":
            missing = [m for m in spec.metric_names if m not in rec["metrics"]]
            assert not missing, f"{job} {run.label}: record lacks {missing}"
        json.dumps(rec)  # records are plain JSON
    assert "## Scale `smoke`" in render_markdown(spec, results)


@pytest.mark.parametrize("executor", ["debug", "local"])
def test_default_job_end_to_end_through_the_cli(tmp_path, monkeypatch, capsys, executor):
    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("REPRO_TABLES", str(tmp_path / "tables"))
    assert main(["run", "sig-table1", "--scale", "smoke", "--executor", executor, "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "15 to run" in out and "15 ok" in out  # 5 methods × 3 seeds
    table = (tmp_path / "tables" / "sig-table1.md").read_text()
    for label in ("Modes", "Proportion of high quality samples", "KL", "4.0 ± 3.08", "25 ± 0"):
        assert label in table
    assert "–" not in table.split("## Scale `smoke`")[1].split("\n- ")[0].replace("| –", "")  # every cell filled
    assert main(["run", "sig-table1", "--scale", "smoke", "--executor", executor]) == 0
    assert "0 to run, 15 already done" in capsys.readouterr().out


def test_readme_job_catalogue_matches_the_specs():
    """README's job table lists every job with its run counts per scale, as `repro run` would expand them."""
    readme = (paths.jobs_dir().parent / "README.md").read_text()
    listed = {}
    for line in readme.split("## Jobs", 1)[1].split("\n## ", 1)[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`"):
            listed[cells[0].strip("`")] = cells[5]
    want = {}
    for path in JOBS:
        spec = load_spec(path)
        want[spec.id] = " / ".join(str(len(expand(spec, s))) for s in SCALES)
    assert listed == want
