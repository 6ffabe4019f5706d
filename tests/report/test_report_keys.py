"""Table cells land where the layout says (rows, column groups, axes), in the aggregator and the report's Δ table."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from repro.aggregate import build_cells, cell_keys, layout
from repro.report.tables import comparison_table
from repro.spec import Spec

RAW = {
    "id": "keys", "paper": "004_x.txt", "title": "Keys", "kind": "table", "task": "t",
    "grid": {"methods": ["gan", "sig", "vae"], "datasets": ["a", "b"], "axes": {"lr": [0.1, 0.2]}},
    "scales": {"cpu": {"seeds": 2}},
    "metrics": [{"name": "fid", "direction": "lower", "format": ".1f"},
                {"name": "is", "direction": "higher", "format": ".2f"}],
}


def _summary(spec: Spec) -> pd.DataFrame:
    """Every cell with a distinct mean, so a misaddressed cell shows up as a wrong number."""
    rows = []
    for i, method in enumerate(spec.grid["methods"]):
        for j, dataset in enumerate(spec.grid["datasets"]):
            for k, lr in enumerate(spec.axes["lr"]):
                row = {"scale": "cpu", "method": method, "dataset": dataset, "lr": str(lr), "n": 2, "n_diverged": 0,
                       "n_failed": 0, "stand_in": False, "uncalibrated": False, "data_sources": [dataset], "wall_time": 1.0}
                for m, metric in enumerate(spec.metric_names):
                    row.update({f"{metric}__mean": 100 * i + 10 * j + k + 0.01 * m, f"{metric}__std": 1.0,
                                f"{metric}__n": 2})
                rows.append(row)
    return pd.DataFrame(rows)


@pytest.mark.parametrize("table", [
    {"rows": "method", "columns": ["dataset", "lr", "metric"]},
    {"rows": "dataset", "columns": ["method", "metric", "lr"]},
    {"rows": "metric", "columns": ["lr", "method", "dataset"]},
    {"rows": "lr", "columns": ["metric", "dataset", "method"]},
])
def test_cell_keys_match_aggregate_layout(table):
    spec = Spec(Path("keys.yaml"), dict(RAW, table=table))
    summary = _summary(spec)
    cells = build_cells(spec, summary, "cpu")
    _, body, _ = layout(spec, cells)
    keys = cell_keys(spec)[1]
    assert [len(k) for k in keys] == [(len(line) - 1) // 2 for line in body]
    for row_keys, line in zip(keys, body):
        assert [cells[k].text for k in row_keys] == line[1::2]
    out = comparison_table(spec, summary, "cpu")
    assert len(out.header) == 1 + 3 * len(keys[0]) and all(len(r) == len(out.header) for r in out.rows)
