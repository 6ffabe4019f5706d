"""``repro report``: every job's status, tables beside the paper's with Δ, figures, sample grids and
provenance, written as ``<out>/README.md`` (GitHub renders it) and ``<out>/report.tex`` (``\\input``-able).

Reads records only (like the aggregator); draws figures with :mod:`repro.figures`.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from .. import __version__, paths, store
from ..aggregate import STAND_IN_MARK, UNCALIBRATED_MARK, records_frame, table_summary
from ..spec import SCALES, SpecError, find_job, job_names, load_spec
from . import latex, markdown
from .compute import provenance_table
from .document import Bullets, Heading, Image, Images, Para
from .samples import copy_grid, last_grids, safe_name
from .status import status_table
from .tables import comparison_table, table_notes

README, TEX = "README.md", "report.tex"


@dataclass
class ReportFiles:
    markdown: Path
    latex: Path
    images: list[Path]
    problems: list[str]  # figures that could not be drawn (the report says so in their place)


report_dir = paths.report_dir  # ``$REPRO_REPORT``, else ``<project>/report``


def collect(jobs_dir: Path | None, results: Path, only: list[str] | None = None):
    """(spec, records) for every valid job (or the named ones), and (file stem, error) for invalid specs."""
    if only:
        specs = [find_job(name, jobs_dir) for name in only]
        invalid = []
    else:
        specs, invalid = [], []
        for path in sorted(set(job_names(jobs_dir).values())):
            try:
                specs.append(load_spec(path))
            except SpecError as err:
                invalid.append((path.stem, str(err)))
    return [(spec, list(store.iter_records(results, spec.id))) for spec in specs], invalid


def _scales_present(summary) -> list[str]:
    return [s for s in SCALES[::-1] if not summary.empty and s in set(summary.scale)]


def _table_section(spec, results: Path) -> list:
    blocks = [Heading(3, f"`{spec.id}`: {spec.title}"), Para(f"Paper `{spec.paper}`.")]
    summary = table_summary(spec, results)
    scales = _scales_present(summary)
    if not scales:
        return blocks + [Para(f"No records yet: `repro run {spec.id}`.")]
    for scale in scales:
        blocks += [comparison_table(spec, summary, scale), table_notes(spec, summary, scale)]
    return blocks


def _figure_section(spec, results: Path, out: Path, images: list[Path], problems: list[str]) -> list:
    from ..figures import draw, plot_name

    blocks = [Heading(3, f"`{spec.id}`: {spec.title}"), Para(f"Paper `{spec.paper}` · plot `{plot_name(spec)}`.")]
    frame = records_frame(spec, results)
    if frame.empty:
        return blocks + [Para(f"No records yet: `repro run {spec.id}`.")]
    base = out / "figures" / safe_name(spec.id)
    try:
        written = draw(spec, frame, results, base)
    except Exception as err:  # one broken plot must not hide the rest of the report
        problems.append(f"{spec.id}: figure not drawn: {type(err).__name__}: {err}")
        return blocks + [Para(f"Figure not drawn: {type(err).__name__}: {err}")]
    images += written
    png = next(p for p in written if p.suffix == ".png")
    pdf = next(p for p in written if p.suffix == ".pdf")
    caption = (spec.raw.get("figure") or {}).get("caption") or spec.title
    blocks.append(Images([Image(png.relative_to(out).as_posix(), pdf.relative_to(out).as_posix(), caption)]))
    scales = [s for s in SCALES[::-1] if s in set(frame.scale)]
    notes = [f"Drawn from the records of scale(s) {', '.join(f'`{s}`' for s in scales)}."]
    if frame.stand_in.any():
        sources = ", ".join(sorted(set(frame[frame.stand_in].data_source)))
        notes.append(f"{STAND_IN_MARK} Some runs used offline stand-in data ({sources}), not the paper's dataset.")
    if frame.uncalibrated.any():
        notes.append(f"{UNCALIBRATED_MARK} Some metrics used an uncalibrated feature extractor (random weights).")
    notes += [f"Protocol: {x}" for x in spec.deviations or []]
    return blocks + [Bullets(notes)]


def _samples_section(spec, results: Path, records: list[dict], out: Path, images: list[Path]) -> list:
    grids = last_grids(results, spec.id, records)
    if not grids:
        return []
    items = []
    for grid in grids:
        rel = copy_grid(grid, out, spec.id)
        images.append(out / rel)
        items.append(Image(rel, None, grid.caption))
    return [Heading(3, f"`{spec.id}`"), Images(items, width=0.3)]


def build_blocks(jobs: list[tuple], invalid: list, results: Path, out: Path, images: list[Path],
                 problems: list[str]) -> list:
    n_records = sum(len(r) for _, r in jobs)
    blocks = [Heading(1, "Reproduction report"),
              Para(f"Built by `repro report` (repro {__version__}) from the {n_records} records present: every job's "
                   "status, each table reproduced beside the paper's with the difference, each figure, the last "
                   "sample grid of every image-GAN run, and provenance. Regenerate with `repro report`."),
              Heading(2, "Status"), status_table(jobs, invalid),
              Para("OK / Diverged / Failed: runs (method × dataset × axes × seed) per status; Planned: runs in the "
                   "scale's grid; Newest record: when and at which commit the last run of that scale finished.")]
    table_jobs = [(s, r) for s, r in jobs if s.kind == "table"]
    figure_jobs = [(s, r) for s, r in jobs if s.kind == "figure" or s.raw.get("figure")]
    if table_jobs:
        blocks.append(Heading(2, "Tables"))
        for spec, _ in table_jobs:
            blocks += _table_section(spec, results)
    if figure_jobs:
        blocks.append(Heading(2, "Figures"))
        for spec, _ in figure_jobs:
            blocks += _figure_section(spec, results, out, images, problems)
    samples = [b for spec, records in jobs for b in _samples_section(spec, results, records, out, images)]
    if samples:
        blocks += [Heading(2, "Sample grids"),
                   Para("The last fixed-noise sample grid per method and dataset (largest scale run, lowest seed)."),
                   *samples]
    blocks += [Heading(2, "Provenance"), provenance_table(jobs),
               Para("Compute: sum of run wall times (ok, diverged and failed runs). Commits marked -dirty had "
                    "uncommitted changes when the run finished.")]
    return blocks


def _claims_blocks(jobs: list[tuple], results: Path, reference, results_label: str, every_job: bool) -> list:
    """The "What reproduces" part for the claims whose job is in this report, and those that name no job
    when the report covers every job (none: no part)."""
    from ..claims import verdict_sources
    from ..claims.ledger import ClaimError, check_against_specs, load_claims
    from .claims import report_blocks

    specs = {spec.id: spec for spec, _ in jobs}
    try:
        claims = [c for c in load_claims() if c.job in specs or (every_job and c.job is None)]
    except ClaimError as err:
        return [Heading(2, "What reproduces"), Para(f"Claims ledger not read: {err}")]
    problems = check_against_specs(claims, specs)
    if problems:
        return [Heading(2, "What reproduces"), Bullets([f"Claims ledger invalid: {p}" for p in problems])]
    if not claims:
        return []
    return report_blocks(verdict_sources(results, reference, claims, specs, lambda m: None, set(specs), results_label))


def build_report(results: Path | None = None, jobs_dir: Path | None = None, out: Path | None = None,
                 only: list[str] | None = None, reference=None, results_label: str = "your results") -> ReportFiles:
    """``reference``: the reference folder (None: ``$REPRO_REFERENCE`` or ``<project>/reference``; False: none).
    Without records of your own for the report's jobs, the report is built from the reference records."""
    from ..claims.reference import has_records, reference_results

    results = Path(results) if results else paths.results_dir()
    out = Path(out) if out else report_dir()
    if out.exists() and not out.is_dir():
        raise ValueError(f"report folder {out} is a file; pass --out with a folder path")
    out.mkdir(parents=True, exist_ok=True)
    jobs, invalid = collect(jobs_dir, results, only)
    banner = None
    job_ids = {spec.id for spec, _ in jobs}
    if reference is not False and not has_records(results, job_ids) and has_records(reference_results(reference), job_ids):
        own, results, results_label = results, reference_results(reference), "reference"
        jobs, invalid = collect(jobs_dir, results, only)
        banner = Para(f"No records of your own in `{own}`: this report shows the committed reference "
                      "results (`reference/results`; provenance in `reference/PROVENANCE.md`; the report generated "
                      "with their figures is `reference/report/README.md`).")
    elif reference is not False and has_records(reference_results(reference), job_ids):
        banner = Para("The suite's committed reference results (`reference/`) are shown beside yours under "
                      "\"What reproduces\"; their own tables and figures are in `reference/report/README.md`.")
    images: list[Path] = []
    problems: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # corrupt records were reported once by collect()
        blocks = build_blocks(jobs, invalid, results, out, images, problems)
        at = next((i for i, b in enumerate(blocks) if isinstance(b, Heading) and b.level == 2 and b.text != "Status"),
                  len(blocks))  # right after the status board
        blocks[at:at] = _claims_blocks(jobs, results, reference, results_label, not only)
    if banner:
        blocks.insert(1, banner)
    md, tex = out / README, out / TEX
    store.write_text_atomic(md, markdown.render(blocks))
    store.write_text_atomic(tex, latex.render(blocks))
    return ReportFiles(md, tex, images, problems)
