"""repro/curves.py on hand-made curves: common budgets, a metric at a budget, windows and their sentence."""
import math

from repro.curves import Window, common_budgets, step_text, value_at, window_sentence, windows


def curve(steps, metric="modes", values=None):
    values = values if values is not None else [float(s) for s in steps]
    return [{"step": s, metric: v} for s, v in zip(steps, values)]


def test_common_budgets_are_the_steps_every_curve_has():
    a = curve([8000, 16000, 24000, 32000])
    b = curve([16000, 32000, 48000])  # a length-aware run evaluates on a coarser grid
    c = curve([4000, 8000, 16000, 32000, 64000])
    assert common_budgets([a, b, c]) == [16000, 32000]
    assert common_budgets([a]) == [8000, 16000, 24000, 32000]
    assert common_budgets([]) == [] and common_budgets([a, []]) == []


def test_common_budgets_with_a_metric_skip_points_without_a_finite_value():
    a = [{"step": 1000, "kl": 0.5}, {"step": 2000, "kl": math.nan}, {"step": 3000, "kl": 0.2}]
    b = [{"step": 1000, "kl": 0.4}, {"step": 2000, "kl": 0.3}, {"step": 3000, "hq": 0.9}]
    assert common_budgets([a, b]) == [1000, 2000, 3000]  # steps only
    assert common_budgets([a, b], "kl") == [1000]


def test_value_at_reads_exactly_that_step():
    c = [{"step": 100, "kl": 0.5}, {"step": 200, "kl": 0.25}, {"step": 300}]
    assert value_at(c, 200, "kl") == 0.25
    assert value_at(c, 150, "kl") is None  # no interpolation
    assert value_at(c, 300, "kl") is None  # the point lacks the metric


def test_windows_group_consecutive_budgets_in_step_order():
    outcomes = [(160000, "no"), (32000, "yes"), (64000, "yes"), (120000, "yes"), (8000, "maybe")]
    assert windows(outcomes) == [Window("maybe", 8000, 8000, 1), Window("yes", 32000, 120000, 3),
                                 Window("no", 160000, 160000, 1)]
    assert windows([]) == []


def test_window_sentence():
    words = {"reproduced": "holds", "not reproduced": "fails", "inconclusive": "inconclusive"}
    rows = [(32000, "reproduced"), (64000, "reproduced"), (120000, "reproduced"),
            (160000, "not reproduced"), (200000, "not reproduced")]
    assert window_sentence(rows, words) == "holds from 32k to 120k steps; fails from 160k"
    rows = [(8000, "inconclusive"), (16000, "reproduced"), (24000, "reproduced"), (1600000, "not reproduced")]
    assert window_sentence(rows, words) == "inconclusive at 8k steps; holds from 16k to 24k; fails at 1.6M"
    assert window_sentence([(1000, "reproduced"), (2000, "reproduced")], words) == "holds from 1k to 2k steps"
    assert window_sentence([(500, "x")]) == "x at 500 steps"
    assert window_sentence([]) == ""


def test_step_text():
    assert [step_text(s) for s in (0, 500, 1000, 32000, 200000, 1600000)] == ["0", "500", "1k", "32k", "200k", "1.6M"]
