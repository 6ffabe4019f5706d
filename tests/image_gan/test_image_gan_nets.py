"""Shapes of every image-GAN architecture at every resolution it serves, and the layer counts 000 states."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from repro.core.image_gan import build_nets
from repro.core.nets.arbel_cnn import CNN5Discriminator
from repro.core.nets.resnet import ResNetDiscriminator, ResNetGenerator

CASES = [("dcgan", 32, 16), ("dcgan", 48, 1), ("dcgan", 64, 16), ("cnn5-resnet", 160, 1), ("cnn5-resnet", 32, 16),
         ("resnet", 64, 1), ("resnet", 32, 16)]


@pytest.mark.parametrize("arch,res,out_dim", CASES)
def test_generator_and_discriminator_shapes(arch, res, out_dim):
    g, d = build_nets(arch, res, out_dim)
    z = torch.rand(2, 128) * 2 - 1
    x = g(z)
    assert x.shape == (2, 3, res, res)
    assert x.abs().max() <= 1.0  # Tanh output, images in [-1, 1]
    assert d(x).shape == (2, out_dim)


def _count(module, kind):
    return sum(isinstance(m, kind) for m in module.modules())


def test_resnet_ten_conv_layers_in_blocks():
    # 000 §4.1: "10-layer ResNet" read as five residual blocks of two 3×3 convolutions
    for res in (64, 160):
        g, d = ResNetGenerator(res), ResNetDiscriminator(res)
        for net in (g, d):
            k3 = [m for m in net.blocks.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
            assert len(k3) == 10


def test_cnn5_discriminator_has_five_convs_and_rejects_odd_sizes():
    d = CNN5Discriminator(160)
    assert _count(d, nn.Conv2d) == 5
    with pytest.raises(ValueError, match="multiple of 32"):
        CNN5Discriminator(100)


def test_unknown_architecture_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown architecture"):
        build_nets("vgg", 32, 1)
    with pytest.raises(ValueError, match="resolution"):
        ResNetGenerator(100)
