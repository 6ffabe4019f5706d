"""`repro report` from hand-made records: golden Markdown, known deltas, marked stand-in cells,
every image referenced exists and opens, and the LaTeX compiles."""
from __future__ import annotations

import math
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from report_fixtures import TABLE_RUNS, make_project  # noqa: E402

from repro.report.build import build_report  # noqa: E402

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("project")
    with pytest.MonkeyPatch.context() as mp:
        project = make_project(root, mp)
        files = build_report(results=project["results"], jobs_dir=project["jobs"], out=project["out"])
        yield project, files


def _table_rows(markdown: str, first_cell: str) -> list[list[str]]:
    rows = []
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_cell:
            rows.append(cells)
    return rows


def test_markdown_matches_golden(built):
    _, files = built
    text = files.markdown.read_text()
    golden = GOLDEN / "report.md"
    if os.environ.get("REPRO_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text(), "report changed; review it, then regenerate with REPRO_UPDATE_GOLDEN=1"


def _expected_delta(values: list[float], paper_mean: float, paper_std: float | None, n_p: int, fmt: str) -> str:
    """Independent arithmetic: mean, sample std and Welch's standard error by hand."""
    n = len(values)
    mean = sum(values) / n
    diff = mean - paper_mean
    text = format(diff, "+" + fmt)
    if paper_std is None or n < 2:
        return text
    s = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    assert math.isclose(s, statistics.stdev(values))
    se = math.sqrt(s * s / n + paper_std * paper_std / n_p)
    return text if se == 0 else text + f" ({diff / se:+.1f} SE)"


def test_known_deltas_and_marks(built):
    _, files = built
    text = files.markdown.read_text()
    (gan,) = _table_rows(text, "gan")[:1]
    (sig,) = _table_rows(text, "sig")[:1]
    # columns: method | gmm-grid/Modes ×3 | gmm-grid/KL ×3 | cifar10/Modes ×3 | cifar10/KL ×3
    assert gan[3] == _expected_delta([3, 4, 8], 4.0, 3.08, 5, ".1f") == "+1.0 (+0.5 SE)"
    assert gan[6] == _expected_delta([2.0, 2.5, 3.0], 2.87, 0.78, 5, ".2f") == "-0.37 (-0.8 SE)"
    assert sig[3] == _expected_delta([25, 25, 25], 25.0, 0.0, 5, ".1f") == "+0.0"  # zero combined SE: no z
    assert sig[6] == _expected_delta([0.1, 0.2, 0.3], 0.14, 0.07, 5, ".2f") == "+0.06 (+0.9 SE)"
    # stand-in cell: marked, and no delta although the paper has a value
    assert gan[7] == "6.5 ± 0.7†" and gan[8] == "5" and gan[9] == "n/c†"
    # the diverged and failed runs are counted, never averaged in
    assert "[1 div.]" in sig[1] and "[1 failed]" in sig[7]
    assert "n_p = 5 (stated in 004" in text


def test_status_board_and_provenance(built):
    _, files = built
    text = files.markdown.read_text()
    board = {row[0]: row for row in _table_rows(text, "`rpt-table`") if len(row) == 9}
    row = board["`rpt-table`"]
    assert row[2:7] == ["cpu", "8", "1", "1", "12"]  # 8 ok, 1 diverged, 1 failed; grid 2 × 2 × 3 seeds
    assert row[7] == "2026-01-02 04:09 UTC" and row[8] == "`0123456789-dirty`"
    assert any(r[:3] == ["`rpt-empty`", "table", "–"] and "no records" in r for r in _table_rows(text, "`rpt-empty`"))
    assert any("invalid spec" in r for r in _table_rows(text, "`rpt-zbroken`"))
    compute = [r for r in _table_rows(text, "`rpt-table`") if len(r) == 7][0]
    seconds = sum(run[-1] for run in TABLE_RUNS)  # every status costs compute
    assert seconds == 163 and compute[1] == "10" and compute[2] == "0:02:43"


def test_every_image_exists_and_opens(built):
    project, files = built
    text = files.markdown.read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert any(link.startswith("figures/") for link in links) and any(link.startswith("samples/") for link in links)
    for link in links:
        path = project["out"] / link
        assert path.is_file(), link
        with Image.open(path) as im:
            im.verify()
    tex = files.latex.read_text()
    graphics = re.findall(r"\\includegraphics\[[^\]]*\]\{\\reproreportdir/([^}]+)\}", tex)
    assert graphics and all((project["out"] / g).is_file() for g in graphics)
    assert any(g.endswith(".pdf") for g in graphics)  # figure jobs use the PDF in LaTeX


def test_sample_grids_are_the_last_step_of_the_lowest_seed(built):
    project, files = built
    copied = project["out"] / "samples" / "rpt-figure" / "gan__mnist.png"
    source = project["results"] / "rpt-figure" / "rpt-figure-gan-mnist-smoke-0" / "samples_step200.png"
    assert copied.read_bytes() == source.read_bytes()
    text = files.markdown.read_text()
    assert "gan · mnist (smoke, seed 0, step 200)" in text
    assert "† Some runs used offline stand-in data (digits)" in text  # the figure job's sig runs
    assert "sig · mnist (smoke, seed 0, step 200) † stand-in data: digits" in text


@pytest.mark.skipif(shutil.which("pdflatex") is None,
                    reason="pdflatex is not installed (Debian: texlive-latex-base texlive-latex-recommended)")
def test_latex_compiles(built):
    project, files = built
    main = project["out"] / "main.tex"
    main.write_text("\\documentclass{article}\n\\usepackage{booktabs,graphicx}\n\\begin{document}\n"
                    "\\input{report.tex}\n\\end{document}\n")
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "main.tex"],
                          cwd=project["out"], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (project["out"] / "main.pdf").stat().st_size > 1000
