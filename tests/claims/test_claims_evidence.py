"""The evidence quoted by the ledger's disagreement notes, recomputed (003 Fig. S1, claim 003-s1-rbf-equilibrium)."""
import numpy as np
import pytest

from repro.claims.ledger import load_claims
from repro.core.dynamics import TwoParamMMDGAN


def test_fig_s1_note_evidence():
    rbf, rep = TwoParamMMDGAN("normal", "rbf"), TwoParamMMDGAN("normal", "rep")
    # both models share the generator's nullcline: the generator loss, hence w1', is the same function
    for point in [(1.3, 0.5), (1.55, 0.74), (1.7, 1.0)]:
        assert rbf.field(*point)[0] == pytest.approx(rep.field(*point)[0], rel=1e-12, abs=1e-15)
    # at the paper's MMD-rbf point the field is (-0.023, 0.003), not zero; at its MMD-rep point w1' is ~0
    assert rbf.field(1.55, 0.74) == pytest.approx([-0.023, 0.003], abs=6e-4)
    assert abs(rep.field(1.55, 0.32)[0]) < 1e-3
    # no kernel bandwidth puts both of the paper's points at zeros of their fields
    for sigma in (0.25, 0.35, 0.5, 0.7, 1.0, 1.41, 2.0):
        f_rbf = TwoParamMMDGAN("normal", "rbf", sigma=sigma).field(1.55, 0.74)
        f_rep = TwoParamMMDGAN("normal", "rep", sigma=sigma).field(1.55, 0.32)
        assert max(np.abs(f_rbf).max(), np.abs(f_rep).max()) > 0.005, sigma
    note = next(c for c in load_claims() if c.id == "003-s1-rbf-equilibrium").note
    assert "(1.484, 0.796)" in note and "(-0.023, 0.003)" in note
