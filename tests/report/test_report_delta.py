"""Δ and its size in combined standard errors, checked against scipy's Welch t statistic."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from scipy import stats

from repro.report.delta import delta_text, signed, standardized_difference
from repro.claims.trials import ASSUMED_N, paper_trials
from repro.spec import Spec


@pytest.mark.parametrize("m_r,s_r,n_r,m_p,s_p,n_p", [
    (5.0, math.sqrt(7), 3, 4.0, 3.08, 5),
    (27.1, 0.4, 5, 24.3, 0.1, 5),
    (0.2, 0.1, 10, 0.14, 0.07, 3),
])
def test_standardized_difference_is_welchs_t(m_r, s_r, n_r, m_p, s_p, n_p):
    t, _ = stats.ttest_ind_from_stats(m_r, s_r, n_r, m_p, s_p, n_p, equal_var=False)
    assert standardized_difference(m_r, s_r, n_r, m_p, s_p, n_p) == pytest.approx(t, rel=1e-12)


def test_no_z_without_paper_std_one_run_or_zero_error():
    assert standardized_difference(1.0, 0.1, 3, 0.5, None, 5) is None  # paper gives no std
    assert standardized_difference(1.0, None, 1, 0.5, 0.1, 5) is None  # one reproduced run: no s_r
    assert standardized_difference(1.0, 0.0, 3, 0.5, 0.0, 5) is None  # both stds zero
    assert delta_text(1.0, None, 1, 0.5, 0.1, 5, ".2f") == "+0.50"
    assert delta_text(1.0, 0.2, 4, 0.5, None, 5, ".1f") == "+0.5"


def test_delta_text_formats_and_refuses_incomparable_cells():
    # (0.7 − 1.0) / sqrt(0.1²/4 + 0.2²/5) = −0.3 / 0.1024695 = −2.93
    assert delta_text(0.7, 0.1, 4, 1.0, 0.2, 5, ".3f") == "-0.300 (-2.9 SE)"
    assert delta_text(0.7, 0.1, 4, 1.0, 0.2, 5, ".3f", comparable=False, marks="†") == "n/c†"
    assert delta_text(math.nan, math.nan, 0, 1.0, 0.2, 5) == "–"
    assert delta_text(0.7, 0.1, 4, None, None, 5) == "–"
    assert signed(-1.5, ">8.2f") == "-1.50" and signed(2.0, "g") == "+2"


def _spec(paper: str, **extra) -> Spec:
    return Spec(Path("x.yaml"), {"id": "x", "paper": paper, **extra})


def test_paper_trials_stated_assumed_and_overridden():
    stated = paper_trials(_spec("004_b5b197064a80ecd0.txt"))
    assert stated.n == 5 and "stated" in stated.source
    assumed = paper_trials(_spec("000_d6941531641dbbe7.txt"))
    assert assumed.n == ASSUMED_N and "assumed" in assumed.source
    assert paper_trials(_spec("000_x.txt", paper_n=10)).n == 10
    with pytest.raises(ValueError, match="paper_n must be a positive integer"):
        paper_trials(_spec("000_x.txt", paper_n=0))
