"""Job specs: load and validate ``jobs/<id>.yaml``, resolve names, expand a spec into runs.

Pure data: no torch, no model code. A run's identity is a hash of its fully resolved configuration.
"""
from __future__ import annotations

import copy
import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from . import paths

SCALES = ("smoke", "cpu", "paper")
DIRECTIONS = ("higher", "lower")
KINDS = ("table", "figure")
METHODS_FILE = paths.PACKAGE_DIR / "methods.yaml"


class SpecError(ValueError):
    """A spec, job name or filter is wrong; the message says where and what to do."""


# ----------------------------------------------------------------------------- schema
# field -> (type, required). Nested mappings are checked by their own schema below.
TOP = {
    "id": (str, True), "aliases": (list, False), "paper": (str, True), "title": (str, True),
    "kind": (str, True), "task": (str, True), "grid": (dict, True), "config": (dict, False),
    "method_config": (dict, False), "scales": (dict, True), "metrics": (list, True),
    "table": (dict, False), "paper_values": (list, False), "deviations": (list, False),
    "figure": (dict, False), "description": (str, False), "paper_n": (int, False),
}
# grid.pin: {method: {axis: value}}: a method that does not vary over an axis (e.g. the real-data row
# of a table whose losses are searched over learning rates) runs at that one value only.
GRID = {"methods": (list, True), "datasets": (list, True), "axes": (dict, False), "pin": (dict, False)}
SCALE = {"seeds": (int, True), "config": (dict, False), "dataset_substitutes": (dict, False),
         "notes": (list, False), "grid": (dict, False)}  # scale.grid: a subset of the grid (cheaper scales)
METRIC = {"name": (str, True), "label": (str, False), "direction": (str, True), "format": (str, False)}
# table.best_over: axes a cell is optimised over (003 Table 1 reports "the optimal learning rate
# combinations"): each cell shows the setting whose mean `best_by` metric is best, all its metrics with it.
# table.reference: methods shown for reference (003's "Real data" row), never bolded as the best.
# table.lead: {axis, methods}: the axis value whose `methods` agree best with the paper's values leads the
# table (repro.aggregate.lead_scores); table.claims: the paper's claims, checked per value of that axis.
# table.convergence: {metric, window, tolerance}: the footer names the cells whose seeds' `metric` still moved
# beyond ±`tolerance` over the last `window` fraction of training, a drift significant by a one-sided t-test
# against 0 at 0.05 (from the curves the records keep; repro.convergence.still_moving).
TABLE = {"rows": (str, True), "columns": (list, True), "caption": (str, False), "best_over": (list, False),
         "best_by": (str, False), "reference": (list, False), "lead": (dict, False), "claims": (list, False),
         "convergence": (dict, False), "budgets": (list, False), "estimate_ladder": (list, False)}
# table.budgets: [{step, why}]: the same runs read at these training steps of their recorded curves, each a
# table of its own after the end-of-training one (repro.aggregate.sections)
BUDGET = {"step": (int, True), "why": (str, False)}
CONVERGENCE = {"metric": (str, True), "window": (float, True), "tolerance": (float, True)}
# table.estimate_ladder: [{metric, doubled, check}]: rungs of a Monte Carlo estimate's settings, cheapest first;
# claims on the first rung's metric read the first rung whose doubling moves no cell's mean by more than its
# seed std (repro.estimate_ladder), and the footer shows the check.
RUNG = {"metric": (str, True), "doubled": (str, True), "check": (str, False)}
FIGURE = {"plot": (str, True), "caption": (str, False)}


def _check(where: str, obj: Any, schema: dict) -> None:
    if not isinstance(obj, dict):
        raise SpecError(f"{where}: expected a mapping, got {type(obj).__name__}")
    for key in obj:
        if key not in schema:
            close = difflib.get_close_matches(str(key), schema, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(schema)})"
            raise SpecError(f"{where}: unknown field '{key}'{hint}")
    for key, (typ, required) in schema.items():
        if key not in obj:
            if required:
                raise SpecError(f"{where}: missing required field '{key}'")
            continue
        value = obj[key]
        ok = isinstance(value, typ) and not (typ is int and isinstance(value, bool))
        if not ok:
            raise SpecError(f"{where}.{key}: expected {typ.__name__}, got {type(value).__name__} ({value!r})")


