import json
import os
from pathlib import Path

import pytest

from repro import store
from repro.spec import expand, find_job
from repro.worker import execute

from spine_helpers import make_project


@pytest.fixture
def project(tmp_path, monkeypatch):
    return make_project(tmp_path, monkeypatch)


def smoke_cfg(**override):
    cfg = dict(expand(find_job("tst"), "smoke")[0].config)
    cfg.update(override)
    return cfg


def test_atomic_write_leaves_old_record_when_interrupted(tmp_path, monkeypatch):
    path = tmp_path / "r" / "record.json"
    store.write_json_atomic(path, {"a": 1})

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(KeyboardInterrupt):
        store.write_json_atomic(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in path.parent.iterdir()] == ["record.json"]  # no temp file left behind


def test_record_fields_and_skip_done(project):
    cfg = smoke_cfg()
    results = project / "results"
    out = execute(cfg, str(results))
    assert out["status"] == "ok"
    rec = store.read_record(store.record_path(results, "selftest-table", out["key"]))
    for field in ("config", "metrics", "seed", "scale", "wall_time", "steps", "status", "provenance"):
        assert field in rec
    assert rec["metrics"]["weight_error"] >= 0 and rec["steps"] == 20
    assert set(rec["provenance"]) >= {"repro_version", "commit", "torch_version", "device", "host"}
    mtime = store.record_path(results, "selftest-table", out["key"]).stat().st_mtime_ns
    assert execute(cfg, str(results))["status"] == "skipped"
    assert store.record_path(results, "selftest-table", out["key"]).stat().st_mtime_ns == mtime


def test_force_keeps_the_old_record_aside(project):
    results = project / "results"
    key = execute(smoke_cfg(), str(results))["key"]
    assert execute(smoke_cfg(), str(results), force=True)["status"] == "ok"
    folder = store.run_dir(results, "selftest-table", key)
    assert len(list(folder.glob("record.json.replaced-*"))) == 1


def test_failed_and_diverged_runs_are_recorded(project):
    results = project / "results"
    failed = execute(smoke_cfg(fail_at_step=3), str(results))
    assert failed["status"] == "failed" and "requested failure at step 3" in failed["error"]
    rec = store.read_record(store.record_path(results, "selftest-table", failed["key"]))
    assert "RuntimeError" in rec["traceback"]
    diverged = execute(smoke_cfg(diverge=True), str(results))
    assert diverged["status"] == "diverged"
    # a failed run is retried (and its old record kept aside); a diverged one is done
    assert execute(smoke_cfg(fail_at_step=3), str(results))["status"] == "failed"
    assert len(list(store.run_dir(results, "selftest-table", failed["key"]).glob("record.json.failed-*"))) == 1
    assert execute(smoke_cfg(diverge=True), str(results))["status"] == "skipped"


def test_corrupt_record_is_not_overwritten(project):
    results = project / "results"
    key = execute(smoke_cfg(), str(results))["key"]
    path = store.record_path(results, "selftest-table", key)
    path.write_text('{"key": "trunc')
    out = execute(smoke_cfg(), str(results))
    assert out["status"] == "corrupt" and "delete it or rerun with --force" in out["error"]
    assert path.read_text() == '{"key": "trunc'
    with pytest.warns(UserWarning, match="skipping .*record.json: corrupt record"):
        assert list(store.iter_records(results, "selftest-table")) == []


def test_lock_prevents_two_executions_of_one_run(project):
    results = project / "results"
    cfg = smoke_cfg()
    from repro.spec import run_key

    with store.run_lock(store.run_dir(results, "selftest-table", run_key(cfg))):
        assert execute(cfg, str(results))["status"] == "locked"
    assert not store.record_path(results, "selftest-table", run_key(cfg)).exists()


def test_kill_and_resume_gives_the_uninterrupted_result(project, worker_subprocess):
    cfg = smoke_cfg(steps=40)  # checkpoints at 10, 20, 30
    cfg_file = project / "cfg.json"
    cfg_file.write_text(json.dumps(cfg))
    interrupted, clean = project / "interrupted", project / "clean"
    killed = worker_subprocess(cfg_file, interrupted, stop_after=2)
    assert killed.returncode == 75, killed.stderr
    folder = next((interrupted / "selftest-table").iterdir())
    assert (folder / "checkpoint.pt").exists() and not (folder / "record.json").exists()
    resumed = worker_subprocess(cfg_file, interrupted)
    assert resumed.returncode == 0, resumed.stderr
    assert worker_subprocess(cfg_file, clean).returncode == 0
    a = store.read_record(folder / "record.json")
    b = store.read_record(next((clean / "selftest-table").iterdir()) / "record.json")
    assert a["resumed"] and not b["resumed"]
    assert a["metrics"] == b["metrics"]  # bit-identical: RNG state restored with the checkpoint
