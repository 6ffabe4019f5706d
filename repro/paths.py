"""Where the suite finds its job specs and writes results, tables and the report.

The project root is ``$REPRO_HOME`` when set, else the checkout this package lives in (an editable
install), else the current directory.
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    if os.environ.get("REPRO_HOME"):
        return Path(os.environ["REPRO_HOME"]).expanduser().resolve()
    if (PACKAGE_DIR.parent / "jobs").is_dir():
        return PACKAGE_DIR.parent
    return Path.cwd()


def jobs_dir() -> Path:
    return Path(os.environ.get("REPRO_JOBS", project_root() / "jobs"))


def results_dir() -> Path:
    return Path(os.environ.get("REPRO_RESULTS", project_root() / "results"))


def tables_dir() -> Path:
    return Path(os.environ.get("REPRO_TABLES", project_root() / "tables"))


def seeds_dir() -> Path:
    return project_root().parent / "shared" / "seeds"


def report_dir() -> Path:
    return Path(os.environ.get("REPRO_REPORT", project_root() / "report"))


def claims_dir() -> Path:
    return Path(os.environ.get("REPRO_CLAIMS", project_root() / "claims"))


def reference_dir() -> Path:
    """The committed reference results: ``<ref>/results/<job>/<key>/record.json``, ``<ref>/report/``."""
    return Path(os.environ.get("REPRO_REFERENCE", project_root() / "reference"))