def parse_value(text: Any) -> tuple[float | None, float | None]:
    """A paper value as (mean, std): numbers, "4.0 ± 3.08", "11.24 ± .12", [mean, std], or null."""
    if text is None:
        return None, None
    if isinstance(text, bool):
        raise SpecError(f"paper value {text!r} is not a number")
    if isinstance(text, (int, float)):
        return float(text), None
    if isinstance(text, list) and len(text) == 2:
        return float(text[0]), float(text[1])
    if isinstance(text, str):
        m = re.fullmatch(r"\s*([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*(?:(?:±|\+-|\+/-)\s*(\d*\.?\d+(?:[eE][-+]?\d+)?))?\s*", text)
        if m:
            return float(m.group(1)), (float(m.group(2)) if m.group(2) else None)
    raise SpecError(f"paper value {text!r} is not 'mean', 'mean ± std', [mean, std] or null")


@lru_cache(maxsize=1)
def method_recipes() -> dict[str, dict]:
    """Method name -> recipe (what loss, kernel, networks, optimiser the name means). One file for all specs."""
    data = yaml.safe_load(METHODS_FILE.read_text()) or {}
    if not isinstance(data, dict):
        raise SpecError(f"{METHODS_FILE}: expected a mapping of method name -> recipe")
    return data


@dataclass
class Spec:
    path: Path
    raw: dict

    def __getattr__(self, name: str) -> Any:  # spec.id, spec.title, ...
        try:
            return self.raw[name]
        except KeyError:
            if name in TOP:
                return [] if TOP[name][0] is list else {} if TOP[name][0] is dict else None
            raise AttributeError(name) from None

    @property
    def axes(self) -> dict[str, list]:
        return self.raw["grid"].get("axes", {}) or {}

    @property
    def metric_names(self) -> list[str]:
        return [m["name"] for m in self.raw["metrics"]]

    def dims(self) -> list[str]:
        """The dimensions a run is indexed by (besides the seed)."""
        return ["method", "dataset", *self.axes]

    @property
    def best_over(self) -> list[str]:
        return list((self.raw.get("table") or {}).get("best_over") or [])

    def cell_dims(self) -> list[str]:
        """The dimensions a table cell is indexed by (besides the metric): dims() minus ``table.best_over``."""
        return [d for d in self.dims() if d not in self.best_over]


