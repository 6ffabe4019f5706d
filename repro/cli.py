"""`repro`: list · show · run · status · tables (+ subcommand groups contributed by repro.data, repro.metrics, ...)."""
from __future__ import annotations

import argparse
import importlib
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import yaml
from tabulate import tabulate

from . import __version__, paths, store
from .spec import SCALES, SpecError, all_specs, expand, find_job, load_spec


class UserError(Exception):
    """Bad input: printed as one line, exit code 2."""


def _split(values: list[str] | None) -> list[str] | None:
    return [v for item in values for v in item.split(",") if v] if values else None


def _status_counts(spec, results: Path, scale: str) -> Counter:
    return Counter(store.run_status(results, spec.id, r.key) for r in expand(spec, scale))


# ----------------------------------------------------------------------------- commands
def cmd_list(args) -> int:
    rows = []
    for path in sorted(paths.jobs_dir().glob("*.yaml")):
        try:
            spec = load_spec(path)
        except SpecError as err:
            rows.append([path.stem, "", "", f"INVALID SPEC: {err}", "", "", ""])
            continue
        c = _status_counts(spec, args.results, args.scale)
        done = c["ok"] + c["diverged"]
        rows.append([spec.id, ",".join(spec.aliases or []), spec.paper.split("_")[0], spec.title, spec.kind,
                     ",".join(spec.scales), f"{done}/{c['failed']}/{c['missing'] + c['corrupt']}"])
    print(tabulate(rows, headers=["job", "aliases", "paper", "title", "kind", "scales",
                                  f"done/failed/missing ({args.scale})"]))
    return 0


def cmd_show(args) -> int:
    spec = find_job(args.job)
    print(yaml.safe_dump(spec.raw, sort_keys=False, allow_unicode=True).rstrip())
    print("\n# runs per scale")
    for scale in SCALES:
        runs = expand(spec, scale)
        print(f"#   {scale}: {len(runs)} runs ({spec.scales[scale]['seeds']} seeds)")
    return 0


def _axis_values(spec, wanted) -> dict:
    """``--axis NAME=V1,V2`` (each value as the spec prints it) -> {name: [values]}: any of the job's values,
    also one the scale's grid leaves out (it then runs with the scale's config, as ``--method`` does)."""
    out = {}
    for item in wanted or []:
        name, _, values = item.partition("=")
        if name not in spec.axes or not values:
            raise SpecError(f"--axis {item}: expected NAME=VALUE[,VALUE] with NAME one of {', '.join(spec.axes) or '(no axes)'}")
        keep = set(values.split(","))
        unknown = keep - {str(v) for v in spec.axes[name]}
        if unknown:
            raise SpecError(f"--axis {item}: {', '.join(sorted(unknown))} not in {name} ({', '.join(map(str, spec.axes[name]))})")
        out[name] = [v for v in spec.axes[name] if str(v) in keep]
    return out


def cmd_run(args) -> int:
    from .launch import launch, progress_iter

    spec = find_job(args.job)
    chosen = args.scale is None
    if chosen:
        args.scale = _choose_scale(spec, args.device)
    runs = expand(spec, args.scale, _split(args.method), _split(args.dataset), args.seeds,
                  axes=_axis_values(spec, args.axis))
    if chosen:
        _say_scale(spec, args.scale, runs)
    status = {r.key: store.run_status(args.results, spec.id, r.key) for r in runs}
    corrupt = [r for r in runs if status[r.key] == "corrupt"]
    for r in corrupt:
        print(f"repro: corrupt record {store.record_path(args.results, spec.id, r.key)} ({r.label}): "
              "not rerun; inspect it, then delete it or pass --force (the old file is kept aside)", file=sys.stderr)
    if args.force:
        todo = runs
    else:
        todo = [r for r in runs if status[r.key] in ("missing", "failed")]
    skipped = len(runs) - len(todo) - (0 if args.force else len(corrupt))
    from .preflight import cheap_problems

    problems = cheap_problems(todo, args.scale)  # before anything launches: no record is written
    if problems:
        for line in problems:
            print(f"repro: error: {line}", file=sys.stderr)
        return 2
    print(f"{spec.id} · scale {args.scale} · {len(runs)} runs: {len(todo)} to run, {skipped} already done"
          + (f", {len(corrupt)} corrupt" if corrupt and not args.force else ""))
    if args.dry_run:
        print(tabulate([[r.key, r.label, status[r.key], "run" if r in todo else "skip"] for r in runs],
                       headers=["key", "run", "status", "action"]))
        return 0
    counts: Counter = Counter()
    t0 = time.perf_counter()
    gpu_ids = [g for g in (args.gpus or "").split(",") if g.strip()]
    if args.executor == "slurm" and args.gpus is not None and not args.gpus.strip().isdigit():
        raise UserError(f"--gpus with --executor slurm is a count of GPUs per node (got {args.gpus!r})")
    slurm = {"partition": args.partition, "time_min": args.time_min, "cpus_per_task": args.cpus,
             "gpus_per_node": int(args.gpus) if args.executor == "slurm" and args.gpus else None,
             "mem_gb": args.mem_gb, "array_parallelism": args.array_parallelism}
    local = {"gpus": gpu_ids} if args.executor == "local" and gpu_ids else {}

    def on_outcome(outcome) -> None:
        counts[outcome.status] += 1
        if outcome.status in ("failed", "corrupt", "locked"):
            print(f"\n  {outcome.status}: {outcome.cfg['method']} · {outcome.cfg['dataset']} · seed "
                  f"{outcome.cfg['seed']}: {outcome.error}", file=sys.stderr)

    configs = [dict(r.config, compile=False) if args.eager else r.config for r in todo]
    outcomes = launch(configs, args.results, executor=args.executor, workers=args.workers,
                      slurm=slurm, wait=args.wait or args.executor != "slurm", device=args.device, force=args.force,
                      **local)
    folders = {r.key: store.run_dir(args.results, spec.id, r.key) for r in todo}
    progress_iter(outcomes, len(todo), f"{spec.id} ({args.executor})", on_outcome, folders=folders)
    wall = time.perf_counter() - t0
    summary = ", ".join(f"{counts[k]} {k}" for k in ("ok", "diverged", "failed", "submitted", "queued", "locked", "corrupt")
                        if counts[k])
    print(f"{spec.id}: {summary or 'nothing run'}; {skipped + counts['skipped']} skipped; wall time {wall:.1f} s")
    if args.executor != "slurm" or args.wait:
        md, _ = _write_tables(spec, args)
        print(f"table: {md}")
    return 1 if counts["failed"] or counts["corrupt"] or corrupt else 0


