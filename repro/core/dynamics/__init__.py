"""Closed-form training dynamics of tiny GANs: 003 App. A.2's two-parameter MMD-GAN and the talks' DiracGAN."""
from . import diracgan
from .two_param_mmd import Equilibrium, TwoParamMMDGAN, find_equilibria, folded_quadrature

__all__ = ["Equilibrium", "TwoParamMMDGAN", "diracgan", "find_equilibria", "folded_quadrature"]