def validate(raw: Any, path: Path) -> Spec:
    where = path.name
    _check(where, raw, TOP)
    if raw["kind"] not in KINDS:
        raise SpecError(f"{where}.kind: '{raw['kind']}' is not one of {', '.join(KINDS)}")
    expected_id = path.stem
    if raw["id"] != expected_id:
        raise SpecError(f"{where}.id: '{raw['id']}' must equal the file name '{expected_id}'")
    _check(f"{where}.grid", raw["grid"], GRID)
    recipes = method_recipes()
    for m in raw["grid"]["methods"]:
        if m not in recipes:
            close = difflib.get_close_matches(str(m), recipes, n=3)
            raise SpecError(f"{where}.grid.methods: unknown method '{m}'"
                            + (f" (close: {', '.join(close)})" if close else "") + f"; methods are defined in {METHODS_FILE.name}")
    for name, values in (raw["grid"].get("axes") or {}).items():
        if not isinstance(values, list) or not values:
            raise SpecError(f"{where}.grid.axes.{name}: expected a non-empty list of values")
        if name in ("method", "dataset", "seed", "metric"):
            raise SpecError(f"{where}.grid.axes.{name}: '{name}' is reserved")
    for method, pinned in (raw["grid"].get("pin") or {}).items():
        if method not in raw["grid"]["methods"]:
            raise SpecError(f"{where}.grid.pin: '{method}' is not a method of the grid")
        if not isinstance(pinned, dict):
            raise SpecError(f"{where}.grid.pin.{method}: expected a mapping axis -> value")
        for axis, value in pinned.items():
            if value not in ((raw["grid"].get("axes") or {}).get(axis) or []):
                raise SpecError(f"{where}.grid.pin.{method}.{axis}: {value!r} is not a value of grid.axes.{axis}")
    for name, scale in raw["scales"].items():
        if name not in SCALES:
            raise SpecError(f"{where}.scales: unknown scale '{name}' (scales: {', '.join(SCALES)})")
        _check(f"{where}.scales.{name}", scale, SCALE)
        if scale["seeds"] < 1:
            raise SpecError(f"{where}.scales.{name}.seeds: must be at least 1")
        _check(f"{where}.scales.{name}.grid", scale.get("grid", {}), {"methods": (list, False), "datasets": (list, False),
                                                                   "axes": (dict, False)})
        sub = scale.get("grid", {})
        for dim in ("methods", "datasets"):
            extra = [v for v in sub.get(dim, []) if v not in raw["grid"][dim]]
            if extra:
                raise SpecError(f"{where}.scales.{name}.grid.{dim}: {extra} not in grid.{dim}")
        for axis, values in (sub.get("axes") or {}).items():
            full = (raw["grid"].get("axes") or {}).get(axis)
            if full is None or any(v not in full for v in values):
                raise SpecError(f"{where}.scales.{name}.grid.axes.{axis}: must be a subset of grid.axes.{axis}")
            methods = sub.get("methods") or raw["grid"]["methods"]
            for method, pinned in (raw["grid"].get("pin") or {}).items():
                if method in methods and axis in pinned and pinned[axis] not in values:
                    raise SpecError(f"{where}.scales.{name}.grid.axes.{axis}: must include {pinned[axis]!r}, "
                                    f"the value grid.pin.{method} runs at (or leave {method} out of its methods)")
    missing = [s for s in SCALES if s not in raw["scales"]]
    if missing:
        raise SpecError(f"{where}.scales: missing scale(s) {', '.join(missing)}")
    for i, metric in enumerate(raw["metrics"]):
        _check(f"{where}.metrics[{i}]", metric, METRIC)
        if metric["direction"] not in DIRECTIONS:
            raise SpecError(f"{where}.metrics[{i}].direction: '{metric['direction']}' is not higher or lower")
    for m in raw.get("method_config", {}) or {}:
        if m not in raw["grid"]["methods"]:
            raise SpecError(f"{where}.method_config: '{m}' is not a method of the grid")
    configs = [("config", raw.get("config")),
               *((f"method_config.{m}", c) for m, c in (raw.get("method_config") or {}).items()),
               *((f"scales.{n}.config", (sc or {}).get("config")) for n, sc in raw["scales"].items())]
    for name, cfg in configs:
        if isinstance(cfg, dict) and "converge" in cfg:
            raise SpecError(f"{where}.{name}.converge: a run's length may not be decided while it runs (float rounding "
                            "forks it between machines); fix 'steps' in the spec and read shorter budgets off the curve")
        mode = cfg.get("compile") if isinstance(cfg, dict) else None
        if isinstance(mode, str) and "autotune" in mode:
            raise SpecError(f"{where}.{name}.compile: '{mode}' picks kernels by timing them, so a recorded run would "
                            "depend on the machine's load; use compile: true (inductor's default mode) or false")
        cost = cfg.get("cost") if isinstance(cfg, dict) else None
        if cost is not None and (isinstance(cost, bool) or not isinstance(cost, (int, float)) or cost < 0):
            raise SpecError(f"{where}.{name}.cost: expected a number >= 0 (a run's time per training step, which with its "
                            f"steps orders local workers' units), got {cost!r}")
    spec = Spec(path, raw)
    dims = {"metric", *spec.dims()}
    if "table" in raw:
        _check(f"{where}.table", raw["table"], TABLE)
        shown = [raw["table"]["rows"], *raw["table"]["columns"]]
        for d in shown:
            if d not in dims:
                raise SpecError(f"{where}.table: '{d}' is not a dimension (dimensions: {', '.join(sorted(dims))})")
        sizes = {"metric": len(raw["metrics"]), "method": len(raw["grid"]["methods"]),
                 "dataset": len(raw["grid"]["datasets"]), **{a: len(v) for a, v in spec.axes.items()}}
        best_over, best_by = raw["table"].get("best_over") or [], raw["table"].get("best_by")
        for d in best_over:
            if d not in spec.axes:
                raise SpecError(f"{where}.table.best_over: '{d}' is not an axis of the grid "
                                f"(axes: {', '.join(spec.axes) or 'none'})")
            if d in shown:
                raise SpecError(f"{where}.table.best_over: '{d}' is also a row or column of the table")
        if bool(best_over) != (best_by is not None):
            raise SpecError(f"{where}.table: best_over and best_by go together (the axes to optimise over, "
                            "and the metric that picks the best setting)")
        if best_by is not None and best_by not in spec.metric_names:
            raise SpecError(f"{where}.table.best_by: '{best_by}' is not a metric of the job "
                            f"(metrics: {', '.join(spec.metric_names)})")
        conv = raw["table"].get("convergence")
        if conv is not None:
            _check(f"{where}.table.convergence", conv, CONVERGENCE)
            if conv["metric"] not in spec.metric_names:
                raise SpecError(f"{where}.table.convergence.metric: '{conv['metric']}' is not a metric of the job "
                                f"(metrics: {', '.join(spec.metric_names)})")
            if not 0 < conv["window"] < 1 or conv["tolerance"] < 0:
                raise SpecError(f"{where}.table.convergence: window must lie in (0, 1) and tolerance be >= 0, "
                                f"got {conv['window']} and {conv['tolerance']}")
        for i, rung in enumerate(raw["table"].get("estimate_ladder") or []):
            _check(f"{where}.table.estimate_ladder[{i}]", rung, RUNG)
            unknown = [m for m in rung.values() if m not in spec.metric_names]
            if unknown:
                raise SpecError(f"{where}.table.estimate_ladder[{i}]: {', '.join(unknown)} not a metric of the job "
                                f"(metrics: {', '.join(spec.metric_names)})")
        for i, budget in enumerate(raw["table"].get("budgets") or []):
            _check(f"{where}.table.budgets[{i}]", budget, BUDGET)
            if budget["step"] < 1:
                raise SpecError(f"{where}.table.budgets[{i}].step: a training step >= 1, got {budget['step']}")
        unknown = [m for m in raw["table"].get("reference") or [] if m not in raw["grid"]["methods"]]
        if unknown:
            raise SpecError(f"{where}.table.reference: {unknown} not in grid.methods")
        hidden = [d for d, n in sizes.items() if n > 1 and d not in shown and d not in best_over]
        if hidden:
            raise SpecError(f"{where}.table: dimension(s) {', '.join(hidden)} have several values but are neither "
                            "rows nor columns")
    if "figure" in raw:
        _check(f"{where}.figure", raw["figure"], FIGURE)
    allowed = set(spec.cell_dims()) | set(spec.metric_names) | {"source"}
    for i, row in enumerate(raw.get("paper_values", []) or []):
        if not isinstance(row, dict):
            raise SpecError(f"{where}.paper_values[{i}]: expected a mapping")
        for key, value in row.items():
            if key not in allowed:
                raise SpecError(f"{where}.paper_values[{i}]: unknown field '{key}' (allowed: {', '.join(sorted(allowed))})")
            if key in spec.metric_names:
                try:
                    parse_value(value)
                except SpecError as err:
                    raise SpecError(f"{where}.paper_values[{i}].{key}: {err}") from None
    return spec


