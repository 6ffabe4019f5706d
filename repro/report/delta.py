"""Reproduced minus paper, and that difference in units of the combined standard error.

z = (m_r − m_p) / sqrt(s_r²/n_r + s_p²/n_p)   (Welch's standard error of a difference of two means)

with m, s, n the mean, sample standard deviation and number of runs of the reproduction (r) and the
paper (p). No z when the paper gives no std, when fewer than two reproduced runs give no s_r, or when
the combined standard error is zero. Cells not comparable to the paper (stand-in data, uncalibrated
feature extractor) get no delta at all.
"""
from __future__ import annotations

import math

NOT_COMPARABLE = "n/c"


def combined_standard_error(std_r: float, n_r: int, std_p: float, n_p: int) -> float:
    return math.sqrt(std_r ** 2 / n_r + std_p ** 2 / n_p)


def standardized_difference(mean_r: float, std_r: float | None, n_r: int,
                            mean_p: float, std_p: float | None, n_p: int) -> float | None:
    """(m_r − m_p) / SE, or None when it is undefined (see module docstring)."""
    if std_p is None or std_r is None or n_r < 2 or math.isnan(std_r):
        return None
    se = combined_standard_error(std_r, n_r, std_p, n_p)
    return (mean_r - mean_p) / se if se > 0 else None


def signed(x: float, fmt: str) -> str:
    """``x`` in the metric's format with an explicit sign ("+0.50", "-1.2")."""
    text = format(x, fmt).strip()
    return text if text.startswith(("-", "+")) else "+" + text


def delta_text(mean_r: float, std_r: float | None, n_r: int, mean_p: float | None, std_p: float | None,
               n_p: int, fmt: str = ".2f", comparable: bool = True, marks: str = "") -> str:
    """"+0.50 (+0.8 SE)", "+0.50" (no z), "n/c†" (not comparable) or "–" (nothing to compare)."""
    if n_r == 0 or mean_p is None or math.isnan(mean_r):
        return "–"
    if not comparable:
        return NOT_COMPARABLE + marks
    diff = mean_r - mean_p
    text = signed(diff, fmt)
    z = standardized_difference(mean_r, std_r, n_r, mean_p, std_p, n_p)
    return text + (f" ({z:+.1f} SE)" if z is not None else "")
