"""``repro claims --json``: every claim with its verdict(s) as plain data. Schema: schema.json beside this
file (reproduced in docs/claims.md; tests/claims/test_claims_json.py validates the output against it)."""
from __future__ import annotations

import json
import math
from pathlib import Path

from .evaluate import Verdict, summary_counts, untested_counts
from .render import HOW_TO_READ, group_by_paper, paper_key

SCHEMA = Path(__file__).with_name("schema.json")
VERSION = 1


def schema() -> dict:
    return json.loads(SCHEMA.read_text())


def _num(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else float(x)


def _verdict(source: str, v: Verdict) -> dict:
    o = v.outcome
    stand_in = any(c.stand_in for c in v.cells)
    return {
        "source": source,
        "verdict": v.status,
        "text": v.text,
        "untested_reason": v.untested_reason,
        "scale": v.scale,
        "data": sorted({s for c in v.cells for s in c.data_sources}),
        "stand_in": stand_in,
        "stand_in_for": v.paper_data if stand_in else [],
        "uncalibrated": any(c.uncalibrated for c in v.cells),
        "n": v.n,
        "statistic": o.statistic if o else None,
        "p_value": _num(o.p_value) if o else None,
        "alpha": o.alpha if o else None,
        "margin": _num(o.margin) if o else None,
        "steps": v.steps,
        "budget_window": v.window,
        "budgets": [{"step": s, "verdict": st, "p_value": _num(p)} for s, st, p in v.budgets],
        "pipeline_run": v.pipeline,
        "strength": v.strength,
        "reason": v.reason,
        "evidence": v.evidence,
        "records": v.records,
        "shared_with": v.shared_with,
    }


def as_json(sources: list[tuple[str, list[Verdict]]]) -> dict:
    """{"schema_version", "how_to_read", "sources", "summary": {source: {paper: counts}}, "claims": [...]}."""
    summary = {}
    for name, verdicts in sources:
        summary[name] = {}
        for key, idx in group_by_paper(sources).items():
            vs = [verdicts[i] for i in idx]
            summary[name][key] = {"claims": len(vs), "verdicts": summary_counts(vs), "untested": untested_counts(vs),
                                  "contradictions": sum(bool(v.claim.contradiction) for v in vs)}
    claims = []
    for i, first in enumerate(sources[0][1]):
        c = first.claim
        claims.append({"id": c.id, "paper": paper_key(c), "document": c.paper, "quote": c.quote, "where": c.where,
                       "job": c.job, "metrics": c.metrics, "rule": c.rule, "scale": c.scale, "note": c.note,
                       "contradiction": c.contradiction,
                       "verdicts": [_verdict(name, vs[i]) for name, vs in sources]})
    return {"schema_version": VERSION, "how_to_read": HOW_TO_READ, "sources": [n for n, _ in sources],
            "summary": summary, "claims": claims}