def load_spec(path: Path) -> Spec:
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as err:
        raise SpecError(f"{Path(path).name}: not valid YAML: {err}".replace("\n", " ")) from None
    return validate(raw, Path(path))


def all_specs(jobs: Path | None = None) -> list[Spec]:
    jobs = jobs or paths.jobs_dir()
    return [load_spec(p) for p in sorted(Path(jobs).glob("*.yaml"))]


def job_names(jobs: Path | None = None) -> dict[str, Path]:
    """Every id and alias -> spec file, read without full validation (so one bad spec can't hide the rest)."""
    names: dict[str, Path] = {}
    for p in sorted(Path(jobs or paths.jobs_dir()).glob("*.yaml")):
        names[p.stem] = p
        try:
            raw = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError:
            continue
        for alias in (raw.get("aliases") or []) if isinstance(raw, dict) else []:
            names[str(alias)] = p
    return names


def find_job(name: str, jobs: Path | None = None) -> Spec:
    names = job_names(jobs)
    if name in names:
        return load_spec(names[name])
    prefixed = sorted({p for n, p in names.items() if n.startswith(name)})
    if len(prefixed) == 1:
        return load_spec(prefixed[0])
    close = sorted({p.stem for p in prefixed}) or difflib.get_close_matches(name, names, n=4, cutoff=0.4)
    what = "ambiguous" if len(prefixed) > 1 else "unknown"
    raise SpecError(f"{what} job '{name}'" + (f"; close matches: {', '.join(close)}" if close else "")
                    + "; `repro list` shows every job")


# ----------------------------------------------------------------------------- runs
@dataclass(frozen=True)
class Run:
    job: str
    method: str
    dataset: str
    seed: int
    scale: str
    axes: tuple  # ((name, value), ...), hashable
    config: dict = field(compare=False, hash=False)

    @property
    def key(self) -> str:
        return run_key(self.config)

    @property
    def label(self) -> str:
        ax = "".join(f" {k}={v}" for k, v in self.axes)
        return f"{self.method} · {self.dataset}{ax} · seed {self.seed}"


# How a run executes, not what it computes: not part of its identity. ``compile``: torch.compile of its
# steps; ``cost``: its time per training step, which with its steps orders local workers' units (repro.launch).
EXECUTION_ONLY_KEYS = ("compile", "cost")


