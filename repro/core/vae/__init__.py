"""Implicit VAEs of KernelNet (000 §3.3, §4.2): shared nets, score estimators, the Table 3 models."""
from .models import METHODS, VAEFamily
from .nets import BernoulliDecoder, GaussianEncoder, ImplicitEncoder, SemiImplicitEncoder
from .score import spectral_score, stein_score

__all__ = ["METHODS", "VAEFamily", "BernoulliDecoder", "GaussianEncoder", "ImplicitEncoder",
           "SemiImplicitEncoder", "spectral_score", "stein_score"]
