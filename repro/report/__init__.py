"""``repro report``: status board, tables beside the paper's with Δ, figures, sample grids, provenance.

Import-light on purpose (the CLI imports this package for every command); the work is in build.py.
"""
from __future__ import annotations

from .cli import add_parser


def build_report(*args, **kwargs):
    """See :func:`repro.report.build.build_report`."""
    from .build import build_report as _build

    return _build(*args, **kwargs)


__all__ = ["add_parser", "build_report"]
