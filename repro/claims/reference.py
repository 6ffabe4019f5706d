"""Where the committed reference results are (``reference/``) and whether a results folder has records.

Layout::

    reference/results/<job>/<key>/record.json   records only: no checkpoints, samples or artifacts
    reference/report/README.md + figures/*.png   the report generated from them (with their artifacts)
    reference/PROVENANCE.md                      where, when, at which commits, how long, how big

Collecting them (``repro reference collect``) builds a report, so it lives with the report
(repro/report/reference.py): the claims never import the report.
"""
from __future__ import annotations

from pathlib import Path

from .. import paths, store

RESULTS, REPORT, PROVENANCE = "results", "report", "PROVENANCE.md"


def reference_results(reference: Path | None = None) -> Path:
    return Path(reference or paths.reference_dir()) / RESULTS


def has_records(results: Path, jobs: set[str] | None = None) -> bool:
    results = Path(results)
    if not results.is_dir():
        return False
    return any(jobs is None or p.parent.parent.name in jobs for p in results.glob(f"*/*/{store.RECORD}"))
