"""Provenance at the bottom of the report: what computed the records, and compute spent per job."""
from __future__ import annotations

from .document import Table
from .status import short_commit

HEADER = ["Job", "Records", "Compute", "repro", "Commits", "torch", "Devices"]


def duration(seconds: float) -> str:
    """"12.3 s" under a minute, else "h:mm:ss"."""
    if seconds < 59.95:
        return f"{seconds:.1f} s"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _values(records: list[dict], field: str) -> list[str]:
    return sorted({str((r.get("provenance") or {}).get(field)) for r in records if (r.get("provenance") or {}).get(field)})


def _devices(records: list[dict]) -> list[str]:
    out = set()
    for r in records:
        p = r.get("provenance") or {}
        if p.get("device"):
            out.add(f"{p['device']} ({p['device_name']})" if p.get("device_name") else str(p["device"]))
    return sorted(out)


def wall_time(records: list[dict]) -> float:
    """Sum of run wall times, every status included (failed runs cost compute too)."""
    return float(sum(r.get("wall_time") or 0.0 for r in records))


def provenance_table(jobs: list[tuple]) -> Table:
    rows, total, n = [], 0.0, 0
    for spec, records in jobs:
        if not records:
            continue
        seconds = wall_time(records)
        total, n = total + seconds, n + len(records)
        rows.append([f"`{spec.id}`", str(len(records)), duration(seconds), ", ".join(_values(records, "repro_version")) or "–",
                     ", ".join(short_commit(c) for c in _values(records, "commit")) or "–",
                     ", ".join(_values(records, "torch_version")) or "–", ", ".join(_devices(records)) or "–"])
    rows.append(["**total**", str(n), duration(total), "", "", "", ""])
    return Table(header=HEADER, rows=rows)
