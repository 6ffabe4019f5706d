import copy
import textwrap

import pytest
import yaml

from repro.spec import SpecError, expand, find_job, load_spec, parse_value, run_key

from spine_helpers import SELFTEST_SPEC, make_project


def write_spec(tmp_path, raw, name="selftest-table"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.fixture
def raw():
    return yaml.safe_load(textwrap.dedent(SELFTEST_SPEC))


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r.update(titel="x"), "unknown field 'titel' (did you mean 'title'?)"),
    (lambda r: r.pop("task"), "missing required field 'task'"),
    (lambda r: r.update(kind="plot"), "kind: 'plot' is not one of table, figure"),
    (lambda r: r["grid"].update(methods=["no-such-method"]), "unknown method 'no-such-method'"),
    (lambda r: r["scales"]["cpu"].update(seeds="three"), "scales.cpu.seeds: expected int"),
    (lambda r: r["scales"].pop("paper"), "missing scale(s) paper"),
    (lambda r: r["scales"].update(huge={"seeds": 1}), "unknown scale 'huge'"),
    (lambda r: r["metrics"][0].update(direction="up"), "is not higher or lower"),
    (lambda r: r["table"].update(rows="optimizer"), "'optimizer' is not a dimension"),
    (lambda r: r["table"].update(columns=[]), "neither rows nor columns"),
    (lambda r: r["paper_values"][0].update(weight_error="about 3"), "paper_values[0].weight_error"),
    (lambda r: r["paper_values"][0].update(fid=3.0), "unknown field 'fid'"),
    (lambda r: r.update(id="other"), "must equal the file name"),
    (lambda r: r["config"].update(cost="high"), "config.cost: expected a number >= 0"),
    (lambda r: r["scales"]["cpu"].setdefault("config", {}).update(cost=-1), "scales.cpu.config.cost: expected a number"),
])
def test_validation_errors_name_file_and_field(tmp_path, raw, mutate, message):
    mutate(raw)
    with pytest.raises(SpecError) as err:
        load_spec(write_spec(tmp_path, raw))
    assert message in str(err.value)
    assert str(err.value).startswith("selftest-table.yaml")


