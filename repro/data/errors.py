"""The errors a missing, incomplete or damaged dataset raises (one line each)."""
from __future__ import annotations

from pathlib import Path


class DatasetMissing(FileNotFoundError):
    """A dataset is not where the suite looks for it. The message names it, the place, and the fix."""

    def __init__(self, name: str, looked_in: Path | str, detail: str = "", fix: str | None = None):
        self.name = name
        self.looked_in = Path(looked_in)
        root = self.looked_in
        hint = f"; {detail}" if detail else ""
        fix = fix or (f"Prepare it with `repro data prepare {name} --root DIR` (or set REPRO_DATA / --data-root to "
                      "where it already is).")
        super().__init__(f"dataset '{name}' not found in {root}{hint}. {fix}")


class DatasetCorrupt(ValueError):
    """A dataset file is present but damaged: names the file, what is wrong and how to reinstall it."""

    def __init__(self, path: Path | str, what: str, reinstall: str):
        self.path = Path(path)
        super().__init__(f"{self.path} is damaged: {what}; {reinstall}.")
