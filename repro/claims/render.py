"""Verdicts as text (``repro claims``) and as report blocks (``repro report``, one section per paper).

``sources`` is a list of (name, verdicts) aligned claim by claim: ("your results", ...) and/or
("reference", ...); with two, every claim shows both verdicts side by side.
"""
from __future__ import annotations

import textwrap

from ..report.document import Bullets, Heading, Para
from .evaluate import Verdict, summary_line
from .ledger import Claim

PAPERS = {
    "000": "KernelNet: data-dependent kernels (000)",
    "001": "Kernel distances for deep generative models, talk (001)",
    "002": "Kernel distances, talk (002)",
    "003": "Repulsive MMD-GAN loss (003)",
    "004": "Semi-implicit generator, SIG (004)",
}


def paper_key(claim: Claim) -> str:
    return claim.paper.split("_")[0]


def paper_title(key: str) -> str:
    return PAPERS.get(key, key)


def _rule_text(claim: Claim) -> str:
    r = dict(claim.rule)
    kind = r.pop("kind")
    opts = ", ".join(f"{k} {v}" for k, v in r.items() if k not in ("reason", "figure"))
    metric = "/".join(claim.metrics) if claim.metrics else "figure"
    return f"{kind}{f' ({opts})' if opts else ''} on {claim.job} {metric}"


def group_by_paper(sources: list[tuple[str, list[Verdict]]]) -> dict[str, list[int]]:
    """Paper key -> indices of its claims, in ledger order."""
    groups: dict[str, list[int]] = {}
    for i, v in enumerate(sources[0][1]):
        groups.setdefault(paper_key(v.claim), []).append(i)
    return groups


def _verdict(v: Verdict, bold: str = "") -> str:
    """The verdict, with the scale that decided it: "not reproduced (cpu)"."""
    decided = v.scale and v.status != "untested"
    return f"{bold}{v.text}{bold}" + (f" ({v.scale})" if decided else "")


def _distinct(sources, i: int) -> list[tuple[str, Verdict]]:
    """(" (name)", verdict) per source, or one ("", verdict) when every source has the same evidence and reason."""
    verdicts = [(name, vs[i]) for name, vs in sources]
    if len({(tuple(v.evidence), v.reason) for _, v in verdicts}) == 1:
        return [("", verdicts[0][1])]
    return [(f" ({name})", v) for name, v in verdicts]


def render_text(sources: list[tuple[str, list[Verdict]]], width: int = 110, brief: bool = False) -> str:
    """Per paper: the summary line(s), then each claim with quote, rule, evidence, why and note
    (``brief``: one line per claim)."""
    out: list[str] = []
    wrap = lambda text, indent: textwrap.fill(text, width, initial_indent=indent, subsequent_indent=indent + "  ")  # noqa: E731
    for key, idx in group_by_paper(sources).items():
        out.append(f"== {paper_title(key)}")
        for name, verdicts in sources:
            out.append(f"   {name}: {summary_line([verdicts[i] for i in idx])}")
        out.append("")
        for i in idx:
            claim = sources[0][1][i].claim
            verdict_text = " | ".join(f"{name}: {_verdict(vs[i])}" if len(sources) > 1 else _verdict(vs[i])
                                      for name, vs in sources)
            if brief:
                out.append(textwrap.shorten(f"[{verdict_text}] {claim.id}: {claim.quote}", width, placeholder="…"))
                continue
            out.append(f"[{verdict_text}] {claim.id}")
            out.append(wrap(f"\"{claim.quote}\" ({claim.where})", "    "))
            out.append(wrap(f"rule: {_rule_text(claim)}", "    "))
            for label, v in _distinct(sources, i):
                for line in v.evidence:
                    out.append(wrap(f"evidence{label}: {line}", "    "))
                if v.reason:
                    out.append(wrap(f"why{label}: {v.reason}", "    "))
            if claim.note:
                out.append(wrap(f"note: {claim.note}", "    "))
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def summary_lines(sources: list[tuple[str, list[Verdict]]]) -> list[str]:
    lines = []
    for key, idx in group_by_paper(sources).items():
        per = "; ".join(f"{name}: {summary_line([vs[i] for i in idx])}" for name, vs in sources)
        lines.append(f"{paper_title(key)}: {per}")
    return lines


def report_blocks(sources: list[tuple[str, list[Verdict]]]) -> list:
    """The report's "What reproduces" part: a summary line per paper, then a section per paper."""
    if not sources or not sources[0][1]:
        return []
    names = " and ".join(f"**{n}**" for n, _ in sources)
    blocks: list = [Heading(2, "What reproduces"),
                    Para(f"Every claim of the ledger (`claims/*.yaml`) with the verdict computed from {names} by "
                         "`repro claims`: reproduced · not reproduced · inconclusive (too few seeds, overlapping "
                         "errors) · untested (no records, a scale or dataset this machine lacks, or judged by eye). "
                         "A verdict on stand-in data (†) or with an uncalibrated extractor (‡) reads \"on <stand-in>\" "
                         "and is never counted as reproduced for the paper's dataset."),
                    Bullets(summary_lines(sources))]
    for key, idx in group_by_paper(sources).items():
        blocks.append(Heading(3, paper_title(key)))
        blocks.append(Para(" · ".join(f"{name}: {summary_line([vs[i] for i in idx])}" for name, vs in sources) + "."))
        items = []
        for i in idx:
            claim = sources[0][1][i].claim
            verdict_text = "; ".join(f"{name}: {_verdict(vs[i], '**')}" if len(sources) > 1 else _verdict(vs[i], "**")
                                     for name, vs in sources)
            parts = [f"`{claim.id}` {verdict_text}: \"{claim.quote}\" ({claim.where}); rule {_rule_text(claim)}."]
            for label, v in _distinct(sources, i):
                if v.evidence:
                    parts.append(f"Evidence{label}: " + "; ".join(v.evidence) + ".")
                if v.reason:
                    parts.append(f"Why{label}: {v.reason}.")
            if claim.note:
                parts.append(f"Note: {claim.note}")
            items.append(" ".join(parts))
        blocks.append(Bullets(items))
    return blocks
