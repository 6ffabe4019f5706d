"""The ``repro report`` subcommand (registered by repro.cli through :func:`add_parser`)."""
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


def add_parser(subparsers) -> None:
    s = subparsers.add_parser("report", help="build report/README.md and report/report.tex from the records present")
    s.add_argument("jobs", nargs="*", help="only these jobs (default: every job)")
    s.add_argument("--out", type=Path, default=None, help="report folder (default: $REPRO_REPORT or <project>/report)")
    s.set_defaults(func=cmd_report)
