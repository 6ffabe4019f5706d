"""repro preflight and the checks repro run makes before launching (issue 16)."""
import copy

import pytest

from repro.cli import main
from repro.preflight import CPU_BATCH, GB, Mode, cheap_problems, eval_memory, preflight
from repro.spec import all_specs, expand, find_job

LIMIT_GB = 64  # host memory a paper-scale evaluation may use here (a stated budget, not a measurement)
SHARED = {}  # what the every-job test built and stepped: each architecture once across all jobs


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_DATA", str(tmp_path / "empty-data"))
    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("REPRO_TABLES", str(tmp_path / "tables"))
    monkeypatch.setenv("REPRO_CACHE", str(tmp_path / "cache"))
    return tmp_path


@pytest.mark.parametrize("job", [s.id for s in all_specs()])
def test_every_job_at_paper_scale_builds_steps_and_evaluates(job, no_data):
    """Each distinct network built once at its real shape, two steps at batch 2, one evaluation pass,
    memory analytic: the check that would have caught the unlabelled Fig. 6/7 data and the 20 GB
    relative-KID Gram matrix before a cluster allocation."""
    rows, failures = preflight(expand(find_job(job), "paper"), "paper", quick=True, memory_limit_gb=LIMIT_GB,
                               memo=SHARED)
    assert not failures, failures
    assert rows and all(r[-1] == "ok" for r in rows)


def test_unlabelled_data_for_labelled_evaluations_fails_with_one_line(no_data):
    runs = expand(find_job("kernelnet-fig7"), "paper")
    for r in runs:  # the spec as it was before issue 16: the .amat set, which has no labels
        r.config["dataset"] = "binarized-mnist"
    rows, failures = preflight(runs, "paper", quick=True, memory_limit_gb=LIMIT_GB)
    assert len(failures) == 3 and all("svm need class labels" in f for f in failures)
    assert any("svm need class labels" in p for p in cheap_problems(runs, "paper"))


def test_evaluation_over_the_memory_limit_fails_with_that_line(no_data):
    run = expand(find_job("kernelnet-table2"), "paper", methods=["sn-gan"], datasets=["cifar10"], seeds=1)[0]
    run = copy.deepcopy(run)
    run.config["eval"] = {**run.config["eval"], "final_samples": 2_000_000}  # hand-made: 2M samples
    need = max(eval_memory(run.config, (3, 32, 32)).values())
    assert need > 20 * GB  # 2M × (2048 + 1008) float32 features alone are 24 GB
    rows, failures = preflight([run], "paper", quick=True, memory_limit_gb=16)
    assert failures == [f"sn-gan · cifar10: evaluation needs {need / GB:.1f} GB (fid) at the protocol's counts, "
                        f"over the limit of 16.0 GB"]
    assert rows[0][-1] == "FAIL"


def test_missing_dataset_steps_on_random_tensors_of_the_real_shape_and_says_so(no_data):
    runs = expand(find_job("kernelnet-table2"), "paper", methods=["sn-gan"], datasets=["celeba"], seeds=1)
    rows, failures = preflight(runs, "paper", quick=True, memory_limit_gb=LIMIT_GB)
    assert not failures
    assert "random 3×160×160 (celeba160 absent)" in rows[0][3] and "2 steps" in rows[0][3] and rows[0][2] == "2 of 64"


def test_relative_kid_memory_is_linear_in_the_real_count(no_data):
    run = expand(find_job("kernelnet-table2"), "paper", methods=["rep-gan-dk"], datasets=["cifar10"], seeds=1)[0]
    mem = eval_memory(run.config, (3, 32, 32))
    assert mem["relative_kid"] < 2 * GB  # the former dense 50,000² float64 Gram alone was 20 GB


