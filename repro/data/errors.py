"""The one error a missing or incomplete dataset raises."""
from __future__ import annotations

from pathlib import Path


class DatasetMissing(FileNotFoundError):
    """A dataset is not where the suite looks for it. The message names it, the place, and the fix."""

    def __init__(self, name: str, looked_in: Path | str, detail: str = ""):
        self.name = name
        self.looked_in = Path(looked_in)
        root = self.looked_in
        hint = f"; {detail}" if detail else ""
        super().__init__(
            f"dataset '{name}' not found in {root}{hint}. Prepare it with "
            f"`repro data prepare {name} --root DIR` (or set REPRO_DATA / --data-root to where it already is)."
        )