def run_key(config: dict) -> str:
    """Stable identity of a fully resolved configuration (key order and YAML layout don't matter).

    ``EXECUTION_ONLY_KEYS`` are left out too: a run trained with compiled kernels is the same run, to
    float32 rounding, as one trained eagerly (tests/toy/test_toy_stacked.py), and resumes from its checkpoints."""
    config = {k: v for k, v in config.items() if k not in EXECUTION_ONLY_KEYS}
    blob = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def deep_merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in (override or {}).items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def _select(kind: str, wanted: list[str] | None, available: list, job: str, everything: list | None = None) -> list:
    """Filter grid values by exact name or unique prefix (`--dataset celeba` -> celeba160).

    Without a filter: the scale's ``available`` values. A value asked for by name may be any of the
    job's (``everything``), also one that this scale's grid leaves out: it runs with this scale's config."""
    if not wanted:
        return list(available)
    pool = list(dict.fromkeys([*available, *(everything or [])]))
    chosen = []
    for w in wanted:
        hits = [a for a in pool if str(a) == w] or [a for a in pool if str(a).startswith(w)]
        if len(hits) != 1:
            what = "ambiguous" if hits else "not in"
            raise SpecError(f"{kind} '{w}' is {what} {job} ({kind}s: {', '.join(map(str, pool))})")
        chosen.append(hits[0])
    return chosen


def substitute_for(spec: Spec, scale: str, dataset: str) -> str | None:
    """The stand-in a scale uses for ``dataset`` when its files are absent. A dataset outside the scale's
    grid takes the stand-in another non-paper scale names for it; the paper scale never substitutes."""
    own = (spec.scales[scale].get("dataset_substitutes") or {}).get(dataset)
    if own or scale == "paper" or dataset in (spec.scales[scale].get("grid") or {}).get("datasets", [dataset]):
        return own
    for other in ("cpu", "smoke"):
        found = (spec.scales.get(other, {}).get("dataset_substitutes") or {}).get(dataset)
        if found:
            return found
    return None


def expand(spec: Spec, scale: str = "cpu", methods: list[str] | None = None, datasets: list[str] | None = None,
           seeds: int | None = None, axes: dict[str, list] | None = None) -> list[Run]:
    """The runs of ``scale``; ``methods``, ``datasets`` and ``axes`` ({name: values}) pick among the job's
    values, also ones the scale's grid leaves out (they run with the scale's config)."""
    if scale not in spec.scales:
        raise SpecError(f"{spec.id} has no scale '{scale}' (scales: {', '.join(spec.scales)})")
    if seeds is not None and seeds < 1:
        raise SpecError(f"--seeds must be at least 1 (got {seeds})")
    sc = spec.scales[scale]
    n_seeds = seeds if seeds is not None else sc["seeds"]
    recipes = method_recipes()
    sub = sc.get("grid", {})
    for name, values in (axes or {}).items():
        if name not in spec.axes or not set(map(str, values)) <= set(map(str, spec.axes[name])):
            raise SpecError(f"{spec.id}: axis {name}={values} is not among the job's ({spec.axes.get(name)})")
    grid_axes = {**spec.axes, **(sub.get("axes") or {}), **(axes or {})}
    axis_grid = [()]
    for name in grid_axes:
        axis_grid = [prev + ((name, v),) for prev in axis_grid for v in grid_axes[name]]
    pins = spec.grid.get("pin") or {}
    runs = []
    for method in _select("method", methods, sub.get("methods", spec.grid["methods"]), spec.id, spec.grid["methods"]):
        pinned = pins.get(method, {})
        method_grid = [a for a in axis_grid if all(pinned.get(k, v) == v for k, v in a)]
        for dataset in _select("dataset", datasets, sub.get("datasets", spec.grid["datasets"]), spec.id,
                               spec.grid["datasets"]):
            for point in method_grid:
                for seed in range(n_seeds):
                    cfg = deep_merge(spec.config, sc.get("config", {}))
                    cfg = deep_merge(cfg, (spec.method_config or {}).get(method, {}))
                    for name, value in point:
                        cfg[name] = copy.deepcopy(value)
                    substitute = substitute_for(spec, scale, dataset)
                    cfg.update(job=spec.id, task=spec.task, method=method, recipe=copy.deepcopy(recipes[method]),
                               dataset=dataset, dataset_substitute=substitute, seed=seed, scale=scale,
                               axes={k: v for k, v in point})
                    runs.append(Run(spec.id, method, dataset, seed, scale, point, cfg))
    return runs