def test_invalid_yaml_is_one_clear_error(tmp_path):
    path = tmp_path / "selftest-table.yaml"
    path.write_text("id: [unclosed\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(path)


def test_names_aliases_prefixes_and_close_matches(tmp_path, monkeypatch):
    make_project(tmp_path, monkeypatch)
    assert find_job("tst").id == "selftest-table"
    assert find_job("selftest").id == "selftest-table"  # unique prefix
    with pytest.raises(SpecError, match="unknown job 'selftset-table'; close matches: selftest-table"):
        find_job("selftset-table")


def test_grid_expansion_filters_and_seeds(tmp_path, raw):
    raw["grid"]["datasets"] = ["cifar10", "celeba160"]
    raw["grid"]["axes"] = {"lam": [-1, 1]}
    raw["table"] = {"rows": "method", "columns": ["dataset", "lam", "metric"]}
    spec = load_spec(write_spec(tmp_path, raw))
    runs = expand(spec, "smoke")
    assert len(runs) == 2 * 2 * 2 * 2
    assert len({r.key for r in runs}) == len(runs)
    only = expand(spec, "smoke", datasets=["celeba"], methods=["selftest-sgd"], seeds=3)
    assert {(r.dataset, r.method) for r in only} == {("celeba160", "selftest-sgd")}
    assert sorted({r.seed for r in only}) == [0, 1, 2]
    assert {r.config["lam"] for r in only} == {-1, 1}
    assert all(r.config["steps"] == 20 and r.config["lr"] == 0.05 for r in only)  # scale overrides config
    with pytest.raises(SpecError, match="dataset 'mnist' is not in selftest-table"):
        expand(spec, "smoke", datasets=["mnist"])
    with pytest.raises(SpecError, match="method 'selftest' is ambiguous"):
        expand(spec, "smoke", methods=["selftest"])
    with pytest.raises(SpecError, match="at least 1"):
        expand(spec, "smoke", seeds=0)


def test_run_keys_are_stable_and_sensitive(tmp_path, raw):
    spec = load_spec(write_spec(tmp_path, raw))
    keys = [r.key for r in expand(spec, "cpu")]
    # same configuration written differently (key order, flow vs block YAML) -> same keys
    reordered = dict(reversed(list(raw.items())))
    (tmp_path / "b").mkdir()
    path = tmp_path / "b" / "selftest-table.yaml"
    path.write_text(yaml.safe_dump(reordered, default_flow_style=False, sort_keys=False))
    assert [r.key for r in expand(load_spec(path), "cpu")] == keys
    # any change of the resolved configuration -> a different key
    cfg = expand(spec, "cpu")[0].config
    for k, v in [("lr", 0.051), ("steps", 41), ("seed", 7), ("recipe", {"family": "other"})]:
        changed = copy.deepcopy(cfg)
        changed[k] = v
        assert run_key(changed) != run_key(cfg)
    # the title and paper values are not part of a run's identity
    raw2 = copy.deepcopy(raw)
    raw2["title"] = "Another title"
    raw2["paper_values"] = []
    (tmp_path / "c").mkdir()
    assert [r.key for r in expand(load_spec(write_spec(tmp_path / "c", raw2)), "cpu")] == keys


@pytest.mark.parametrize("text, expected", [
    ("4.0 ± 3.08", (4.0, 3.08)), ("11.24 ± .12", (11.24, 0.12)), ("25±0", (25.0, 0.0)),
    (0.83, (0.83, None)), ([1, 2], (1.0, 2.0)), (None, (None, None)), ("1e-3 +- 2e-4", (1e-3, 2e-4)),
])
def test_parse_paper_values(text, expected):
    assert parse_value(text) == expected


def test_a_scale_may_run_a_subset_of_the_grid(tmp_path, raw):
    raw["grid"]["datasets"] = ["cifar10", "celeba160"]
    raw["grid"]["axes"] = {"lam": [-1, 0, 1]}
    raw["table"] = {"rows": "method", "columns": ["dataset", "lam", "metric"]}
    raw["scales"]["smoke"]["grid"] = {"datasets": ["cifar10"], "axes": {"lam": [1]}}
    spec = load_spec(write_spec(tmp_path, raw))
    assert {(r.dataset, r.config["lam"]) for r in expand(spec, "smoke")} == {("cifar10", 1)}
    assert len(expand(spec, "cpu")) == 2 * 2 * 3 * 3
    raw["scales"]["smoke"]["grid"] = {"axes": {"lam": [5]}}
    with pytest.raises(SpecError, match=r"scales.smoke.grid.axes.lam: must be a subset"):
        load_spec(write_spec(tmp_path, raw))


def test_a_pinned_method_runs_at_one_value_of_an_axis(tmp_path, raw):
    raw["grid"]["axes"] = {"lr_d": [1, 2], "lr_g": [1, 2, 5]}
    raw["grid"]["pin"] = {"selftest-sgd-slow": {"lr_d": 1, "lr_g": 1}}
    raw["table"] = {"rows": "method", "columns": ["metric"], "best_over": ["lr_d", "lr_g"], "best_by": "weight_error"}
    spec = load_spec(write_spec(tmp_path, raw))
    runs = expand(spec, "cpu")
    by_method = {m: {(r.config["lr_d"], r.config["lr_g"]) for r in runs if r.method == m} for m in raw["grid"]["methods"]}
    assert by_method == {"selftest-sgd": {(d, g) for d in (1, 2) for g in (1, 2, 5)}, "selftest-sgd-slow": {(1, 1)}}
    assert len(runs) == (6 + 1) * 3  # three seeds each
    raw["scales"]["smoke"]["grid"] = {"axes": {"lr_d": [2]}}
    with pytest.raises(SpecError, match=r"scales.smoke.grid.axes.lr_d: must include 1, the value grid.pin.selftest-sgd-slow"):
        load_spec(write_spec(tmp_path, raw))


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r["grid"].update(pin={"nope": {"lr": 1}}), "grid.pin: 'nope' is not a method"),
    (lambda r: r["grid"].update(pin={"selftest-sgd": {"lr": 3}}), "grid.pin.selftest-sgd.lr: 3 is not a value"),
    (lambda r: r["table"].update(columns=["metric"], best_over=["lr"]), "best_over and best_by go together"),
    (lambda r: r["table"].update(best_over=["beta"], best_by="weight_error"), "'beta' is not an axis"),
    (lambda r: r["table"].update(columns=["metric"], best_over=["lr"], best_by="fid"), "best_by: 'fid' is not a metric"),
    (lambda r: r["table"].update(columns=["lr", "metric"], best_over=["lr"], best_by="weight_error"),
     "'lr' is also a row or column"),
])
def test_pin_and_best_over_errors(tmp_path, raw, mutate, message):
    raw["grid"]["axes"] = {"lr": [1, 2]}
    raw["table"]["columns"] = ["metric", "lr"]
    mutate(raw)
    with pytest.raises(SpecError) as err:
        load_spec(write_spec(tmp_path, raw))
    assert message in str(err.value)

