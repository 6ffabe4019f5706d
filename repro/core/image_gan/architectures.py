"""Architecture names → (generator, discriminator) pairs, at the resolution of the data actually used.

* ``dcgan``: 003 Tables S1/S2 (32, 48, 64); also KernelNet's CIFAR-10/STL-10 nets (000 §4.1: 7-layer CNN
  discriminator, 4-layer CNN generator, "following Arbel et al.", who use Miyato et al.'s DCGAN).
* ``cnn5-resnet``: KernelNet CelebA 160: 10-layer ResNet generator, 5-layer CNN discriminator.
* ``resnet``: KernelNet ImageNet 64: 10-layer ResNets for both.
"""
from __future__ import annotations

from torch import nn

from repro.core.nets.arbel_cnn import CNN5Discriminator
from repro.core.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from repro.core.nets.resnet import ResNetDiscriminator, ResNetGenerator

ARCHITECTURES = ("dcgan", "cnn5-resnet", "resnet")


def build_nets(arch: str, resolution: int, out_dim: int, z_dim: int = 128,
               channels: int = 3, width: int | None = None) -> tuple[nn.Module, nn.Module]:
    """``width``: base channel count of the ResNets (64, Miyato et al.); smaller only for quick tests."""
    ch = 64 if width is None else int(width)
    if arch == "dcgan":
        if width is not None:
            raise ValueError("the DCGAN nets have the fixed widths of 003 Tables S1/S2; 'width' applies to resnet only.")
        return DCGANGenerator(resolution, z_dim, channels), DCGANDiscriminator(resolution, out_dim, channels)
    if arch == "cnn5-resnet":
        return ResNetGenerator(resolution, z_dim, ch, channels), CNN5Discriminator(resolution, out_dim, channels)
    if arch == "resnet":
        return ResNetGenerator(resolution, z_dim, ch, channels), ResNetDiscriminator(resolution, out_dim, ch, channels)
    raise ValueError(f"unknown architecture {arch!r}; choose one of {ARCHITECTURES}.")


def choose_architecture(setting, dataset: str) -> str:
    """``setting`` is a name, or a mapping paper-dataset → name (KernelNet uses one per dataset)."""
    if isinstance(setting, dict):
        if dataset not in setting:
            raise ValueError(f"config 'architecture' names no network for dataset {dataset!r}; "
                             f"it has {sorted(setting)}.")
        setting = setting[dataset]
    if setting not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {setting!r}; choose one of {ARCHITECTURES}.")
    return setting
