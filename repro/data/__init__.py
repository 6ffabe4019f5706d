"""Datasets of the seeds by name: real image sets (torchvision readers), offline stand-ins, synthetic sets.

    from repro.data import get_dataset, get_sampler, DATASETS
    ds = get_dataset("cifar10", split="train", root=None)    # (image 3×32×32 in [-1, 1], label)
    x = get_sampler("gmm-grid")(512, generator=torch.Generator().manual_seed(0))
"""
from .errors import DatasetMissing
from .registry import DATASETS, DatasetSpec, get_dataset, get_sampler, get_spec, prepare
from .roots import data_root

__all__ = ["DATASETS", "DatasetSpec", "DatasetMissing", "data_root", "get_dataset", "get_sampler", "get_spec",
           "prepare"]
