"""Local executor with --device cuda: each worker process gets its own GPU (issue 16), checked on a CPU
through the environment and device that each worker process recorded."""
import json

import pytest

from repro.cli import main
from repro.launch import gpu_sharing_note, local_gpus

from spine_helpers import make_project


@pytest.fixture
def project(tmp_path, monkeypatch):
    return make_project(tmp_path, monkeypatch)


def _provenance(project):
    return [json.loads(p.read_text())["provenance"]
            for p in sorted((project / "results" / "selftest-table").glob("*/record.json"))]


def test_each_worker_sees_its_own_gpu(project, capsys):
    # selftest never touches the device, so "cuda" is safe on a CPU; the worker still sets the environment
    code = main(["run", "tst", "--scale", "smoke", "--executor", "local", "--workers", "3", "--device", "cuda",
                 "--gpus", "0,2,3"])
    assert code == 0
    assert "GPU(s) 0, 2, 3" in capsys.readouterr().err
    seen = _provenance(project)
    assert len(seen) == 4
    assert all(p["device"] == "cuda" for p in seen)  # cuda:0 of the process = the GPU it was given
    assert {p["cuda_visible_devices"] for p in seen} <= {"0", "2", "3"}
    assert len({p["cuda_visible_devices"] for p in seen}) >= 2  # several workers ran on different GPUs


def test_more_workers_than_gpus_say_how_many_share(project, capsys):
    assert main(["run", "tst", "--scale", "smoke", "--executor", "local", "--workers", "4", "--device", "cuda",
                 "--gpus", "1,5"]) == 0
    assert "up to 2 runs share each GPU" in capsys.readouterr().err
    assert {p["cuda_visible_devices"] for p in _provenance(project)} <= {"1", "5"}


def test_gpu_choice_rules(monkeypatch):
    assert local_gpus("cpu") == [] and local_gpus("cuda:1") == []  # a pinned device is left alone
    assert local_gpus("cpu", ["0", "2"]) == ["0", "2"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,6")
    assert local_gpus("cuda") == ["4", "6"]  # round-robin over the visible ones
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    with pytest.raises(ValueError, match="no GPU is visible"):
        local_gpus("cuda")
    assert "share" not in gpu_sharing_note(["0", "1"], 2, 10)
    assert "up to 3 runs share each GPU" in gpu_sharing_note(["0", "1"], 5, 10)


def test_slurm_gpus_must_be_a_count(project, capsys):
    assert main(["run", "tst", "--scale", "smoke", "--executor", "slurm", "--gpus", "0,1"]) == 2
    assert "count of GPUs per node" in capsys.readouterr().err
