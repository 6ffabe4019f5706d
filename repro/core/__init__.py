"""MMD-GAN core: kernels, MMD estimators and losses, KernelNet kernels, Lipschitz control (issue 4).

Public API (docs/core.md): ``mmd2(x, y, kernel, unbiased=True)``; kernel constructors ``rbf_sum``,
``rbf_single``, ``rq_sum``, ``make_kernel``, ``ikl_kernel``, ``dk_kernel``, ``make_learned_kernel``;
``repro.core.spectral.conv_spectral_norm``. Other helpers' modules (toy/, vae/, dynamics/, sig.py)
are imported by their own paths.
"""
from repro.core.kernels import GaussianRBF, RationalQuadratic, make_kernel, rbf_single, rbf_sum, rq_sum
from repro.core.kernelnet import RandomFeatureKernel, dk_kernel, ikl_kernel, make_learned_kernel
from repro.core.mmd import mmd2

__all__ = [
    "mmd2", "GaussianRBF", "RationalQuadratic", "make_kernel", "rbf_single", "rbf_sum", "rq_sum",
    "RandomFeatureKernel", "dk_kernel", "ikl_kernel", "make_learned_kernel",
]
