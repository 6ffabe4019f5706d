"""Has a Monte Carlo estimate converged in its own settings? The doubling ladder (issue 28, 000 Table 3's AIS).

A job's ``table.estimate_ladder`` lists rungs ``{metric, doubled[, check]}``, cheapest first: ``metric`` is the
estimate at one setting, ``doubled`` the same estimate at twice the setting (chains and intermediate
distributions) on the same points as ``check`` (default: ``metric`` itself; a rung checked on a subset of the
points names the subset's value at the rung's setting). A rung holds when doubling moves no cell's mean by
more than that cell's seed-to-seed std of ``check``: the estimator's own error is then below the spread the
claims' tests already carry. The estimate read is the first rung that holds; when none does, the estimate
has not converged on the ladder and the claims resting on it decide nothing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd


@dataclass
class RungCheck:
    metric: str  # the estimate this rung reads
    check: str
    doubled: str
    moved: list[str] = field(default_factory=list)  # cells whose mean moved by more than their seed std
    unchecked: list[str] = field(default_factory=list)  # cells without the values (or < 2 seeds)

    @property
    def holds(self) -> bool:
        return not self.moved and not self.unchecked

    def sentence(self) -> str:
        head = f"{self.metric} (doubling: {self.check} -> {self.doubled})"
        if self.holds:
            return f"{head} holds in every cell"
        parts = ([f"moved beyond the seed std in {', '.join(self.moved)}"] if self.moved else []) + \
                ([f"not checkable in {', '.join(self.unchecked)}"] if self.unchecked else [])
        return f"{head} fails: {'; '.join(parts)}"


def check_rungs(ladder: list[dict], summary: pd.DataFrame, label) -> list[RungCheck]:
    """One RungCheck per rung over the cells (rows) of ``summary`` (repro.aggregate.summarize at one scale:
    columns <metric>__mean / __std); ``label(row)`` names a cell."""
    out = []
    for rung in ladder:
        check = RungCheck(rung["metric"], rung.get("check", rung["metric"]), rung["doubled"])
        for _, row in summary.iterrows():
            mean, std = row.get(f"{check.check}__mean", math.nan), row.get(f"{check.check}__std", math.nan)
            doubled = row.get(f"{check.doubled}__mean", math.nan)
            if any(pd.isna(v) for v in (mean, std, doubled)):
                check.unchecked.append(label(row))
            elif abs(doubled - mean) > std:
                check.moved.append(f"{label(row)} ({doubled - mean:+.2f} against {std:.2f})")
        out.append(check)
    return out


def chosen(checks: list[RungCheck]) -> RungCheck | None:
    """The first rung that holds, or None."""
    return next((c for c in checks if c.holds), None)
