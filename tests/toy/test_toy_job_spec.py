"""jobs/sig-table1.yaml expands into runs the gmm_modes task and the toy models accept, with 004's protocol,
its component-std axis, and runs shared between the cpu and paper scales."""
import pytest

from repro import paths
from repro.aggregate import leading, table_summary
from repro.core.toy import build_toy_model
from repro.spec import expand, load_spec
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
    # veegan-z2 is pinned to std 0.2 (one cell per seed), the other methods cross every std of the scale
    cells = (len(methods) - ("veegan-z2" in methods)) * len(stds) + ("veegan-z2" in methods)
    assert len(runs) == cells * spec.scales[scale]["seeds"]
    for run in runs:
        cfg = run.config
        assert cfg["task"] == "gmm_modes" and cfg["batch_seeds"]
        std = data_protocol(cfg)["std"]
        assert std == cfg["std"] == dict(run.axes)["std"]
        model = build_toy_model(cfg["recipe"]["family"], cfg["model"], sigma=std)
        assert callable(model.train_step) and training_steps(cfg, std) >= 1


def test_std_axis_expands_to_every_method_std_and_seed(spec):
    runs = expand(spec, "paper")
    cells = {(r.method, r.config["std"], r.seed) for r in runs}
    assert cells == ({(m, s, seed) for m in ("gan", "vae", "veegan", "unrolled-gan", "sig")
                      for s in (0.2, 0.1, 0.05) for seed in range(5)}
                     | {("veegan-z2", 0.2, seed) for seed in range(5)})
    steps = {r.config["std"]: training_steps(r.config, r.config["std"]) for r in runs}
    assert steps == {0.2: 40000, 0.1: 80000, 0.05: 200000}
    assert len({r.key for r in runs}) == 80
    z_dims = {r.method: r.config["model"]["z_dim"] for r in runs}
    assert z_dims["veegan-z2"] == 2 and {z_dims[m] for m in z_dims if m != "veegan-z2"} == {10}


def test_cpu_runs_are_the_paper_runs_at_the_leading_std(spec):
    """The cpu default runs the std that the committed reference records lead with (the footer's rule)."""
    cpu, paper = expand(spec, "cpu"), expand(spec, "paper")
    summary = table_summary(spec, paths.reference_dir() / "results")
    assert {r.config["std"] for r in cpu} == {float(leading(spec, summary, "cpu"))} == {0.2}
    assert {r.key for r in cpu} <= {r.key for r in paper}


def test_protocol_of_004_section_5_2(spec):
    cfg = expand(spec, "paper")[0].config
    assert cfg["eval_samples"] == 50000
    assert cfg["metric"] == {"threshold": 3.0, "min_count": 1000}
    assert cfg["data"] == {"n_per_side": 5, "spacing": 2.0}
    assert cfg["model"]["hidden"] == 100
    assert cfg["lr_decay"] == {"at": 0.9, "factor": 0.1}
    assert cfg["converge"] == {"metric": "modes", "window": 0.2, "tolerance": 1.0, "max_factor": 8}
    assert spec.scales["paper"]["seeds"] == 5
