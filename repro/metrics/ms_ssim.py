"""MS-SSIM diversity of generated images (Wang et al. 2003; used by 003 Table 1 after Odena et al. 2017).

Per pair of images, following the reference implementation that compare_gan and Odena et al. use
(``MultiScaleSSIM`` of tensorflow/models, ``msssim.py``):
- values mapped from [-1, 1] to [0, 1], data range L = 1, C₁ = (0.01 L)², C₂ = (0.03 L)²;
- 5 scales, weights (0.0448, 0.2856, 0.3001, 0.2363, 0.1333);
- at each scale a Gaussian window of size s = min(11, H, W) with σ = 1.5·s/11, applied without
  padding ('valid'), channels filtered separately and averaged together with the positions;
- between scales a 2×2 mean then keeping every second pixel (an odd last row/column is averaged with
  its mirror copy, i.e. kept as is: scipy's 'reflect' mode).
Window shrinking, concretely: 32×32 images are compared at 32, 16, 8, 4, 2 px with windows
11, 11, 8 (σ 1.09), 4 (σ 0.55), 2 (σ 0.27); 48×48 at 48, 24, 12, 6, 3 px with 11, 11, 11, 6 (σ 0.82),
3 (σ 0.41); 64×64 at 64, 32, 16, 8, 4 px with 11, 11, 11, 8, 4. pytorch-msssim and torchmetrics
instead refuse images below 161 px.
MS-SSIM = Π_{j<5} cs_j^{w_j} · ssim_5^{w_5}; negative cs/ssim means are clipped at 0 before the
powers (as pytorch-msssim does) so that the fractional powers are defined.
Diversity score: mean MS-SSIM over ``num_pairs`` random pairs (i, j), i ≠ j, drawn uniformly with a
seeded generator; lower means more diverse.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._checks import image_batch

WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
FILTER_SIZE, FILTER_SIGMA, K1, K2 = 11, 1.5, 0.01, 0.03


def gaussian_window(size: int, sigma: float, dtype=torch.float64) -> torch.Tensor:
    """size×size normalised Gaussian; even sizes are centred between pixels (offsets ±0.5, ±1.5, ...)."""
    coords = torch.arange(size, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-(coords[:, None] ** 2 + coords[None, :] ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _filter(x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    c = x.shape[1]
    return F.conv2d(x, window.expand(c, 1, *window.shape), groups=c)


def _ssim_and_cs(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-pair mean SSIM and mean contrast-structure term at one scale (data range 1)."""
    size = min(FILTER_SIZE, a.shape[-2], a.shape[-1])
    window = gaussian_window(size, size * FILTER_SIGMA / FILTER_SIZE, a.dtype).to(a.device)
    mu_a, mu_b = _filter(a, window), _filter(b, window)
    var_a = _filter(a * a, window) - mu_a ** 2
    var_b = _filter(b * b, window) - mu_b ** 2
    cov = _filter(a * b, window) - mu_a * mu_b
    c1, c2 = K1 ** 2, K2 ** 2
    cs_map = (2 * cov + c2) / (var_a + var_b + c2)
    ssim_map = (2 * mu_a * mu_b + c1) / (mu_a ** 2 + mu_b ** 2 + c1) * cs_map
    return ssim_map.flatten(1).mean(1), cs_map.flatten(1).mean(1)


def _downsample(x: torch.Tensor) -> torch.Tensor:
    pad_w, pad_h = x.shape[-1] % 2, x.shape[-2] % 2
    if pad_w or pad_h:
        x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
    return F.avg_pool2d(x, 2)


def ms_ssim(images1, images2) -> torch.Tensor:
    """MS-SSIM of each pair (images1[i], images2[i]); inputs N×C×H×W in [-1, 1]; returns N values (float64)."""
    a = (image_batch(images1, "images1").double() + 1) / 2
    b = (image_batch(images2, "images2").double() + 1) / 2
    if a.shape != b.shape:
        raise ValueError(f"MS-SSIM compares images of one shape; got {tuple(a.shape)} and {tuple(b.shape)}.")
    if min(a.shape[-2:]) < 2 ** (len(WEIGHTS) - 1):
        raise ValueError(f"MS-SSIM with 5 scales needs images of at least 16×16 px; got {tuple(a.shape[-2:])}.")
    result = torch.ones(a.shape[0], dtype=torch.float64, device=a.device)
    for level, weight in enumerate(WEIGHTS):
        ssim, cs = _ssim_and_cs(a, b)
        last = level == len(WEIGHTS) - 1
        result = result * (ssim if last else cs).clamp(min=0) ** weight
        if not last:
            a, b = _downsample(a), _downsample(b)
    return result


def ms_ssim_diversity(images, num_pairs: int = 10000, seed: int = 0, batch_size: int = 500) -> float:
    """Mean MS-SSIM over ``num_pairs`` random pairs of distinct images (003 Table 1; lower = more diverse)."""
    x = image_batch(images)
    n = x.shape[0]
    if n < 2 or num_pairs < 1:
        raise ValueError(f"MS-SSIM diversity needs at least 2 images and 1 pair; got {n} images, {num_pairs} pairs.")
    g = torch.Generator().manual_seed(seed)
    i = torch.randint(n, (num_pairs,), generator=g)
    j = (i + torch.randint(1, n, (num_pairs,), generator=g)) % n  # uniform over the n−1 other images
    total = 0.0
    for start in range(0, num_pairs, batch_size):
        sl = slice(start, start + batch_size)
        total += float(ms_ssim(x[i[sl]], x[j[sl]]).sum())
    return total / num_pairs


def scales(height: int, width: int) -> list[tuple[int, int, int, float]]:
    """(height, width, window size, window σ) at each of the 5 scales, for documentation and tests."""
    out = []
    for _ in WEIGHTS:
        s = min(FILTER_SIZE, height, width)
        out.append((height, width, s, s * FILTER_SIGMA / FILTER_SIZE))
        height, width = math.ceil(height / 2), math.ceil(width / 2)
    return out
