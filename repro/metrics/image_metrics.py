"""FID, KID and IS of generated images in one call, with the protocol written into the result.

Tasks call :func:`image_metrics` at evaluation time and merge its ``metrics`` into the record and its
``notes`` into the record's notes: the sample counts (papers: 003 uses 50K generated vs 50K real;
000 uses 100,000 for CIFAR-10, STL-10 and ImageNet and 50,000 for CelebA; smoke and cpu scales use
fewer), the KID subset protocol actually used, and, for ``random-inception``, the uncalibrated mark.
"""
from __future__ import annotations

import numpy as np

from .extractors import FeatureExtractor, calibration_note
from .fid import fid_from_features
from .inception_score import inception_score
from .kid import kid


def image_metrics(fake_images, real, extractor: FeatureExtractor, kid_subsets: int = 100,
                  kid_subset_size: int = 1000, is_splits: int = 10, seed: int = 0,
                  batch_size: int = 50) -> tuple[dict[str, float], list[str]]:
    """``real``: images N×C×H×W in [-1, 1], or the dict an extractor returned for them (cache it)."""
    fake = extractor(fake_images, batch_size=batch_size)
    real_features = real if isinstance(real, dict) else extractor(real, batch_size=batch_size)
    n_fake, n_real = len(fake["pool"]), len(real_features["pool"])
    k = kid(fake["pool"], real_features["pool"], kid_subsets, kid_subset_size, seed=seed)
    is_mean, is_std = inception_score(fake["logits"], splits=min(is_splits, n_fake))
    metrics = {
        "fid": fid_from_features(fake["pool"], real_features["pool"]),
        **k.as_record("kid"),
        "is": is_mean,
        "is_std": is_std,
        "n_fake": float(n_fake),
        "n_real": float(n_real),
        "calibrated": float(extractor.calibrated),
    }
    notes = [f"FID/KID/IS from {n_fake} generated and {n_real} real images ({extractor.name}); "
             f"KID over {k.num_subsets} subsets of {k.subset_size}; IS over {min(is_splits, n_fake)} splits."]
    if k.reduced:
        notes.append(f"KID subset size reduced from {kid_subset_size} to {k.subset_size} (fewer samples).")
    if getattr(extractor, "network_label", None):
        notes.append(f"feature network: {extractor.network_label}")
    note = calibration_note(extractor)
    if note:
        notes.append(note)
    if not all(np.isfinite(v) for v in metrics.values()):
        raise ValueError("image metrics are not finite; the generated images or features are degenerate.")
    return metrics, notes
