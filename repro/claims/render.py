"""Verdicts as text (``repro claims``); the report's section is built from the same pieces in
repro/report/claims.py (the report reads the claims, never the other way).

``sources`` is a list of (name, verdicts) aligned claim by claim: ("your results", ...) and/or
("reference", ...); with two, every claim shows both verdicts side by side.
"""
from __future__ import annotations

import textwrap

from ..curves import step_text
from .evaluate import Verdict, summary_line
from .ledger import Claim
from .rules import UNTESTED, fmt, fmt_p

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


def rule_text(claim: Claim) -> str:
    r = dict(claim.rule)
    kind = r.pop("kind")
    if claim.declared_untested:
        return f"untested ({claim.declared_untested})" + (f" on {claim.job}" if claim.job else "")
    opts = ", ".join(f"{k} {v}" for k, v in r.items())
    return f"{kind}{f' ({opts})' if opts else ''} on {claim.job} {'/'.join(claim.metrics)}"


def group_by_paper(sources: list[tuple[str, list[Verdict]]]) -> dict[str, list[int]]:
    """Paper key -> indices of its claims, in ledger order."""
    groups: dict[str, list[int]] = {}
    for i, v in enumerate(sources[0][1]):
        groups.setdefault(paper_key(v.claim), []).append(i)
    return groups


HOW_TO_READ = ("How to read a verdict: reproduced = the claim holds at its stated significance (orderings: one-sided "
               "Welch t-test, p < 0.05, n >= 3 runs per cell; values: within the combined error); not reproduced = "
               "the opposite holds at that level; inconclusive = neither; untested (reason) = no test possible here.")


def verdict_text(v: Verdict, bold: str = "") -> str:
    """The verdict, with the scale that decided it: "not reproduced (cpu)"; untested with its reason."""
    if v.status == UNTESTED:
        return f"{bold}{v.text}{bold} ({v.untested_reason})"
    return f"{bold}{v.text}{bold}" + (f" ({v.scale})" if v.scale else "")


def steps_text(steps: list[int]) -> str:
    """The records' training lengths: "80k steps", "80k–1.6M steps"."""
    if not steps:
        return ""
    lo, hi = step_text(steps[0]), step_text(steps[-1])
    return f"{lo} steps" if lo == hi else f"{lo}–{hi} steps"


def n_text(v: Verdict) -> str:
    ns = set(v.n.values())
    return f"n = {ns.pop()} per cell" if len(ns) == 1 else "n = " + ", ".join(f"{k} {n}" for k, n in v.n.items())


def decided_text(v: Verdict) -> str:
    """What decided it: "p = 0.034 (Welch t = -2.25 (df 5.68)) at α 0.05; n = 5 per cell; trained 80k–1.6M steps"."""
    o = v.outcome
    if o is None:
        return ""
    parts = []
    if o.p_value is not None:
        parts.append(f"p = {fmt_p(o.p_value)}" + (f" ({o.statistic})" if o.statistic else "")
                     + (f" at α {o.alpha:g}" if o.alpha else ""))
    elif o.margin is not None:
        parts.append(f"margin {fmt(o.margin)}")
    parts.append(n_text(v))
    if v.steps:
        parts.append(f"trained {steps_text(v.steps)}")
    return "; ".join(parts)


def evidence_lines(v: Verdict) -> list[tuple[str, str]]:
    """(label, text) lines of one verdict's evidence, in print order."""
    out = [("evidence", e) for e in v.evidence]
    if v.reason:
        out.append(("why", v.reason))
    if v.outcome is not None:
        out += [("decided by", decided_text(v)), ("strength", v.strength)]
    if v.window:
        out.append(("by budget", v.window))
    if v.shared_with:
        out.append(("evidence shared with", ", ".join(v.shared_with)))
    return out


def distinct(sources, i: int) -> list[tuple[str, Verdict]]:
    """(" (name)", verdict) per source, or one ("", verdict) when every source has the same evidence and reason."""
    verdicts = [(name, vs[i]) for name, vs in sources]
    if len({tuple(evidence_lines(v)) for _, v in verdicts}) == 1:
        return [("", verdicts[0][1])]
    return [(f" ({name})", v) for name, v in verdicts]


def n_range(v: Verdict) -> str:
    """Runs per cell: "5", or "3–5" where the cells differ ("" without cells)."""
    ns = sorted(set(v.n.values()))
    return "" if not ns else str(ns[0]) if len(ns) == 1 else f"{ns[0]}–{ns[-1]}"


def _brief_stats(v: Verdict) -> str:
    o = v.outcome
    if o is None:
        return ""
    return ", ".join(x for x in (f"p {fmt_p(o.p_value)}" if o.p_value is not None else "", f"n {n_range(v)}") if x)


def render_text(sources: list[tuple[str, list[Verdict]]], width: int = 110, brief: bool = False) -> str:
    """Per paper: the summary line(s), then each claim with quote, rule, evidence, why, what decided it,
    the evidence's strength, the budget window, shared evidence, note and contradiction
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
            if brief:
                shown = " | ".join(
                    (f"{name}: " if len(sources) > 1 else "") + verdict_text(vs[i])
                    + (f", {_brief_stats(vs[i])}" if _brief_stats(vs[i]) else "") for name, vs in sources)
                out.append(textwrap.shorten(f"[{shown}] {claim.id}: {claim.quote}", width, placeholder="…"))
                continue
            shown = " | ".join(f"{name}: {verdict_text(vs[i])}" if len(sources) > 1 else verdict_text(vs[i])
                                      for name, vs in sources)
            out.append(f"[{shown}] {claim.id}")
            out.append(wrap(f"\"{claim.quote}\" ({claim.where})", "    "))
            out.append(wrap(f"rule: {rule_text(claim)}", "    "))
            for label, v in distinct(sources, i):
                for what, text in evidence_lines(v):
                    out.append(wrap(f"{what}{label}: {text}", "    "))
            if claim.note:
                out.append(wrap(f"note: {claim.note}", "    "))
            if claim.contradiction:
                out.append(wrap(f"contradiction in the document: {claim.contradiction}", "    "))
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def summary_lines(sources: list[tuple[str, list[Verdict]]]) -> list[str]:
    lines = []
    for key, idx in group_by_paper(sources).items():
        per = "; ".join(f"{name}: {summary_line([vs[i] for i in idx])}" for name, vs in sources)
        lines.append(f"{paper_title(key)}: {per}")
    return lines
