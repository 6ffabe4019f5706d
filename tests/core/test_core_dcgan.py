"""DCGAN networks follow 003 Tables S1/S2 layer by layer."""
import pytest
import torch
from torch import nn

from repro.core.nets.dcgan import DCGANDiscriminator, DCGANGenerator

TABLE_S1_D = [(3, 1, 64), (4, 2, 128), (3, 1, 128), (4, 2, 256), (3, 1, 256), (4, 2, 512), (3, 1, 512)]
TABLE_S1_G = [(4, 2, 256), (4, 2, 128), (4, 2, 64)]


@pytest.mark.parametrize("res,bottom", [(32, 4), (48, 6)])
def test_table_s1_layers_and_shapes(res, bottom):
    d = DCGANDiscriminator(res, out_dim=16)
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.kernel_size[0], c.stride[0], c.out_channels) for c in convs] == TABLE_S1_D
    assert sum(isinstance(m, nn.LeakyReLU) for m in d.modules()) == 7
    assert d.head.in_features == bottom * bottom * 512 and d.head.out_features == 16
    g = DCGANGenerator(res)
    assert g.dense.in_features == 128 and g.dense.out_features == bottom * bottom * 512
    deconvs = [m for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [(c.kernel_size[0], c.stride[0], c.out_channels) for c in deconvs] == TABLE_S1_G
    assert sum(isinstance(m, nn.BatchNorm2d) for m in g.modules()) == 3
    img = g(torch.randn(2, 128))
    assert img.shape == (2, 3, res, res) and img.abs().max() <= 1
    assert d(img).shape == (2, 16)


def test_table_s2_depth_and_bad_resolution():
    d = DCGANDiscriminator(64, out_dim=1)
    assert sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in d.modules()) == 10  # K = 10 (003 App. C.3)
    assert d.head.in_features == 4 * 4 * 1024
    assert DCGANGenerator(64)(torch.randn(1, 128)).shape == (1, 3, 64, 64)
    with pytest.raises(ValueError, match="resolutions"):
        DCGANGenerator(28)
