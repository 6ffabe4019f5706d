"""What reproduces: the claims ledger (``claims/*.yaml``), verdicts computed from records, reference results.

Reads records only; never trains. Flow: spec -> runs -> records -> tables -> **claims**.
Import-light (the CLI imports it for every command); the work is in ledger, rules, evaluate, render, reference.
"""
from __future__ import annotations

from .cli import add_parser


def verdict_sources(results, reference=None, claims=None, specs=None, on_corrupt=None, jobs=None,
                    results_label: str = "your results"):
    """[(name, verdicts)]: from ``results`` if it has records, and from the reference folder if it has
    (``reference=False``: never); with neither, ``results`` alone (every claim untested).
    ``jobs`` restricts which jobs count as having records."""
    from pathlib import Path

    from .evaluate import evaluate
    from .ledger import load_claims, specs_by_id
    from .reference import has_records, reference_results

    specs = specs if specs is not None else specs_by_id()
    claims = claims if claims is not None else load_claims()
    sources = []
    if has_records(Path(results), jobs):
        sources.append((results_label, evaluate(claims, specs, Path(results), on_corrupt)))
    if reference is not False:
        ref = reference_results(reference)
        if has_records(ref, jobs) and Path(ref).resolve() != Path(results).resolve():
            sources.append(("reference", evaluate(claims, specs, ref, on_corrupt)))
    if not sources:
        sources.append((results_label, evaluate(claims, specs, Path(results), on_corrupt)))
    return sources


__all__ = ["add_parser", "verdict_sources"]
