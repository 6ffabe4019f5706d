"""Shared plotting helpers: a backend-free figure and a deterministic PNG + PDF save."""
from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from ..spec import SCALES


def largest_scale(frame) -> str:
    """The largest scale (paper > cpu > smoke) among a non-empty records frame's rows, else its first row's."""
    return next((s for s in SCALES[::-1] if s in set(frame.scale)), frame.scale.iloc[0])


def new_figure(width: float, height: float) -> Figure:
    """A matplotlib Figure not attached to pyplot (no global state, works under any backend)."""
    return Figure(figsize=(width, height), layout="constrained")


def save_png_pdf(fig: Figure, out_base: Path, dpi: int = 150) -> list[Path]:
    """Write ``out_base.png`` and ``out_base.pdf`` without time stamps, so rebuilding gives the same bytes."""
    out_base = Path(out_base)
    out_base.parent.mkdir(parents=True, exist_ok=True)
    png, pdf = out_base.with_suffix(".png"), out_base.with_suffix(".pdf")
    fig.savefig(png, dpi=dpi, metadata={"Software": None})
    fig.savefig(pdf, metadata={"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None})
    return [png, pdf]
