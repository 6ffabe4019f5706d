"""Figure plotters: a job spec's ``figure: {plot: NAME}`` names ``repro/figures/NAME.py``.

Interface (one function per module)::

    def plot(spec, frame, results_dir, out_base) -> list[Path]

``spec`` is the job's :class:`repro.spec.Spec`, ``frame`` its records as
:func:`repro.aggregate.records_frame` returns them (one row per record, with ``key`` naming the run
folder ``results_dir/<job>/<key>/``), ``out_base`` a path without suffix. The function writes
``out_base.png`` and ``out_base.pdf`` (use :func:`repro.figures.common.save_png_pdf`) and returns the
paths it wrote. Jobs without a ``figure`` entry fall back to :mod:`repro.figures.sample_grid`.
"""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Callable

import pandas as pd

FALLBACK = "sample_grid"
_NOT_PLOTS = {"common", "artifacts"}


def available() -> list[str]:
    """Names of every figure module in this package."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_") and m.name not in _NOT_PLOTS)


def get_plot(name: str) -> Callable:
    """The ``plot`` function of ``repro/figures/<name>.py``."""
    if not name or not name.replace("_", "").isalnum() or name in _NOT_PLOTS:
        raise ValueError(f"figure plot '{name}' is not a valid plot name; available: {', '.join(available())}")
    try:
        module = importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as err:
        if err.name != f"{__name__}.{name}":
            raise
        raise ValueError(f"figure plot '{name}' not found: add repro/figures/{name}.py defining "
                         f"plot(spec, frame, results_dir, out_base); available: {', '.join(available())}") from None
    if not callable(getattr(module, "plot", None)):
        raise ValueError(f"repro/figures/{name}.py has no function plot(spec, frame, results_dir, out_base)")
    return module.plot


def plot_name(spec) -> str:
    return ((spec.raw.get("figure") or {}).get("plot")) or FALLBACK


def draw(spec, frame: pd.DataFrame, results_dir: Path, out_base: Path) -> list[Path]:
    """Draw the job's figure (its spec's plot, else the sample-grid fallback); check PNG and PDF exist."""
    out_base = Path(out_base)
    out_base.parent.mkdir(parents=True, exist_ok=True)
    written = [Path(p) for p in get_plot(plot_name(spec))(spec, frame, Path(results_dir), out_base)]
    missing = [s for s in (".png", ".pdf") if not any(p.suffix == s and p.exists() for p in written)]
    if missing:
        raise ValueError(f"figure plot '{plot_name(spec)}' for {spec.id} did not write {' and '.join(missing)} "
                         f"files (expected {out_base}.png and {out_base}.pdf)")
    return written
