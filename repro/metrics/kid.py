"""Kernel Inception Distance (Bińkowski et al. 2018; 002 "New method: KID").

Convention (one, documented, the one clean-fid and torch-fidelity implement):
- kernel k(x, y) = (xᵀy / d + 1)³ (002: "default polynomial kernel");
- estimator: the unbiased MMD² of two equal-size subsets X, Y of size m,
  MMD²_u = Σ_{i≠j} [k(xᵢ,xⱼ) + k(yᵢ,yⱼ)] / (m(m−1)) − 2 Σ_{i,j} k(xᵢ,yⱼ) / m²;
- ``num_subsets`` subsets, each drawn without replacement from each set, independently across
  subsets, by ``numpy.random.RandomState(seed)`` in torch-fidelity's order (set 1 then set 2 per
  subset), so ``kid(f1, f2, s, m, seed)`` reproduces ``torch_fidelity`` with ``rng_seed=seed``;
- reported: mean and standard deviation (divisor n, as torch-fidelity) over the subsets;
- when a set has fewer than ``subset_size`` samples, m = min(n₁, n₂) and the result records it
  (``KIDResult.subset_size``, ``.reduced``) and a warning is logged; it never crashes.

Speed: per subset, rows are gathered into fixed buffers; each kernel block is a torch matrix
product in the features' precision (float32 or float64; K_XX and K_YY from their halves by
symmetry, 3/4 of the multiplications) written into a preallocated buffer and transformed in
place (on CPU by numpy); on CPU the subsets are spread over single-threaded workers, one per
torch thread (see ``_subset_mmds``); the sums are accumulated in float64
(float32 pairwise row sums, then a float64 total), so the MMD² cancellation loses less than
clean-fid's float32 totals. Nothing is allocated per subset.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from ._checks import feature_matrix, same_dimension

log = logging.getLogger(__name__)


class KIDResult(tuple):
    """``(mean, std)`` of the subset MMD² values, with the protocol attached as attributes."""

    def __new__(cls, mean: float, std: float, *, subset_size: int, num_subsets: int, n1: int, n2: int,
                requested_subset_size: int):
        obj = super().__new__(cls, (float(mean), float(std)))
        obj.subset_size = subset_size
        obj.num_subsets = num_subsets
        obj.n1, obj.n2 = n1, n2
        obj.reduced = subset_size < requested_subset_size
        return obj

    @property
    def mean(self) -> float:
        return self[0]

    @property
    def std(self) -> float:
        return self[1]

    def as_record(self, prefix: str = "kid") -> dict:
        """Flat floats for a run record: mean, std and the subset protocol actually used."""
        return {prefix: self.mean, f"{prefix}_std": self.std, f"{prefix}_subset_size": float(self.subset_size),
                f"{prefix}_num_subsets": float(self.num_subsets)}


class _KernelSums:
    """Σ k and Σ diag k of the cubic polynomial kernel between two row blocks, reusing buffers.

    Each product runs in torch (MKL on CPU, cuBLAS on GPU) into a preallocated buffer. On CPU the
    in-place transform and the sums then run in numpy on the same memory: single-threaded loops avoid
    torch's OpenMP barriers, which cost more than the work itself on a busy 2-core machine.
    A block with itself (K_XX, K_YY) is symmetric: it is computed as two halves and their cross term,
    Σ K_XX = Σ K(X₁,X₁) + Σ K(X₂,X₂) + 2 Σ K(X₁,X₂), i.e. 3/4 of the multiplications.
    """

    def __init__(self, dtype: torch.dtype, device: torch.device):
        self.dtype, self.device = dtype, torch.device(device)
        self.on_cpu = self.device.type == "cpu"
        self.buffers: dict[tuple[int, int], torch.Tensor] = {}

    def _buffer(self, n: int, m: int) -> torch.Tensor:
        if (n, m) not in self.buffers:
            self.buffers[(n, m)] = torch.empty(n, m, dtype=self.dtype, device=self.device)
        return self.buffers[(n, m)]

    def cross(self, a: torch.Tensor, b: torch.Tensor) -> tuple[float, float]:
        """(Σ_ij k(aᵢ, bⱼ), Σ_i k(aᵢ, bᵢ)) — the second only meaningful when a is b."""
        d = a.shape[1]
        buf = self._buffer(a.shape[0], b.shape[0])
        torch.mm(a, b.T, out=buf)
        if self.on_cpu:
            k = buf.numpy()
            k *= 1.0 / d
            k += 1.0
            np.power(k, 3, out=k)
            total = float(k.sum(axis=1).sum(dtype=np.float64))  # pairwise float32 rows, float64 total
            return total, float(np.trace(k, dtype=np.float64))
        buf.mul_(1.0 / d).add_(1.0).pow_(3)
        return buf.sum(dim=1).double().sum().item(), buf.diagonal().double().sum().item()

    def within(self, a: torch.Tensor) -> tuple[float, float]:
        """(Σ_ij k(aᵢ, aⱼ), Σ_i k(aᵢ, aᵢ)) using the symmetry of the block."""
        half = a.shape[0] // 2
        if half < 2:
            return self.cross(a, a)
        top, bottom = a[:half], a[half:]
        s11, d11 = self.cross(top, top)
        s22, d22 = self.cross(bottom, bottom)
        s12, _ = self.cross(top, bottom)
        return s11 + s22 + 2 * s12, d11 + d22


def _as_tensor(features, name: str, device) -> torch.Tensor:
    arr = feature_matrix(features, name, min_rows=2, dtype=None)
    if isinstance(features, torch.Tensor) and device is None:
        device = features.device
    return torch.from_numpy(arr).to(device or "cpu")


def mmd2_unbiased_from_sums(kxx_offdiag: float, kyy_offdiag: float, kxy: float, m: int) -> float:
    return (kxx_offdiag + kyy_offdiag) / (m * (m - 1)) - 2.0 * kxy / (m * m)


def kid_from_subsets(features1, features2, subsets, device=None) -> np.ndarray:
    """Unbiased MMD² for each given subset pair ``(idx1, idx2)`` of equal length (same kernel as :func:`kid`)."""
    x_all = _as_tensor(features1, "first feature set", device)
    y_all = _as_tensor(features2, "second feature set", device)
    same_dimension(x_all, y_all, "first feature set", "second feature set")
    return _subset_mmds(x_all, y_all, subsets)


class _SubsetWorker:
    """Buffers of one worker: gathered rows and kernel blocks, reused across subsets."""

    def __init__(self, x_all: torch.Tensor, y_all: torch.Tensor):
        self.x_all, self.y_all = x_all, y_all
        self.sums = _KernelSums(x_all.dtype, x_all.device)
        self.rows_x = self.rows_y = None

    def __call__(self, pair) -> float:
        idx1, idx2 = np.asarray(pair[0]), np.asarray(pair[1])
        m = len(idx1)
        if len(idx2) != m or m < 2:
            raise ValueError(f"each KID subset pair needs two index sets of the same size ≥ 2; got {m} and {len(idx2)}.")
        x_all, y_all = self.x_all, self.y_all
        if self.rows_x is None or self.rows_x.shape[0] != m:
            self.rows_x = torch.empty(m, x_all.shape[1], dtype=x_all.dtype, device=x_all.device)
            self.rows_y = torch.empty_like(self.rows_x)
        if x_all.device.type == "cpu":  # gather into fixed buffers: no allocation (page faults) per subset
            np.take(x_all.numpy(), idx1, axis=0, out=self.rows_x.numpy())
            np.take(y_all.numpy(), idx2, axis=0, out=self.rows_y.numpy())
        else:
            torch.index_select(x_all, 0, torch.as_tensor(idx1, device=x_all.device), out=self.rows_x)
            torch.index_select(y_all, 0, torch.as_tensor(idx2, device=y_all.device), out=self.rows_y)
        sxx, dxx = self.sums.within(self.rows_x)
        syy, dyy = self.sums.within(self.rows_y)
        sxy, _ = self.sums.cross(self.rows_x, self.rows_y)
        return mmd2_unbiased_from_sums(sxx - dxx, syy - dyy, sxy, m)


def _subset_mmds(x_all: torch.Tensor, y_all: torch.Tensor, subsets) -> np.ndarray:
    """MMD² per subset. On CPU, subsets run concurrently in ``torch.get_num_threads()`` Python threads,
    each doing single-threaded products (torch's thread count is set to 1 meanwhile and restored):
    independent workers never wait at a barrier for a descheduled partner, which on a shared machine
    is worth more than a multi-threaded product (benchmarks/bench_metrics.py)."""
    subsets = list(subsets)
    workers = torch.get_num_threads() if x_all.device.type == "cpu" else 1
    if workers <= 1 or len(subsets) <= 1:
        worker = _SubsetWorker(x_all, y_all)
        return np.asarray([worker(pair) for pair in subsets])
    local = threading.local()

    def run(pair):
        if not hasattr(local, "worker"):
            local.worker = _SubsetWorker(x_all, y_all)
        return local.worker(pair)

    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return np.asarray(list(pool.map(run, subsets)))
    finally:
        torch.set_num_threads(workers)


def draw_subsets(n1: int, n2: int, num_subsets: int, subset_size: int, seed: int):
    """Index pairs drawn without replacement by ``RandomState(seed)``, set 1 then set 2 (torch-fidelity's order)."""
    rng = np.random.RandomState(seed)
    return [(rng.choice(n1, subset_size, replace=False), rng.choice(n2, subset_size, replace=False))
            for _ in range(num_subsets)]


def kid(features1, features2, num_subsets: int = 100, subset_size: int = 1000, seed: int = 0,
        device=None) -> KIDResult:
    """KID mean and std over ``num_subsets`` random subsets (see the module docstring for the convention)."""
    if num_subsets < 1 or subset_size < 2:
        raise ValueError(f"KID needs num_subsets ≥ 1 and subset_size ≥ 2; got {num_subsets} and {subset_size}.")
    x_all = _as_tensor(features1, "first feature set", device)
    y_all = _as_tensor(features2, "second feature set", device)
    same_dimension(x_all, y_all, "first feature set", "second feature set")
    n1, n2 = x_all.shape[0], y_all.shape[0]
    m = min(subset_size, n1, n2)
    if m < subset_size:
        log.warning("KID: %d and %d samples, fewer than subset_size=%d; using subsets of %d (recorded).",
                    n1, n2, subset_size, m)
    mmds = _subset_mmds(x_all, y_all, draw_subsets(n1, n2, num_subsets, m, seed))
    return KIDResult(mmds.mean(), mmds.std(), subset_size=m, num_subsets=num_subsets, n1=n1, n2=n2,
                     requested_subset_size=subset_size)