def test_run_as_typed_chooses_a_scale_and_says_so(no_data, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["run", "table2", "--dataset", "celeba", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "repro: scale cpu (no GPU here" in out and "celeba160 on stand-in digits32 †" in out
    assert "8 runs: 8 to run" in out
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert main(["run", "table2", "--dataset", "celeba", "--dry-run"]) == 2  # paper scale: the data is absent
    captured = capsys.readouterr()
    assert "repro: scale paper (a GPU is present)" in captured.out
    assert "repro data prepare celeba --root DIR" in captured.err


def test_run_stops_before_launching_when_data_is_missing(no_data, capsys):
    assert main(["run", "table2", "--dataset", "celeba", "--scale", "paper", "--executor", "debug"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert any("dataset 'celeba160' is missing" in line and "repro data prepare celeba --root DIR" in line
               and "40 run(s) need it" in line for line in err)
    assert not list((no_data / "results").glob("**/record.json"))  # nothing launched, nothing recorded


def test_an_error_never_says_a_dataset_of_the_job_is_not_in_it(no_data, capsys):
    assert main(["run", "table2", "--dataset", "nosuch", "--scale", "cpu", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "dataset 'nosuch' is not in kernelnet-table2" in err
    assert all(d in err for d in ("cifar10", "stl10", "celeba160", "imagenet64"))
    assert len(expand(find_job("table2"), "cpu", datasets=["imagenet"])) == 8  # outside the cpu grid, still runs


def test_preflight_command_prints_one_table(no_data, capsys):
    assert main(["preflight", "table2", "--method", "rep-gan-dk", "--dataset", "cifar10", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "1 distinct configurations" in out and "rep-gan-dk · cifar10" in out and "eval GB (protocol)" in out


def test_progress_says_the_expected_time_then_one_line_per_configuration(no_data, capsys):
    runs = expand(find_job("kernelnet-table2"), "paper", methods=["sn-gan", "wgan-gp"], datasets=["cifar10"])
    memo = {}
    preflight(runs, "paper", quick=True, memory_limit_gb=LIMIT_GB, progress=True, memo=memo)
    first = capsys.readouterr().err.strip().splitlines()  # captured: not a terminal, so plain lines
    assert first[0] == ("repro preflight: 2 configurations; expected: unknown (no check of this job timed on "
                        "this host yet; the next run will say)")
    assert len(first) == 3
    for i, (line, label) in enumerate(zip(first[1:], ["sn-gan · cifar10", "wgan-gp · cifar10"]), start=1):
        assert line.startswith(f"[{i}/2, 00:") and " elapsed, ~" in line and " left] " in line  # done/total, times
        assert f"] {label}: ok; batch 2 of 64; " in line and line.endswith(" s)")  # what, and its seconds
    preflight(runs, "paper", quick=True, memory_limit_gb=LIMIT_GB, progress=True, memo=memo)
    again = capsys.readouterr().err.strip().splitlines()
    assert again[0].startswith("repro preflight: 2 configurations; expected: about 00:")  # from the cache now
    assert "(each check's time at its last run here)" in again[0] and len(again) == 3


def test_each_default_cpu_check_runs_at_the_batch_the_table_states(no_data, monkeypatch):
    from repro.core.image_gan import ImageGAN
    from repro.tasks import ivae

    assert Mode.resolve("cpu", None, quick=False, full=False) == Mode(CPU_BATCH, one_update=True, steps=1)
    assert Mode.resolve("cpu", None, quick=False, full=True).batch is None  # --full: the job's batch
    assert Mode.resolve("cuda", None, quick=False, full=False).batch is None  # a GPU: the job's batch
    seen = []
    step, train_model = ImageGAN.train_step, ivae.train_model

    def spy_step(self, next_real, z_gen):
        def real():
            x = next_real()
            seen[-1].append(x.shape[0])
            return x
        seen.append([])
        return step(self, real, z_gen)

    def spy_train(model, x, cfg, ctx):
        seen.append([cfg["train"]["batch_size"]])
        return train_model(model, x, cfg, ctx)

    monkeypatch.setattr(ImageGAN, "train_step", spy_step)
    monkeypatch.setattr(ivae, "train_model", spy_train)
    runs = expand(find_job("kernelnet-table2"), "paper", methods=["sn-gan", "smmd-gan"], datasets=["cifar10"])
    runs += expand(find_job("kernelnet-fig7"), "paper")[:1]
    rows, failures = preflight(runs, "paper", memory_limit_gb=LIMIT_GB)
    assert not failures and len(rows) == len(seen) == 3
    for row, batches in zip(rows, seen):
        stated, job = row[2].split(" of ")
        assert set(batches) == {int(stated)} == {min(CPU_BATCH, int(job))}, (row[0], row[2], batches)
    assert [len(b) for b in seen[:2]] == [2, 2]  # one step: one D update and one G update, each on a real batch
