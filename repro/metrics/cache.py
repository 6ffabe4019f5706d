"""The user cache folder of the metrics: ``$REPRO_CACHE`` or ``~/.cache/repro`` (as the data root's parent)."""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    base = Path(os.environ.get("REPRO_CACHE", "~/.cache/repro")).expanduser()
    return base.joinpath(*parts)
