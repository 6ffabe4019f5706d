"""Relative KID three-sample test (Bounliphone et al. 2016) for learning-rate decay.

000 §6 and 002 ("Automatic learning rate adaptation with KID") decay the learning rate when the
model stops improving: at each evaluation, test whether the new generator samples Y are closer to
the data X than the samples Z of the previous evaluation, in the KID kernel k(x,y) = (xᵀy/d + 1)³.

Statistic: t = MMD²_u(X, Y) − MMD²_u(X, Z) (the K_XX terms cancel), with the unbiased MMD²
(off-diagonal within-set means, full cross means). Its variance is the first-order (Hoeffding)
U-statistic variance that Bounliphone et al. use, estimated from the empirical projections
    g_Y(yᵢ) = 2 (mean_{j≠i} k(yᵢ,yⱼ) − mean_a k(x_a,yᵢ)),
    g_Z(zᵢ) = −2 (mean_{j≠i} k(zᵢ,zⱼ) − mean_a k(x_a,zᵢ)),
    g_X(x_a) = 2 (mean_i k(x_a,zᵢ) − mean_i k(x_a,yᵢ)),
as σ² = Var(g_X)/n_X + Var(g_Y)/n_Y + Var(g_Z)/n_Z (sample variances of the plug-in projections).
The plug-in projections carry the noise of their row means, so σ̂ sits above the first-order
variance; at the sizes used for LR decay that extra roughly stands in for the second-order terms
the first-order formula omits (Monte Carlo, d = 16, n = 300: σ̂ ≈ 1.3× the true std of t, while the
noise-corrected first-order value is ≈ 0.7×), so we keep it: the test errs towards "no improvement".
Every Gram matrix is reduced in blocks (row and column sums only), so memory stays O(n·d + block)
at the protocol's 50,000 real images; the decay rule skips the K_XX sums, which cancel.
The p-value of the null
"Y is no closer to X than Z" is Φ(t / σ): small when the new samples are clearly better.

:class:`RelativeKIDDecay` applies the rule of Bińkowski et al. / Arbel et al.: decay when the
p-value exceeds 0.1 at three consecutive evaluations (then the count restarts). Which earlier
samples to compare with is unstated; we use the previous evaluation's samples.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from ._checks import feature_matrix, same_dimension


BLOCK_ELEMENTS = 1 << 20  # kernel entries per block: 1M float64 = 8 MiB, whatever n is


def _kernel_sums(a: torch.Tensor, b: torch.Tensor, same: bool = False,
                 block_elements: int = BLOCK_ELEMENTS) -> tuple[torch.Tensor, torch.Tensor]:
    """Row sums and column sums of k(a, b) = (aᵀb/d + 1)³, one block of rows at a time, so memory is
    O(block_elements) whatever len(a)·len(b) is. ``same``: a is b, and the diagonal k(aᵢ, aᵢ) is
    left out of both sums (the unbiased, off-diagonal means)."""
    d = a.shape[1]
    rows = max(1, block_elements // max(1, b.shape[0]))
    row_sums = torch.empty(a.shape[0], dtype=a.dtype)
    col_sums = torch.zeros(b.shape[0], dtype=a.dtype)
    for start in range(0, a.shape[0], rows):
        k = a[start:start + rows] @ b.T
        k.div_(d).add_(1.0).pow_(3)
        if same:
            k.diagonal(offset=start).zero_()
        row_sums[start:start + rows] = k.sum(dim=1)
        col_sums += k.sum(dim=0)
    return row_sums, col_sums


def relative_kid_test(data_features, new_features, old_features, data_term: bool = True,
                      block_elements: int = BLOCK_ELEMENTS) -> dict:
    """One-sided test of MMD²(data, new) < MMD²(data, old); returns p_value, statistic, std and both MMD².

    Every Gram matrix is reduced in blocks of ``block_elements`` entries (memory O(n·d + block), not
    O(n²)). The K_XX term cancels in the statistic and its variance, so ``data_term=False`` skips its
    O(n_X²) cost and reports the two MMD² without it (``mmd2_*`` then lack the constant K_XX mean)."""
    names = ("data features", "new sample features", "old sample features")
    x, y, z = (torch.from_numpy(feature_matrix(f, n, min_rows=3)) for f, n in
               zip((data_features, new_features, old_features), names))
    same_dimension(x, y, names[0], names[1])
    same_dimension(x, z, names[0], names[2])
    nx, ny, nz = x.shape[0], y.shape[0], z.shape[0]
    yy_rows = _kernel_sums(y, y, same=True, block_elements=block_elements)[0] / (ny - 1)
    zz_rows = _kernel_sums(z, z, same=True, block_elements=block_elements)[0] / (nz - 1)
    xy_rows, xy_cols = _kernel_sums(x, y, block_elements=block_elements)
    xz_rows, xz_cols = _kernel_sums(x, z, block_elements=block_elements)
    xx_term = 0.0
    if data_term:
        xx_term = float(_kernel_sums(x, x, same=True, block_elements=block_elements)[0].sum()) / (nx * (nx - 1))
    mmd_new = xx_term + float(yy_rows.mean()) - 2 * float(xy_rows.sum()) / (nx * ny)
    mmd_old = xx_term + float(zz_rows.mean()) - 2 * float(xz_rows.sum()) / (nx * nz)
    g_y = 2 * (yy_rows - xy_cols / nx)
    g_z = -2 * (zz_rows - xz_cols / nx)
    g_x = 2 * (xz_rows / nz - xy_rows / ny)
    var = sum(float(g.var(unbiased=True)) / g.shape[0] for g in (g_x, g_y, g_z))
    statistic = mmd_new - mmd_old
    std = math.sqrt(max(var, 0.0))
    if std == 0.0:
        p_value = 0.0 if statistic < 0 else 1.0
    else:
        p_value = 0.5 * math.erfc(-statistic / (std * math.sqrt(2)))  # Φ(t/σ)
    return {"p_value": p_value, "statistic": statistic, "std": std, "mmd2_new": mmd_new, "mmd2_old": mmd_old}


@dataclass
class RelativeKIDDecay:
    """Learning-rate decay signal: ``step(data, new)`` → True when the LR should be decayed now.

    Keeps the previous evaluation's features; the first call only stores them.
    """

    alpha: float = 0.1
    patience: int = 3
    failures: int = 0
    previous: np.ndarray | None = field(default=None, repr=False)
    history: list = field(default_factory=list)

    def update(self, p_value: float) -> bool:
        self.failures = self.failures + 1 if p_value > self.alpha else 0
        self.history.append(p_value)
        if self.failures >= self.patience:
            self.failures = 0
            return True
        return False

    def step(self, data_features, new_features) -> bool:
        new = feature_matrix(new_features, "new sample features", min_rows=3)
        decay = False
        if self.previous is not None:
            # the data's own term cancels in the test: skip its O(n_data²) kernel sums
            decay = self.update(relative_kid_test(data_features, new, self.previous, data_term=False)["p_value"])
        self.previous = new
        return decay

    def state_dict(self) -> dict:
        return {"failures": self.failures, "previous": self.previous, "history": list(self.history)}

    def load_state_dict(self, state: dict) -> None:
        self.failures, self.previous, self.history = state["failures"], state["previous"], list(state["history"])
