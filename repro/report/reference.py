"""``repro reference collect``: refresh the committed reference results (``reference/``).

``collect(sources, dest)`` copies the ``ok`` / ``diverged`` records of the given results folders into
``dest/results`` (a run present in several: the newest), rebuilds ``dest/report`` from the source run
folders (so figures can use their artifacts), then drops the PDFs and the LaTeX to keep the folder small.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import warnings
from collections import defaultdict
from pathlib import Path

from tabulate import tabulate

from .. import paths, store
from ..claims.reference import PROVENANCE, REPORT, RESULTS
from ..provenance import git_commit


def _warn(message: str) -> None:
    print(f"repro: warning: {message}", file=sys.stderr)


def gather(sources: list[Path], on_corrupt=_warn) -> dict[tuple[str, str], tuple[Path, dict]]:
    """(job, key) -> (record file, record) over every source; corrupt records are skipped with a warning."""
    found: dict[tuple[str, str], tuple[Path, dict]] = {}
    for src in sources:
        src = Path(src)
        if not src.is_dir():
            raise FileNotFoundError(f"results folder {src} does not exist")
        for path in sorted(src.glob(f"*/*/{store.RECORD}")):
            try:
                rec = store.read_record(path)
            except store.CorruptRecord as err:
                on_corrupt(f"skipping {err}")
                continue
            if rec.get("status") not in store.DONE:
                continue
            ident = (path.parent.parent.name, path.parent.name)
            old = found.get(ident)
            if old is None or str(rec.get("finished_at", "")) > str(old[1].get("finished_at", "")):
                found[ident] = (path, rec)
    return found


def _current_only(found: dict) -> dict:
    """The records the tables count: none of an older configuration of its job (nor of a job gone)."""
    from ..aggregate import record_scales
    from ..claims.ledger import specs_by_id

    specs = specs_by_id()
    scales_of = {job: record_scales(spec) for job, spec in specs.items()}
    kept = {ident: hit for ident, hit in found.items() if ident[0] in specs and scales_of[ident[0]](hit[1])}
    if len(kept) < len(found):
        _warn(f"left out {len(found) - len(kept)} record(s) of older configurations (the tables do not count them)")
    return kept


def shrink_png(path: Path, colors: int = 128) -> None:
    """Re-save a figure as a 128-colour palette PNG (3-4× smaller; plots use few colours)."""
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def _provenance(found: dict, sources: list[Path], dest: Path) -> str:
    per_job: dict[str, list[dict]] = defaultdict(list)
    for (job, _), (_, rec) in sorted(found.items()):
        per_job[job].append(rec)
    rows = []
    for job, recs in sorted(per_job.items()):
        prov = [r.get("provenance") or {} for r in recs]
        rows.append([job, len(recs), ", ".join(sorted({str(r.get("scale")) for r in recs})),
                     f"{sum(float(r.get('wall_time') or 0) for r in recs) / 60:.1f}",
                     ", ".join(sorted({str(p.get("commit", "?"))[:10] for p in prov})),
                     ", ".join(sorted({f"{p.get('host', '?')}/{p.get('device', '?')}" for p in prov})),
                     ", ".join(sorted({str(p.get("torch_version", "?")) for p in prov})),
                     max(str(r.get("finished_at", "")) for r in recs)[:19]])
    table = tabulate(rows, headers=["job", "records", "scales", "run time (min)", "commits", "host/device", "torch",
                                    "newest record (UTC)"], tablefmt="github", disable_numparse=True)
    total = sum(float(r.get("wall_time") or 0) for _, r in found.values()) / 3600
    machines = "; ".join(sorted({f"{p.get('host', '?')}: {p.get('device_name', '?')}, {p.get('device', '?')}, "
                                 f"torch {p.get('torch_version', '?')}, python {p.get('python_version', '?')}"
                                 for _, r in found.values() for p in [r.get("provenance") or {}]}))
    return "\n".join([
        "# Reference results: provenance", "",
        "Collected by `repro reference collect` from " + ", ".join(f"`{s}`" for s in sources) + ".",
        f"{len(found)} records (status ok or diverged; record.json only: no checkpoints, samples or artifacts), "
        f"{total:.2f} h of summed run time. `repro claims` and `repro report` read them when you have no results "
        "of your own, and beside yours when you do. The report generated from them (with figures) is "
        "[report/README.md](report/README.md).", "",
        table, "",
        "Run time: the sum of the records' wall times (runs of one job may have run in parallel). Machine: "
        + machines + f". Collected with repro at commit `{git_commit() or 'unknown'}`.", ""])


def collect(sources: list[Path], dest: Path | None = None, clean: bool = False) -> tuple[int, int]:
    """Copy records into ``dest/results``, rebuild ``dest/report`` and ``dest/PROVENANCE.md``.

    Returns (records copied, folder size in bytes)."""
    from .build import build_report

    dest = Path(dest or paths.reference_dir())
    found = _current_only(gather([Path(s) for s in sources]))
    if clean and (dest / RESULTS).exists():
        shutil.rmtree(dest / RESULTS)
    for (job, key), (path, _) in found.items():
        target = dest / RESULTS / job / key / store.RECORD
        target.parent.mkdir(parents=True, exist_ok=True)
        if not (target.exists() and target.samefile(path)):  # collecting the reference into itself: nothing to copy
            shutil.copyfile(path, target)
    everything = gather([dest / RESULTS])  # what the folder now holds (earlier collections included)
    with tempfile.TemporaryDirectory() as tmp:  # the report reads the source run folders (figures use artifacts)
        staged = Path(tmp) / "results"
        bare = sorted({job for ident in everything if ident not in found for job in [ident[0]]})
        untouched = sorted(set(bare) - {job for job, _ in found})  # no run of theirs among the sources
        # their earlier figures, byte for byte (drawn with the artifacts a records-only redraw lacks)
        kept = {f.name: f.read_bytes() for job in untouched if (f := dest / REPORT / "figures" / f"{job}.png").exists()}
        if bare:
            _warn(f"runs of {', '.join(bare)} are in the reference but not in the sources given: the figures of jobs "
                  "with no run among the sources are kept as they were, the others drawn from records only (pass "
                  "their results folders too to redraw them with artifacts)")
        for (job, key), (path, _) in everything.items():
            source = found.get((job, key), (path, None))[0].parent
            (staged / job).mkdir(parents=True, exist_ok=True)
            (staged / job / key).symlink_to(source.resolve(), target_is_directory=True)
        if (dest / REPORT).exists():
            shutil.rmtree(dest / REPORT)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            files = build_report(results=staged, out=dest / REPORT, reference=False, results_label="reference")
    for problem in files.problems:
        _warn(problem)
    readme = files.markdown.read_text().split("\n", 1)
    store.write_text_atomic(files.markdown, readme[0] + "\n\nThe suite's **reference results**, collected by "
                            "`repro reference collect`: where, when and at which commits in [../PROVENANCE.md]"
                            "(../PROVENANCE.md); the records are in `../results`.\n" + readme[1])
    for junk in [*(dest / REPORT).rglob("*.pdf"), dest / REPORT / "report.tex"]:
        junk.unlink(missing_ok=True)
    for png in (dest / REPORT).rglob("*.png"):
        shrink_png(png)
    for name, data in kept.items():
        (dest / REPORT / "figures" / name).write_bytes(data)
    text = _provenance(everything, [Path(s) for s in sources], dest)
    store.write_text_atomic(dest / PROVENANCE, text)
    size = folder_size(dest)
    store.write_text_atomic(dest / PROVENANCE, text + f"Size of this folder: {size / 1024:.0f} KiB.\n")
    return len(found), folder_size(dest)