def _choose_scale(spec, device: str) -> str:
    """No --scale: paper where a GPU is present, else cpu (a dataset its grid leaves out then runs with
    the cpu config, on a stand-in when its files are absent)."""
    import torch

    gpu = device.startswith("cuda") or torch.cuda.is_available()
    return "paper" if gpu and "paper" in spec.scales else "cpu" if "cpu" in spec.scales else SCALES[0]


def _say_scale(spec, scale: str, runs) -> None:
    """The one line that says which scale was chosen, and on what data."""
    from .worker import _data_source

    why = "a GPU is present" if scale == "paper" else "no GPU here; --scale paper for the paper's protocol"
    swaps = sorted({f"{r.dataset} on stand-in {src} †" for r in runs
                    for src, stand_in in [_data_source(r.config)] if stand_in and src != r.dataset})
    print(f"repro: scale {scale} ({why})" + (f"; {', '.join(swaps)}" if swaps else ""))


def _write_tables(spec, args):
    from .aggregate import write_tables

    return write_tables(spec, args.results, args.tables)


def cmd_status(args) -> int:
    specs = [find_job(args.job)] if args.job else all_specs()
    for spec in specs:
        if args.job:
            slurm = _slurm_column(args.results, spec.id)
            rows = []
            for r in expand(spec, args.scale):
                st = store.run_status(args.results, spec.id, r.key)
                wall = ""
                if st in ("ok", "diverged", "failed"):
                    rec = store.read_record(store.record_path(args.results, spec.id, r.key))
                    wall = f"{rec.get('wall_time', 0):.1f}"
                    if st == "failed":
                        st += f": {rec.get('error', '')[:80]}"
                rows.append([r.key, r.label, st, wall] + ([slurm.get(r.key, "")] if slurm else []))
            print(tabulate(rows, headers=["key", f"run ({args.scale})", "status", "wall s"] + (["slurm"] if slurm else [])))
        else:
            c = _status_counts(spec, args.results, args.scale)
            print(f"{spec.id:24s} {args.scale}: " + ", ".join(f"{v} {k}" for k, v in sorted(c.items())))
    return 0


def _slurm_column(results: Path, job: str) -> dict[str, str]:
    """Run key -> "<slurm job id> <state>" for the runs submitted to Slurm (empty when none were)."""
    from .launch import job_submissions, slurm_states

    subs = job_submissions(results, job)
    states = slurm_states([i["job_id"] for i in subs.values()])
    return {key: f"{i['job_id']} {states.get(i['job_id'], 'UNKNOWN')}" for key, i in subs.items()}


def cmd_cancel(args) -> int:
    from .launch import cancel

    spec = find_job(args.job)
    ids = cancel(args.results, spec.id)
    print(f"{spec.id}: cancelled {len(ids)} Slurm job(s)" + (f": {' '.join(ids)}" if ids else " (none pending or running)")
          + "; checkpoints are kept, `repro run` resumes them")
    return 0


