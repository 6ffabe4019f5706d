"""The report's "What reproduces" part: per-paper counts, then per paper a table a reader can scan
(claim, verdict, p or margin, n, strength of evidence) and the details (quote, why, notes).

The report reads the claims (records -> tables -> claims -> report); nothing in repro.claims imports this.
"""
from __future__ import annotations

from ..claims.evaluate import Verdict, summary_line
from ..claims.render import (HOW_TO_READ, distinct, evidence_lines, group_by_paper, n_range, paper_title,
                             rule_text, summary_lines, verdict_text)
from ..claims.rules import fmt, fmt_p
from .document import Bullets, Heading, Para, Table


def _p_or_margin(v: Verdict) -> str:
    o = v.outcome
    if o is None or (o.p_value is None and o.margin is None):
        return "–"
    return f"p {fmt_p(o.p_value)}" if o.p_value is not None else f"margin {fmt(o.margin)}"


def _n(v: Verdict) -> str:
    return "–" if v.status == "untested" else n_range(v) or "–"


def _strength(v: Verdict) -> str:
    return "–" if v.status == "untested" else v.strength


COLUMNS = [("verdict", lambda v: verdict_text(v, "**")), ("p / margin", _p_or_margin), ("n", _n),
           ("evidence", _strength), ("by budget", lambda v: v.window or "–")]


def _table(sources: list[tuple[str, list[Verdict]]], idx: list[int]) -> Table:
    """One row per claim; with two sources a cell shows "yours / reference" where they differ."""
    columns = [c for c in COLUMNS if c[0] != "by budget" or any(vs[i].window for _, vs in sources for i in idx)]
    tag = f" ({' / '.join(name for name, _ in sources)})" if len(sources) > 1 else ""
    rows = []
    for i in idx:
        row = [f"`{sources[0][1][i].claim.id}`"]
        for _, show in columns:
            values = [show(vs[i]) for _, vs in sources]
            row.append(values[0] if len(set(values)) == 1 else " / ".join(values))
        rows.append(row)
    return Table(["claim"] + [name + tag for name, _ in columns], rows)


def report_blocks(sources: list[tuple[str, list[Verdict]]]) -> list:
    """A summary line per paper, then a section per paper: the scannable table and the details."""
    if not sources or not sources[0][1]:
        return []
    names = " and ".join(f"**{n}**" for n, _ in sources)
    blocks: list = [Heading(2, "What reproduces"),
                    Para(f"Every claim of the ledger (`claims/*.yaml`) with the verdict computed from {names} by "
                         f"`repro claims`. {HOW_TO_READ} A verdict on stand-in data (†) or with an uncalibrated "
                         "extractor (‡) reads \"on <stand-in>\" and is never counted as reproduced for the paper's "
                         "dataset."),
                    Bullets(summary_lines(sources))]
    for key, idx in group_by_paper(sources).items():
        blocks.append(Heading(3, paper_title(key)))
        blocks.append(Para(" · ".join(f"{name}: {summary_line([vs[i] for i in idx])}" for name, vs in sources) + "."))
        blocks.append(_table(sources, idx))
        items = []
        for i in idx:
            claim = sources[0][1][i].claim
            parts = [f"`{claim.id}`: \"{claim.quote}\" ({claim.where}); rule {rule_text(claim)}."]
            for label, v in distinct(sources, i):
                parts += [f"{what.capitalize()}{label}: {text}." for what, text in evidence_lines(v)
                          if what not in ("strength", "by budget")]  # those two are in the table
            if claim.note:
                parts.append(f"Note: {claim.note}")
            if claim.contradiction:
                parts.append(f"Contradiction in the document: {claim.contradiction}")
            items.append(" ".join(parts))
        blocks.append(Bullets(items))
    return blocks
