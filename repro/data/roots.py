"""Where datasets live: ``--data-root`` > ``$REPRO_DATA`` > ``~/.cache/repro/data``."""
from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "REPRO_DATA"
DEFAULT_DATA_ROOT = Path("~/.cache/repro/data")


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data folder: ``root`` when given (the CLI's ``--data-root``), else ``$REPRO_DATA``, else the cache."""
    if root is not None and str(root) != "":
        return Path(root).expanduser()
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    return DEFAULT_DATA_ROOT.expanduser()
