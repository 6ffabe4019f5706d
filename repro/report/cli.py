"""``repro report`` and ``repro reference collect SRC ...`` (registered by repro.cli through :func:`add_parser`)."""
from __future__ import annotations

import sys
from pathlib import Path


def cmd_report(args) -> int:
    from .build import build_report

    files = build_report(results=args.results, out=args.out, only=args.jobs or None)
    for problem in files.problems:
        print(f"repro: warning: {problem}", file=sys.stderr)
    print(f"report: {files.markdown} {files.latex} ({len(files.images)} images)")
    return 0


def cmd_collect(args) -> int:
    from .reference import collect

    n, size = collect(args.sources, args.dest, clean=args.clean)
    print(f"reference: {n} records copied into {args.dest or 'reference'}/results; report and PROVENANCE.md "
          f"rebuilt; folder size {size / 1024:.0f} KiB")
    return 0


def add_parser(subparsers) -> None:
    s = subparsers.add_parser("report", help="build report/README.md and report/report.tex from the records present")
    s.add_argument("jobs", nargs="*", help="only these jobs (default: every job)")
    s.add_argument("--out", type=Path, default=None, help="report folder (default: $REPRO_REPORT or <project>/report)")
    s.set_defaults(func=cmd_report)

    s = subparsers.add_parser("reference", help="maintain the committed reference results (reference/)")
    sub = s.add_subparsers(dest="reference_command", required=True, metavar="ACTION")
    c = sub.add_parser("collect", help="copy record.json files from results folders, rebuild the reference report")
    c.add_argument("sources", nargs="+", type=Path, help="results folders (e.g. results ../other-checkout/results)")
    c.add_argument("--dest", type=Path, default=None, help="reference folder (default: $REPRO_REFERENCE or <project>/reference)")
    c.add_argument("--clean", action="store_true", help="drop the records already in the reference folder first")
    c.set_defaults(func=cmd_collect)
