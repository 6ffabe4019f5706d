"""Finding image artifacts in run folders: fixed-noise sample grids are saved as ``samples_step<N>.png``."""
from __future__ import annotations

import re
from pathlib import Path

SAMPLE_GRID = re.compile(r"samples_step(\d+)\.png")


def sample_step(name: str) -> int | None:
    """The training step of a sample-grid file name, or None if the name is not ``samples_step<N>.png``."""
    m = SAMPLE_GRID.fullmatch(Path(name).name)
    return int(m.group(1)) if m else None


def last_sample_grid(names) -> tuple[str, int] | None:
    """(name, step) of the sample grid with the highest step among file names, or None."""
    steps = [(sample_step(n), n) for n in names]
    steps = [(s, n) for s, n in steps if s is not None]
    if not steps:
        return None
    step, name = max(steps)
    return name, step


def newest_png(folder: Path) -> Path | None:
    """The last sample grid of a run folder; without one, the most recently written PNG (name breaks ties)."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    pngs = sorted(p for p in folder.glob("*.png") if not p.name.startswith("."))
    if not pngs:
        return None
    grid = last_sample_grid(p.name for p in pngs)
    if grid:
        return folder / grid[0]
    return max(pngs, key=lambda p: (p.stat().st_mtime, p.name))
