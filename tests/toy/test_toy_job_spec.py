"""jobs/sig-table1.yaml expands into runs the gmm_modes task and the toy models accept, with 004's protocol."""
import pytest

from repro import paths
from repro.core.toy import build_toy_model
from repro.spec import expand, load_spec


@pytest.fixture(scope="module")
def spec():
    return load_spec(paths.project_root() / "jobs" / "sig-table1.yaml")


@pytest.mark.parametrize("scale", ["smoke", "cpu", "paper"])
def test_every_run_builds_its_model(spec, scale):
    runs = expand(spec, scale)
    assert len(runs) == 5 * spec.scales[scale]["seeds"]
    for run in runs:
        cfg = run.config
        assert cfg["task"] == "gmm_modes"
        model = build_toy_model(cfg["recipe"]["family"], cfg["model"], sigma=cfg["data"]["std"])
        assert callable(model.train_step) and cfg["steps"] >= 1


def test_protocol_of_004_section_5_2(spec):
    cfg = expand(spec, "paper")[0].config
    assert cfg["eval_samples"] == 50000
    assert cfg["metric"] == {"threshold": 3.0, "min_count": 1000}
    assert cfg["data"] == {"n_per_side": 5, "spacing": 2.0, "std": 0.05}
    assert cfg["model"]["hidden"] == 100
    assert spec.scales["paper"]["seeds"] == 5
