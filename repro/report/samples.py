"""Sample grids: image-GAN runs save a fixed-noise 8×8 grid ``samples_step<N>.png`` at each evaluation;
the report shows the last one per method and dataset.

Choice per (method, dataset): the largest scale present (paper > cpu > smoke), then runs that ended
`ok`, then the highest step, then the lowest seed, so rebuilding picks the same file.
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from .. import store
from ..aggregate import STAND_IN_MARK
from ..figures.artifacts import last_sample_grid
from ..spec import SCALES


@dataclass(frozen=True)
class SampleGrid:
    method: str
    dataset: str
    scale: str
    seed: int
    step: int
    source: Path  # the PNG in the run folder
    axes: tuple = ()  # ((name, value), ...) of the run shown, when the job has extra axes
    stand_in: str | None = None  # the stand-in data set the run used instead of `dataset`

    @property
    def caption(self) -> str:
        ax = "".join(f", {k}={v}" for k, v in self.axes)
        mark = f" {STAND_IN_MARK} stand-in data: {self.stand_in}" if self.stand_in else ""
        return f"{self.method} · {self.dataset} ({self.scale}, seed {self.seed}, step {self.step}{ax}){mark}"


def _rank(rec: dict, step: int) -> tuple:
    scale = SCALES.index(rec["scale"]) if rec.get("scale") in SCALES else -1
    return (scale, rec["status"] == "ok", step, -int(rec.get("seed") or 0))


def last_grids(results: Path, job: str, records: list[dict]) -> list[SampleGrid]:
    best: dict[tuple[str, str], tuple[tuple, SampleGrid]] = {}
    for rec in records:
        found = last_sample_grid(rec.get("artifacts") or [])
        if not found:
            continue
        name, step = found
        source = store.run_dir(results, job, rec["key"]) / name
        if not source.is_file():
            continue
        cell = (str(rec["method"]), str(rec["dataset"]))
        rank = _rank(rec, step)
        if cell not in best or rank > best[cell][0]:
            best[cell] = (rank, SampleGrid(cell[0], cell[1], str(rec.get("scale")), int(rec.get("seed") or 0), step,
                                           source, tuple(sorted((rec.get("axes") or {}).items())),
                                           str(rec.get("data_source")) if rec.get("stand_in") else None))
    return [grid for _, grid in sorted(best.values(), key=lambda item: (item[1].method, item[1].dataset))]


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "x"


def copy_grid(grid: SampleGrid, out: Path, job: str) -> str:
    """Copy into ``<out>/samples/<job>/<method>__<dataset>.png``; return the path relative to ``out``."""
    rel = Path("samples") / safe_name(job) / f"{safe_name(grid.method)}__{safe_name(grid.dataset)}.png"
    (out / rel).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(grid.source, out / rel)
    return rel.as_posix()
