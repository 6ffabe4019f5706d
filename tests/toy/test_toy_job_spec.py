"""jobs/sig-table1.yaml expands into runs the gmm_modes task and the toy models accept, with 004's protocol,
its component-std axis and a training length fixed per std and scale."""
import pytest

from repro import paths
from repro.aggregate import leading, table_summary
from repro.core.toy import build_toy_model
from repro.spec import SpecError, expand, load_spec, run_key
from repro.tasks.gmm_modes import data_protocol, training_steps


@pytest.fixture(scope="module")
def spec():
    return load_spec(paths.project_root() / "jobs" / "sig-table1.yaml")


@pytest.mark.parametrize("scale", ["smoke", "cpu", "paper"])
def test_every_run_builds_its_model(spec, scale):
    runs = expand(spec, scale)
    grid = spec.scales[scale].get("grid") or {}
    stds = grid.get("axes", {}).get("std", spec.axes["std"])
    methods = grid.get("methods", spec.grid["methods"])
    assert len(runs) == len(methods) * len(stds) * spec.scales[scale]["seeds"]
    for run in runs:
        cfg = run.config
        assert cfg["task"] == "gmm_modes" and cfg["batch_seeds"]
        std = data_protocol(cfg)["std"]
        assert std == cfg["std"] == dict(run.axes)["std"]
        model = build_toy_model(cfg["recipe"]["family"], cfg["model"], sigma=std)
        assert callable(model.train_step) and training_steps(cfg, std) >= 1


def test_std_axis_expands_to_every_method_std_and_seed(spec):
    """Ten seeds per cell at both deciding scales; every method of a std trains the same steps, fixed here:
    the length rule (40k, 80k, 200k) at scale cpu, 8× it at scale paper."""
    for scale, lengths in (("paper", {0.2: 320000, 0.1: 640000, 0.05: 1600000}), ("cpu", {0.2: 40000})):
        runs = expand(spec, scale)
        cells = {(r.method, r.config["std"], r.seed) for r in runs}
        assert cells == {(m, s, seed) for m in ("gan", "vae", "veegan", "unrolled-gan", "sig")
                         for s in lengths for seed in range(10)}
        assert len({r.key for r in runs}) == len(cells)
        steps = {(r.method, r.config["std"]): training_steps(r.config, r.config["std"]) for r in runs}
        assert steps == {(m, s): lengths[s] for m, s in steps}
        assert {r.config["model"]["z_dim"] for r in runs} == {10}
    assert not {r.key for r in expand(spec, "cpu")} & {r.key for r in expand(spec, "paper")}


def test_cpu_runs_the_std_the_reference_leads_with(spec):
    """The cpu default runs the std that the committed reference records lead with (the footer's rule)."""
    summary = table_summary(spec, paths.reference_dir() / "results")
    assert {r.config["std"] for r in expand(spec, "cpu")} == {float(leading(spec, summary, "cpu"))} == {0.2}


def test_protocol_of_004_section_5_2_fixed_before_running(spec):
    for scale in ("cpu", "paper"):
        cfg = expand(spec, scale)[0].config
        assert cfg["eval_samples"] == 50000
        assert cfg["metric"] == {"threshold": 3.0, "min_count": 1000}
        assert cfg["data"] == {"n_per_side": 5, "spacing": 2.0}
        assert cfg["model"]["hidden"] == 100
        assert cfg["curve_every"] <= 2000 and 25000 % cfg["curve_every"] == 0  # the 25k reading is recorded
        assert cfg["compile"] is True  # inductor's default mode: no kernel chosen by timing
        assert not {"converge", "lr_decay"} & set(cfg)


@pytest.mark.parametrize("line, message", [
    ("  converge: {metric: modes, window: 0.2, tolerance: 1.0, max_factor: 8}\n",
     "config.converge: a run's length may not be decided while it runs"),
    ("  compile: max-autotune-no-cudagraphs\n", "picks kernels by timing them"),
])
def test_spec_validation_refuses_run_time_decisions(tmp_path, line, message):
    text = (paths.project_root() / "jobs" / "sig-table1.yaml").read_text()
    text = text.replace("  compile: true ", "# compile\n").replace("config:\n", "config:\n" + line, 1)
    path = tmp_path / "sig-table1.yaml"
    path.write_text(text)
    with pytest.raises(SpecError, match=message):
        load_spec(path)


def test_run_eager_sends_the_same_runs_uncompiled(tmp_path, monkeypatch):
    """`repro run sig-table1 --eager`: the cpu scale's 50 runs (the same keys) with compile off, nothing else changed."""
    import repro.launch
    from repro.cli import main

    sent = []
    monkeypatch.setattr(repro.launch, "launch", lambda cfgs, *a, **kw: sent.extend(cfgs) or iter(()))
    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("REPRO_TABLES", str(tmp_path / "tables"))
    assert main(["run", "sig-table1", "--scale", "cpu", "--eager"]) == 0
    runs = {r.key: r.config for r in expand(load_spec(paths.project_root() / "jobs" / "sig-table1.yaml"), "cpu")}
    assert len(sent) == len(runs) == 50
    assert all(c["compile"] is False and runs[run_key(c)] == dict(c, compile=True) for c in sent)
