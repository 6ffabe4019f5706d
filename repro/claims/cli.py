"""``repro claims [PAPER|JOB|CLAIM ...] [--brief|--json|--check]`` (registered by repro.cli)."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def _warn(message: str) -> None:
    print(f"repro: warning: {message}", file=sys.stderr)


def _select(claims, specs, words: list[str]):
    """Claims of the named papers (000…004 or the seed file), jobs (id or alias) or claim ids."""
    from ..spec import SpecError, find_job

    if not words:
        return claims
    chosen = []
    for word in words:
        hits = [c for c in claims if c.paper.split("_")[0] == word or c.paper == word or c.id == word]
        if not hits:
            try:
                job = find_job(word).id
            except SpecError:
                job = None
            hits = [c for c in claims if job and c.job == job]
        if not hits:
            raise ValueError(f"no claim for '{word}': name a paper (000, 001, 002, 003, 004), a job or a claim id "
                             "(`repro claims` lists them all)")
        chosen += [c for c in hits if c not in chosen]
    return chosen


def cmd_claims(args) -> int:
    from . import verdict_sources
    from .ledger import ClaimError, check_against_specs, load_claims, specs_by_id
    from .render import HOW_TO_READ, render_text

    try:
        claims = load_claims(args.claims_dir)
    except ClaimError as err:
        print(f"repro: error: {err}", file=sys.stderr)
        return 2
    specs = specs_by_id()
    problems = check_against_specs(claims, specs)
    for line in problems:
        print(f"repro: error: {line}", file=sys.stderr)
    if problems:
        return 2
    if args.check:
        print(f"claims: {len(claims)} claims in {len({c.paper for c in claims})} files, every job, metric and cell found")
        return 0
    chosen = _select(claims, specs, args.which)
    sources = verdict_sources(args.results, None if not args.no_reference else False, claims, specs, _warn)
    keep = [i for i, c in enumerate(claims) if c in chosen]  # evaluated together: shared evidence spans the ledger
    sources = [(name, [vs[i] for i in keep]) for name, vs in sources]
    if args.reference_only:
        sources = [s for s in sources if s[0] == "reference"] or sources
    if args.json:
        from .export import as_json

        print(json.dumps(as_json(sources), indent=1, ensure_ascii=False))
        return 0
    names = {"your results": f"your results ({args.results})", "reference": "reference (committed, reference/)"}
    print("verdicts from: " + "; ".join(names.get(n, n) for n, _ in sources))
    print(HOW_TO_READ + "\n")
    print(render_text(sources, brief=args.brief), end="")
    return 0


def add_parser(subparsers) -> None:
    s = subparsers.add_parser("claims", help="every claim of the five documents with its verdict and evidence")
    s.add_argument("which", nargs="*", help="only these papers (000…004), jobs or claim ids")
    s.add_argument("--no-reference", action="store_true", help="ignore the committed reference results")
    s.add_argument("--reference-only", action="store_true", help="only the committed reference results")
    s.add_argument("--check", action="store_true", help="validate the ledger against the specs and stop")
    s.add_argument("--brief", action="store_true", help="one line per claim: verdict, p, n, id, quote")
    s.add_argument("--json", action="store_true", help="the verdicts as JSON (schema: docs/claims.md)")
    s.add_argument("--claims-dir", type=Path, default=None, help="ledger folder (default: $REPRO_CLAIMS or <project>/claims)")
    s.set_defaults(func=cmd_claims)
