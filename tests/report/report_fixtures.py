"""Hand-made records for the report tests: a table job with known deltas and a stand-in cell, a
figure job whose runs saved sample grids, a job without records and an invalid spec."""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
from PIL import Image

from repro import store

TABLE_SPEC = """
id: rpt-table
paper: 004_b5b197064a80ecd0.txt
title: Mode capture (hand-made records)
kind: table
task: gmm_modes
grid: {methods: [gan, sig], datasets: [gmm-grid, cifar10]}
config: {steps: 10}
scales:
  smoke: {seeds: 3}
  cpu: {seeds: 3, dataset_substitutes: {cifar10: digits}}
  paper: {seeds: 5}
metrics:
  - {name: modes, label: Modes, direction: higher, format: ".1f"}
  - {name: kl, label: KL, direction: lower, format: ".2f"}
table: {rows: method, columns: [dataset, metric]}
paper_values:
  - {method: gan, dataset: gmm-grid, modes: "4.0 ± 3.08", kl: "2.87 ± 0.78"}
  - {method: sig, dataset: gmm-grid, modes: "25±0", kl: "0.14±0.07"}
  - {method: gan, dataset: cifar10, modes: 5.0}
deviations: ["Hand-made records for the report tests."]
"""

FIGURE_SPEC = """
id: rpt-figure
paper: 003_7a8fbd72eaf5e754.txt
title: Samples (hand-made records)
kind: figure
task: gmm_modes
grid: {methods: [gan, sig], datasets: [mnist]}
scales:
  smoke: {seeds: 2}
  cpu: {seeds: 2}
  paper: {seeds: 2}
metrics:
  - {name: fid, label: FID, direction: lower}
deviations: ["Grids drawn by the test, not by a model."]
"""

EMPTY_SPEC = """
id: rpt-empty
paper: 000_d6941531641dbbe7.txt
title: Nothing run yet
kind: table
task: gmm_modes
grid: {methods: [vae], datasets: [gmm-grid]}
scales: {smoke: {seeds: 1}, cpu: {seeds: 1}, paper: {seeds: 1}}
metrics: [{name: kl, direction: lower}]
"""

INVALID_SPEC = "id: rpt-zbroken\npaper: x.txt\n"

# (method, dataset, seed, status, metrics, stand_in, wall_time)
TABLE_RUNS = [
    ("gan", "gmm-grid", 0, "ok", {"modes": 3, "kl": 2.0}, False, 10.0),
    ("gan", "gmm-grid", 1, "ok", {"modes": 4, "kl": 2.5}, False, 11.0),
    ("gan", "gmm-grid", 2, "ok", {"modes": 8, "kl": 3.0}, False, 12.0),
    ("sig", "gmm-grid", 0, "ok", {"modes": 25, "kl": 0.1}, False, 20.0),
    ("sig", "gmm-grid", 1, "ok", {"modes": 25, "kl": 0.2}, False, 21.0),
    ("sig", "gmm-grid", 2, "ok", {"modes": 25, "kl": 0.3}, False, 22.0),
    ("sig", "gmm-grid", 3, "diverged", {}, False, 5.0),
    ("gan", "cifar10", 0, "ok", {"modes": 6, "kl": 1.0}, True, 30.0),
    ("gan", "cifar10", 1, "ok", {"modes": 7, "kl": 1.5}, True, 31.0),
    ("sig", "cifar10", 0, "failed", {}, True, 1.0),
]
COMMIT = "0123456789abcdef0123456789abcdef01234567-dirty"


def record(job: str, method: str, dataset: str, seed: int, status: str, metrics: dict, stand_in: bool,
           wall: float, scale: str = "cpu", artifacts: list[str] | None = None, minute: int = 0) -> dict:
    key = f"{job}-{method}-{dataset}-{scale}-{seed}"
    return {
        "key": key, "job": job, "method": method, "dataset": dataset,
        "data_source": "digits" if stand_in else dataset, "stand_in": stand_in, "uncalibrated": False,
        "seed": seed, "scale": scale, "axes": {}, "config": {"job": job, "seed": seed}, "status": status,
        "metrics": metrics, "steps": 10, "notes": [], "error": None if status == "ok" else "test",
        "wall_time": wall, "started_at": f"2026-01-02T03:{minute:02d}:00+00:00",
        "finished_at": f"2026-01-02T04:{minute:02d}:00+00:00",
        "provenance": {"repro_version": "0.1.0", "commit": COMMIT, "torch_version": "2.0.0", "device": "cpu",
                       "device_name": "x86_64", "host": "testhost"},
        "artifacts": artifacts or [],
    }


def grid_png(path: Path, colour: tuple[int, int, int]) -> None:
    """A small stand-in for an 8×8 sample grid: solid colour with a checker pattern."""
    pixels = np.zeros((32, 32, 3), dtype=np.uint8) + np.array(colour, dtype=np.uint8)
    pixels[::8, :, :] = 255
    Image.fromarray(pixels).save(path)


def make_project(root: Path, monkeypatch) -> dict:
    jobs, results = root / "jobs", root / "results"
    jobs.mkdir(parents=True)
    for name, text in [("rpt-table", TABLE_SPEC), ("rpt-figure", FIGURE_SPEC), ("rpt-empty", EMPTY_SPEC),
                       ("rpt-zbroken", INVALID_SPEC)]:
        (jobs / f"{name}.yaml").write_text(textwrap.dedent(text))
    for i, (method, dataset, seed, status, metrics, stand_in, wall) in enumerate(TABLE_RUNS):
        rec = record("rpt-table", method, dataset, seed, status, metrics, stand_in, wall, minute=i)
        store.write_json_atomic(store.record_path(results, "rpt-table", rec["key"]), rec)
    colours = {"gan": (200, 30, 30), "sig": (30, 30, 200)}
    for method in ("gan", "sig"):
        for seed in (0, 1):
            names = ["samples_step100.png", "samples_step200.png", "loss.png"]
            rec = record("rpt-figure", method, "mnist", seed, "ok", {"fid": 50.0 + seed}, method == "sig", 100.0,
                         scale="smoke", artifacts=names, minute=20 + seed)
            folder = store.run_dir(results, "rpt-figure", rec["key"])
            folder.mkdir(parents=True, exist_ok=True)
            for step_index, name in enumerate(names):
                shade = tuple(min(255, c + 20 * step_index + 10 * seed) for c in colours[method])
                grid_png(folder / name, shade)
            store.write_json_atomic(folder / store.RECORD, rec)
    monkeypatch.setenv("REPRO_JOBS", str(jobs))
    monkeypatch.setenv("REPRO_RESULTS", str(results))
    monkeypatch.setenv("REPRO_TABLES", str(root / "tables"))
    monkeypatch.setenv("REPRO_REPORT", str(root / "report"))
    return {"jobs": jobs, "results": results, "out": root / "report"}
