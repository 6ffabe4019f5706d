"""The CLI end to end on the self-test job (fast), bad input, and the Slurm parameters it would submit."""
import os
import subprocess
import sys

import pytest

from repro.cli import main
from repro.launch import make_executor, slurm_parameters

from spine_helpers import make_project


@pytest.fixture
def project(tmp_path, monkeypatch):
    return make_project(tmp_path, monkeypatch)


def records(project):
    return sorted((project / "results" / "selftest-table").glob("*/record.json"))


def test_run_debug_then_skip_then_force(project, capsys):
    assert main(["run", "tst", "--scale", "smoke", "--executor", "debug"]) == 0
    out = capsys.readouterr().out
    assert "4 to run, 0 already done" in out and "4 ok" in out
    assert len(records(project)) == 4
    assert (project / "tables" / "selftest-table.md").exists() and (project / "tables" / "selftest-table.tex").exists()
    assert main(["run", "tst", "--scale", "smoke", "--executor", "debug"]) == 0
    assert "0 to run, 4 already done" in capsys.readouterr().out
    assert main(["run", "tst", "--scale", "smoke", "--executor", "debug", "--method", "selftest-sgd-slow",
                 "--seeds", "1", "--force"]) == 0
    assert "1 to run" in capsys.readouterr().out
    assert len(list((project / "results" / "selftest-table").glob("*/record.json.replaced-*"))) == 1


def test_dry_run_runs_nothing(project, capsys):
    assert main(["run", "tst", "--scale", "cpu", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "6 to run" in out and out.count("missing") == 6
    assert not (project / "results").exists()


def test_local_executor_runs_in_subprocesses(project, capsys):
    assert main(["run", "tst", "--scale", "smoke", "--executor", "local", "--workers", "2",
                 "--method", "selftest-sgd"]) == 0
    assert "2 ok" in capsys.readouterr().out
    assert len(records(project)) == 2
    assert (project / "results" / ".submitit").is_dir()  # submitit's own logs, per launch


@pytest.mark.parametrize("argv, message", [
    (["run", "no-such-job"], "unknown job 'no-such-job'"),
    (["run", "tst", "--dataset", "cifar10"], "dataset 'cifar10' is not in selftest-table"),
    (["run", "tst", "--method", "sig"], "method 'sig' is not in selftest-table"),
    (["run", "tst", "--seeds", "0"], "--seeds must be at least 1"),
    (["show", "nosuch"], "unknown job"),
])
def test_bad_input_is_one_clear_line(project, capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("repro: error:")


def test_spec_typo_is_reported_with_file_and_field(project, capsys):
    spec = project / "jobs" / "selftest-table.yaml"
    spec.write_text(spec.read_text().replace("title:", "titel:"))
    assert main(["run", "tst"]) == 2
    assert "selftest-table.yaml: unknown field 'titel' (did you mean 'title'?)" in capsys.readouterr().err


def test_corrupt_record_survives_run_and_tables(project, capsys):
    assert main(["run", "tst", "--scale", "smoke", "--executor", "debug"]) == 0
    victim = records(project)[0]
    victim.write_text('{"key": "abc", "status": "o')  # truncated
    others = {p: p.read_text() for p in records(project) if p != victim}
    capsys.readouterr()
    assert main(["run", "tst", "--scale", "smoke", "--executor", "debug"]) == 1
    err = capsys.readouterr().err
    assert f"corrupt record {victim}" in err
    assert victim.read_text() == '{"key": "abc", "status": "o'
    assert main(["tables", "tst"]) == 0
    assert f"skipping {victim}: corrupt record" in capsys.readouterr().err
    assert {p: p.read_text() for p in records(project) if p != victim} == others
    table = (project / "tables" / "selftest-table.md").read_text()
    assert "1–2 seeds per cell" in table  # the corrupt run is left out, the rest shown


def test_list_show_status(project, capsys):
    assert main(["list"]) == 0
    assert "selftest-table  tst" in capsys.readouterr().out
    assert main(["show", "tst"]) == 0
    out = capsys.readouterr().out
    assert "smoke: 4 runs (2 seeds)" in out and "paper: 10 runs (5 seeds)" in out and "0.050 ± 0.010" in out
    assert main(["status"]) == 0 and "6 missing" in capsys.readouterr().out


def test_console_script_entry_point(project):
    out = subprocess.run([sys.executable, "-m", "repro.cli", "run", "nosuch"], capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.count("\n") == 1


def test_slurm_parameters_from_file_and_options(tmp_path):
    cfg = tmp_path / "slurm.yaml"
    cfg.write_text("partition: gpu\nmem_gb: 64\ntime_min: 600\n")
    p = slurm_parameters({"time_min": 90, "gpus_per_node": 1, "array_parallelism": 8, "partition": None}, cfg)
    assert (p["partition"], p["mem_gb"], p["time_min"], p["gpus_per_node"], p["array_parallelism"]) == ("gpu", 64, 90, 1, 8)
    cfg.write_text("partion: gpu\n")
    with pytest.raises(ValueError, match="unknown Slurm setting"):
        slurm_parameters({}, cfg)


def test_slurm_submission_script(tmp_path, monkeypatch):
    """The sbatch text the executor would submit; needs no Slurm. submitit refuses to build its
    executor without an `srun` on PATH, so a stub stands in for it (never executed here)."""
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "srun").write_text("#!/bin/sh\nexit 1\n")
    (stub / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{stub}:{os.environ.get('PATH', '')}")
    monkeypatch.setenv("REPRO_SLURM_CONFIG", str(tmp_path / "none.yaml"))
    ex = make_executor("slurm", tmp_path, slurm={"partition": "gpu", "time_min": 90, "gpus_per_node": 1,
                                                  "mem_gb": 32, "cpus_per_task": 4, "array_parallelism": 8})
    script = ex._make_submission_file_text("python -m x", "uid")
    for line in ("--partition=gpu", "--time=90", "--gpus-per-node=1", "--mem=32G", "--cpus-per-task=4",
                 "--signal=USR2@90", "--job-name=repro"):
        assert f"#SBATCH {line}" in script
    assert ex.parameters["array_parallelism"] == 8
