"""The status board: per job and scale, runs ok / diverged / failed against the planned grid, and the
date and commit of the newest record."""
from __future__ import annotations

from collections import Counter

from ..spec import SCALES, SpecError, expand
from .document import Table

HEADER = ["Job", "Kind", "Scale", "OK", "Diverged", "Failed", "Planned", "Newest record", "Commit"]


def short_date(stamp: str | None) -> str:
    """ISO time stamp -> "2026-11-22 14:40 UTC" (records are written in UTC)."""
    if not stamp:
        return "–"
    day, _, time = str(stamp).partition("T")
    return f"{day} {time[:5]} UTC" if time else day


def short_commit(commit: str | None) -> str:
    if not commit:
        return "–"
    sha, dirty = (commit[:-6], "-dirty") if commit.endswith("-dirty") else (commit, "")
    return f"`{sha[:10]}{dirty}`"


def newest(records: list[dict]) -> dict | None:
    dated = [r for r in records if r.get("finished_at")]
    return max(dated, key=lambda r: (r["finished_at"], r["key"])) if dated else None


def _planned(spec, scale: str) -> str:
    try:
        return str(len(expand(spec, scale)))
    except SpecError:
        return "?"


def status_rows(spec, records: list[dict]) -> list[list[str]]:
    """One row per scale that has records (paper first), or one 'no records' row."""
    by_scale: dict[str, list[dict]] = {}
    for rec in records:
        by_scale.setdefault(str(rec.get("scale")), []).append(rec)
    if not by_scale:
        return [[f"`{spec.id}`", spec.kind, "–", "0", "0", "0", "–", "no records", "–"]]
    order = [s for s in SCALES[::-1] if s in by_scale] + sorted(s for s in by_scale if s not in SCALES)
    rows = []
    for scale in order:
        recs = by_scale[scale]
        counts = Counter(r["status"] for r in recs)
        last = newest(recs)
        rows.append([f"`{spec.id}`", spec.kind, scale, str(counts["ok"]), str(counts["diverged"]),
                     str(counts["failed"]), _planned(spec, scale) if scale in SCALES else "?",
                     short_date(last and last.get("finished_at")),
                     short_commit(last and (last.get("provenance") or {}).get("commit"))])
    return rows


def status_table(jobs: list[tuple], invalid: list[tuple[str, str]]) -> Table:
    """``jobs``: (spec, records) pairs; ``invalid``: (file stem, error) of specs that failed validation."""
    rows = [row for spec, records in jobs for row in status_rows(spec, records)]
    rows += [[f"`{stem}`", "invalid spec", "–", "–", "–", "–", "–", error, "–"] for stem, error in invalid]
    return Table(header=HEADER, rows=rows)
