"""How many independent runs each paper's "mean ± std" is over (n_p in the combined standard error).

Only 004 states it: "All results are reported based on the average and standard error of five
independent random trials" (004 §5.1). We read 004's ± as a standard deviation over those five
trials, not a standard error: its "6.2 ± 8.6" modes (out of 25) cannot be a standard error of five
trials, as that would need a standard deviation of 8.6·√5 ≈ 19.2, above the largest possible
(≈ 10.8 for five counts in [0, 25] with mean 6.2).

The other seeds (000, 001, 002, 003) print ± without saying over how many runs; we assume five
(the suite's own paper-scale seed count) and say so in every table that uses it. A spec may set
``paper_n`` to override both.
"""
from __future__ import annotations

from dataclasses import dataclass

ASSUMED_N = 5
STATED = {"004": (5, "stated in 004 §5.1: five independent random trials")}


@dataclass(frozen=True)
class PaperTrials:
    n: int
    source: str  # why this n: stated by the paper, set by the spec, or assumed


def paper_trials(spec) -> PaperTrials:
    """n_p for a job: the spec's ``paper_n`` if set, else what the paper states, else an assumed 5."""
    own = spec.raw.get("paper_n")
    if own is not None:
        if isinstance(own, bool) or not isinstance(own, int) or own < 1:
            raise ValueError(f"{spec.id}: paper_n must be a positive integer (got {own!r})")
        return PaperTrials(own, "set by the job spec (paper_n)")
    prefix = str(spec.paper).split("_")[0]
    if prefix in STATED:
        n, why = STATED[prefix]
        return PaperTrials(n, why)
    return PaperTrials(ASSUMED_N, f"assumed: paper {prefix} does not state its number of runs")
