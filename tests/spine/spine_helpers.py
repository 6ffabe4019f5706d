"""Shared fixtures for the spine tests: a throw-away project (jobs/, results/, tables/) per test."""
from __future__ import annotations

import textwrap
from pathlib import Path

SELFTEST_SPEC = """
id: selftest-table
aliases: [tst]
paper: 004_b5b197064a80ecd0.txt
title: Self-test table
kind: table
task: selftest
grid:
  methods: [selftest-sgd, selftest-sgd-slow]
  datasets: [toy]
config: {steps: 40, batch_size: 16, lr: 0.05, checkpoint_every: 10}
scales:
  smoke: {seeds: 2, config: {steps: 20}}
  cpu: {seeds: 3}
  paper: {seeds: 5, config: {steps: 400}}
metrics:
  - {name: weight_error, label: Weight error, direction: lower, format: ".3f"}
  - {name: final_loss, label: Final loss, direction: lower, format: ".3f"}
table: {rows: method, columns: [metric]}
paper_values:
  - {method: selftest-sgd, weight_error: "0.050 ± 0.010", final_loss: 0.01}
deviations: ["Self-test job, not a paper table."]
"""


def make_project(tmp_path: Path, monkeypatch, spec_text: str = SELFTEST_SPEC) -> Path:
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    (jobs / "selftest-table.yaml").write_text(textwrap.dedent(spec_text))
    monkeypatch.setenv("REPRO_JOBS", str(jobs))
    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("REPRO_TABLES", str(tmp_path / "tables"))
    return tmp_path
