"""003 App. A.2's trivial-solution basin: the fractions on a field worked out by hand, and the real field near w2 = 0."""
import numpy as np
import pytest

from repro.core.dynamics import TwoParamMMDGAN
from repro.core.dynamics.basin import descend, outcome_fractions, stratified_starts


def switch_field(w1, w2):
    """w1 stays put; w2 decays to 0 where w1 > 1 and relaxes to 1 where w1 < 1."""
    return np.stack([np.zeros_like(w1), np.where(w1 > 1, -w2, 1 - w2)], axis=1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_basin_fraction_worked_out_by_hand(seed):
    # 5 × 5 cells over w1 ∈ [0, 2.5]: the cells [1, 1.5), [1.5, 2), [2, 2.5) lie in w1 > 1, so 3 of 5 columns
    # end trivial whatever the draw. 100 steps of 0.1: trivial ones reach |w2| ≤ 2·0.9^100 = 5e-5 < 0.01; the
    # others reach |1 - w2| ≤ 1·0.9^100 = 2.7e-5 < 1e-4, a rest point.
    w1, w2 = stratified_starts((0.0, 2.5), (0.5, 2.0), 5, seed)
    end = descend(switch_field, w1, w2, lr_g=0.1, lr_d=0.1, steps=100)
    assert outcome_fractions(switch_field, *end) == {"trivial": 0.6, "nontrivial": 0.4, "unsettled": 0.0}
    # 10 steps are too few for either: 2·0.9^10 = 0.70 and 1·0.9^10 = 0.35
    early = descend(switch_field, w1, w2, lr_g=0.1, lr_d=0.1, steps=10)
    assert outcome_fractions(switch_field, *early)["unsettled"] > 0


def test_stratified_starts_one_per_cell():
    w1, w2 = stratified_starts((0.0, 2.5), (-0.5, 2.0), 8, seed=3)
    i, j = np.floor(w1 / 2.5 * 8).astype(int), np.floor((w2 + 0.5) / 2.5 * 8).astype(int)
    assert sorted(zip(i, j)) == [(a, b) for a in range(8) for b in range(8)]
    again = stratified_starts((0.0, 2.5), (-0.5, 2.0), 8, seed=3)
    assert np.array_equal(w1, again[0]) and not np.array_equal(w1, stratified_starts((0.0, 2.5), (-0.5, 2.0), 8, 4)[0])


def test_descend_matches_closed_form_on_linear_field():
    # w' = (-2 w1, -0.5 w2): explicit steps multiply by (1 - lr·a) each
    end1, end2 = descend(lambda a, b: np.stack([-2 * a, -0.5 * b], 1), np.array([1.0, -3.0]), np.array([2.0, 4.0]),
                         lr_g=0.05, lr_d=0.2, steps=30)
    assert np.allclose(end1, np.array([1.0, -3.0]) * 0.9 ** 30) and np.allclose(end2, np.array([2.0, 4.0]) * 0.9 ** 30)


def test_non_finite_end_is_unsettled():
    fractions = outcome_fractions(switch_field, np.array([2.0, np.nan]), np.array([1e-5, np.inf]))
    assert fractions == {"trivial": 0.5, "nontrivial": 0.0, "unsettled": 0.5}


def test_field_batch_equals_pointwise():
    game = TwoParamMMDGAN("normal", "rep", panels=6)
    w1, w2 = np.array([0.4, 1.3, 2.2]), np.array([-0.3, 0.7, 1.9])
    assert np.allclose(game.field_batch(w1, w2), [game.field(a, b) for a, b in zip(w1, w2)], rtol=1e-13, atol=0)


@pytest.mark.parametrize("w1", [0.5, 1.5])
def test_growth_of_w2_near_the_trivial_line(w1):
    """Small-w2 expansion of 003 eq. S1, k ≈ 1 - w2²(a - b)²/(2σ²), σ = 0.5, P_X = U(-1, 1):
    MMD-rep: w2'/w2 → (2/σ²)(Var X² - Var Y²) = (32/45)(1 - w1⁴): the trivial line attracts where w1 > 1;
    MMD-rbf: w2'/w2 → (2/σ²)(E X² - E Y²)² = 8(1 - w1²)²/9 ≥ 0: it never attracts."""
    w2 = 1e-4
    rep = TwoParamMMDGAN("uniform", "rep").field(w1, w2)[1] / w2
    rbf = TwoParamMMDGAN("uniform", "rbf").field(w1, w2)[1] / w2
    assert rep == pytest.approx(32 / 45 * (1 - w1 ** 4), rel=1e-6)
    assert rbf == pytest.approx(8 * (1 - w1 ** 2) ** 2 / 9, rel=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="n >= 1"):
        stratified_starts((0, 1), (0, 1), 0, seed=0)
    with pytest.raises(ValueError, match="positive step sizes"):
        descend(switch_field, np.ones(2), np.ones(2), lr_g=0.0, lr_d=0.1, steps=5)
