"""MS-SSIM against an independent numpy/scipy transcription of the reference algorithm."""
import numpy as np
import pytest
import torch
from scipy import ndimage, signal

from repro.metrics import ms_ssim, ms_ssim_diversity
from repro.metrics.ms_ssim import scales

WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])


def _gauss(size, sigma):
    radius, offset, stop = size // 2, 0.0, size // 2 + 1
    if size % 2 == 0:
        offset, stop = 0.5, stop - 1
    x, y = np.mgrid[offset - radius:stop, offset - radius:stop]
    g = np.exp(-(x ** 2 + y ** 2) / (2.0 * sigma ** 2))
    return g / g.sum()


def _ssim_cs(a, b):  # a, b: H×W×C in [0, 1]
    size = min(11, a.shape[0], a.shape[1])
    w = _gauss(size, size * 1.5 / 11)[:, :, None]
    conv = lambda z: signal.fftconvolve(z, w, mode="valid")  # noqa: E731
    mu1, mu2 = conv(a), conv(b)
    s11, s22, s12 = conv(a * a) - mu1 ** 2, conv(b * b) - mu2 ** 2, conv(a * b) - mu1 * mu2
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    v1, v2 = 2 * s12 + c2, s11 + s22 + c2
    return np.mean((2 * mu1 * mu2 + c1) * v1 / ((mu1 ** 2 + mu2 ** 2 + c1) * v2)), np.mean(v1 / v2)


def _ms_ssim_reference(a, b):
    mcs, mssim = [], []
    box = np.ones((2, 2, 1)) / 4
    for _ in range(5):
        s, c = _ssim_cs(a, b)
        mssim.append(s)
        mcs.append(c)
        a, b = [ndimage.convolve(z, box, mode="reflect")[::2, ::2] for z in (a, b)]
    mcs, mssim = np.maximum(mcs, 0), np.maximum(mssim, 0)
    return np.prod(mcs[:4] ** WEIGHTS[:4]) * mssim[4] ** WEIGHTS[4]


def _smooth_pair(n, c, size, seed):
    g = torch.Generator().manual_seed(seed)
    base = torch.nn.functional.avg_pool2d(torch.rand(n, c, size + 4, size + 4, generator=g), 5, stride=1)
    noisy = base + 0.1 * torch.rand(n, c, size, size, generator=g)
    return (base * 2 - 1).clamp(-1, 1), (noisy * 2 - 1).clamp(-1, 1)


@pytest.mark.parametrize("size,channels", [(32, 3), (48, 3), (64, 1), (37, 3)])
def test_matches_reference_transcription(size, channels):
    a, b = _smooth_pair(3, channels, size, seed=size)
    got = ms_ssim(a, b)
    for i in range(3):
        ref = _ms_ssim_reference(((a[i] + 1) / 2).permute(1, 2, 0).double().numpy(),
                                 ((b[i] + 1) / 2).permute(1, 2, 0).double().numpy())
        assert 0.05 < ref < 1
        assert float(got[i]) == pytest.approx(ref, rel=1e-7)


@pytest.mark.parametrize("size", [32, 48, 64])
def test_image_with_itself_is_one(size):
    x = torch.rand(4, 3, size, size, generator=torch.Generator().manual_seed(0)) * 2 - 1
    torch.testing.assert_close(ms_ssim(x, x), torch.ones(4, dtype=torch.float64), rtol=0, atol=1e-12)


def test_window_shrinks_at_coarse_scales():
    assert [s[2] for s in scales(32, 32)] == [11, 11, 8, 4, 2]
    assert [s[2] for s in scales(48, 48)] == [11, 11, 11, 6, 3]
    assert scales(32, 32)[3][3] == pytest.approx(1.5 * 4 / 11)


def test_diversity_uses_distinct_pairs_and_identical_images_score_one():
    a, b = _smooth_pair(1, 3, 32, seed=5)
    two = torch.cat([a, b])
    assert ms_ssim_diversity(two, num_pairs=6, seed=1) == pytest.approx(float(ms_ssim(a, b)[0]), rel=1e-12)
    same = a.expand(6, -1, -1, -1)
    assert ms_ssim_diversity(same, num_pairs=6) == pytest.approx(1.0, abs=1e-12)
    five = torch.rand(5, 3, 32, 32) * 2 - 1
    assert ms_ssim_diversity(five, 8, seed=3) == ms_ssim_diversity(five, 8, seed=3)


def test_bad_input_errors():
    x = torch.zeros(2, 3, 32, 32)
    with pytest.raises(ValueError, match=r"\[-1, 1\] is expected"):
        ms_ssim(x + 3, x)
    with pytest.raises(ValueError, match="one shape"):
        ms_ssim(x, torch.zeros(2, 3, 48, 48))
    with pytest.raises(ValueError, match="at least 16"):
        ms_ssim(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="at least 2 images"):
        ms_ssim_diversity(x[:1])
    with pytest.raises(ValueError, match="NaN or inf"):
        ms_ssim(x * float("nan"), x)