def cmd_tables(args) -> int:
    specs = [find_job(j) for j in args.jobs] if args.jobs else all_specs()
    for spec in specs:
        for _ in store.iter_records(args.results, spec.id,
                                    on_corrupt=lambda m: print(f"repro: warning: {m}", file=sys.stderr)):
            pass
        md, tex = _write_tables(spec, args)
        print(f"{spec.id}: {md} {tex}")
    return 0


# ----------------------------------------------------------------------------- parser
# Subcommand groups contributed by other packages: command word -> module with add_parser(subparsers).
# Only the one a command line asks for is imported (they pull in torch), so `repro list` stays fast.
EXTENSIONS = {"data": "repro.data.cli", "metrics": "repro.metrics.cli", "report": "repro.report", "plan": "repro.plan",
              "preflight": "repro.preflight", "claims": "repro.claims", "reference": "repro.report"}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="repro", description=__doc__)
    p.add_argument("--version", action="version", version=f"repro {__version__}")
    p.add_argument("--results", type=Path, default=None, help="results folder (default: $REPRO_RESULTS or <project>/results)")
    p.add_argument("--tables", type=Path, default=None, help="tables folder (default: <project>/tables)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("list", help="every job with its run counts")
    s.add_argument("--scale", choices=SCALES, default="cpu")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("show", help="resolved spec, grid size per scale, paper values")
    s.add_argument("job")
    s.set_defaults(func=cmd_show)

    s = sub.add_parser("run", help="run every missing run of a job's (filtered) grid, then re-render its table")
    s.add_argument("job", help="job id or alias (table1, table2, table3 = KernelNet's)")
    s.add_argument("--dataset", action="append", help="only these datasets (name or unique prefix; repeat or comma-separate)")
    s.add_argument("--method", action="append", help="only these methods")
    s.add_argument("--seeds", type=int, help="number of seeds (default: the scale's)")
    s.add_argument("--axis", action="append", metavar="NAME=V1,V2",
                   help="only these values of a grid axis (any of the job's, also one the scale leaves out)")
    s.add_argument("--scale", choices=SCALES, default=None,
                   help="default: paper where a GPU is present, else cpu")
    s.add_argument("--executor", choices=("debug", "local", "slurm"), default="local")
    s.add_argument("--workers", type=int, default=2, help="parallel local processes (executor local)")
    s.add_argument("--device", default="cpu", help="torch device for training, e.g. cuda or cuda:1")
    s.add_argument("--dry-run", action="store_true", help="list the runs and what would happen, run nothing")
    s.add_argument("--force", action="store_true", help="rerun completed runs too (old records are kept aside)")
    s.add_argument("--eager", action="store_true", help="train without torch.compile where the spec compiles: the same "
                   "runs to float rounding (a second numerics path, to check that verdicts do not hang on rounding)")
    g = s.add_argument_group("slurm (defaults from ~/.config/repro/slurm.yaml)")
    g.add_argument("--partition")
    g.add_argument("--time-min", type=int)
    g.add_argument("--cpus", type=int)
    g.add_argument("--gpus", help="slurm: GPUs per node; local with --device cuda: GPU ids to share, e.g. 0,2,3 "
                   "(default: every visible GPU, round-robin over the workers)")
    g.add_argument("--mem-gb", type=int)
    g.add_argument("--array-parallelism", type=int)
    g.add_argument("--wait", action="store_true", help="wait for the Slurm jobs to finish")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("status", help="counts per job, or every run of one job")
    s.add_argument("job", nargs="?")
    s.add_argument("--scale", choices=SCALES, default="cpu")
    s.set_defaults(func=cmd_status)

    s = sub.add_parser("cancel", help="scancel the pending and running Slurm jobs of a job's runs")
    s.add_argument("job")
    s.set_defaults(func=cmd_cancel)

    s = sub.add_parser("tables", help="re-render tables/<job>.md and .tex from the records present")
    s.add_argument("jobs", nargs="*")
    s.set_defaults(func=cmd_tables)

    words = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")]
    core = set(sub.choices)
    wanted = [EXTENSIONS[words[0]]] if words and words[0] in EXTENSIONS else [] if words and words[0] in core \
        else list(dict.fromkeys(EXTENSIONS.values()))
    for module in wanted:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
            continue
        mod.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if hasattr(args, "results"):
        args.results = Path(args.results) if args.results else paths.results_dir()
        args.tables = Path(args.tables) if args.tables else paths.tables_dir()
    if getattr(args, "seeds", None) is not None and args.seeds < 1:
        print(f"repro: error: --seeds must be at least 1 (got {args.seeds})", file=sys.stderr)
        return 2
    warnings.formatwarning = lambda msg, *a, **k: f"repro: warning: {msg}\n"
    try:
        return args.func(args) or 0
    except (SpecError, UserError, FileNotFoundError, ValueError) as err:
        print(f"repro: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `repro list | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("\nrepro: interrupted; finished runs are recorded, unfinished ones resume from their checkpoint",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
