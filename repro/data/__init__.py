"""Datasets of the seeds by name: real image sets (torchvision readers), offline stand-ins, synthetic sets.

    from repro.data import get_dataset, get_sampler, DATASETS
    ds = get_dataset("cifar10", split="train", root=None)    # (image 3×32×32 in [-1, 1], label)
    x = get_sampler("gmm-grid")(512, generator=torch.Generator().manual_seed(0))
"""
from .errors import DatasetMissing
from .roots import data_root

_FROM_REGISTRY = ("DATASETS", "DatasetSpec", "get_dataset", "get_sampler", "get_spec", "prepare")


def __getattr__(name: str):
    # The registry imports torch and torchvision: load it on first use, so `repro --help` stays fast.
    if name in _FROM_REGISTRY:
        from . import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'repro.data' has no attribute '{name}'")

__all__ = ["DATASETS", "DatasetSpec", "DatasetMissing", "data_root", "get_dataset", "get_sampler", "get_spec",
           "prepare"]
