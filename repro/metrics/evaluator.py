"""Sample-quality evaluation of an image generator: FID, KID, IS and MS-SSIM against real images, and the
relative-KID learning-rate decay signal (000 §4.1) against the same real features. The image-GAN task
builds an :class:`Evaluator` and hands it (and :meth:`Evaluator.lr_decay`) to the trainer of
``repro/core/image_gan``, which calls them without importing this module.

The feature extractor is ``inception`` (calibrated: TF-Inception weights) or ``random-inception``
(offline, random weights: numbers are UNCALIBRATED and flagged so). ``auto`` takes ``inception`` when its
weights are on disk, else ``random-inception``. Real-image features are computed once per process for
a given (data, images, extractor) and reused; with a calibrated network they are also cached on disk,
``$REPRO_CACHE/features/<sha1 of (data root, dataset, split, count, permutation seed, network)>.npz``
(the FID network costs ~0.13 s per 299×299 image on one core here, so 2,000 reference images take ~4
minutes once instead of once per run). A file lock makes concurrent runs wait for one computation.
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os

import numpy as np
import torch

from .cache import cache_dir
from .extractors import InceptionWeightsMissing, calibration_note, extractor_identity, get_extractor
from .fid import fid_from_features
from .inception_score import inception_score
from .kid import kid
from .ms_ssim import ms_ssim_diversity
from .relative_kid import RelativeKIDDecay

log = logging.getLogger(__name__)
METRICS = ("fid", "kid", "is", "ms_ssim")
_REAL_CACHE: dict = {}


def resolve_extractor(name: str, device):
    if name == "auto":
        try:
            return get_extractor("inception", device)
        except InceptionWeightsMissing:
            log.warning("Inception weights absent: FID/KID/IS use 'random-inception' and are UNCALIBRATED.")
            return get_extractor("random-inception", device)
    return get_extractor(name, device)


class Evaluator:
    """Scores generated images against a fixed set of real images."""

    def __init__(self, real_images: torch.Tensor, extractor_name: str = "auto", device="cpu",
                 kid_subsets: int = 100, kid_subset_size: int = 1000, is_splits: int = 10,
                 ms_ssim_pairs: int = 10000, cache_key=None):
        self.extractor = resolve_extractor(extractor_name, device)
        self.kid_subsets, self.kid_subset_size = kid_subsets, kid_subset_size
        self.is_splits, self.ms_ssim_pairs = is_splits, ms_ssim_pairs
        key = None if cache_key is None else (cache_key, self.extractor.name)
        if key is not None and key in _REAL_CACHE:
            self.real = _REAL_CACHE[key]
        else:
            disk = _disk_path(cache_key, self.extractor)
            self.real = _on_disk(disk, lambda: self._features_of(real_images)) if disk else \
                self._features_of(real_images)
        if key is not None:
            _REAL_CACHE[key] = self.real

    def _features_of(self, real_images) -> dict[str, np.ndarray]:
        if isinstance(real_images, torch.Tensor):
            return self.extractor(real_images)
        parts = [self.extractor(chunk) for chunk in real_images]  # chunks: never all images in memory
        return {k: np.concatenate([p[k] for p in parts]) for k in ("pool", "logits")}

    @property
    def network_label(self) -> str | None:
        return getattr(self.extractor, "network_label", None)

    def uncalibrated_metrics(self, metrics) -> list[str]:
        """Reported metrics that stay uncalibrated although the extractor is calibrated (IS of fid-helper)."""
        if not self.calibrated:
            return []
        return [m for m in metrics if m in getattr(self.extractor, "uncalibrated_metrics", ())]

    @property
    def calibrated(self) -> bool:
        return bool(self.extractor.calibrated)

    @property
    def note(self) -> str | None:
        return calibration_note(self.extractor)

    def features(self, images: torch.Tensor) -> dict[str, np.ndarray]:
        return self.extractor(images)

    def score(self, images: torch.Tensor, metrics=("fid", "kid"), features: dict | None = None) -> dict[str, float]:
        unknown = [m for m in metrics if m not in METRICS]
        if unknown:
            raise ValueError(f"unknown image metric(s) {unknown}; choose from {METRICS}.")
        out: dict[str, float] = {}
        f = features if features is not None else (self.features(images) if set(metrics) - {"ms_ssim"} else None)
        if "fid" in metrics:
            out["fid"] = float(fid_from_features(f["pool"], self.real["pool"]))
        if "kid" in metrics:
            res = kid(f["pool"], self.real["pool"], num_subsets=self.kid_subsets, subset_size=self.kid_subset_size)
            out["kid"], out["kid_std"] = float(res[0]), float(res[1])
        if "is" in metrics:
            splits = min(self.is_splits, len(f["logits"]))
            out["is"], out["is_std"] = inception_score(f["logits"], splits=splits)
        if "ms_ssim" in metrics:
            out["ms_ssim"] = float(ms_ssim_diversity(images, num_pairs=self.ms_ssim_pairs))
        return out

    def score_stream(self, make_batch, n: int, metrics, chunk: int = 500) -> tuple[dict[str, float], torch.Tensor]:
        """Score ``n`` generated images produced ``chunk`` at a time by ``make_batch(k)``, keeping only their
        features (and the images themselves only when MS-SSIM needs them): 100K samples at 64² would
        otherwise take gigabytes. Returns the scores and the first batch (for a sample grid)."""
        pools, logits, kept, first = [], [], [], None
        for start in range(0, n, chunk):
            images = make_batch(min(chunk, n - start))
            if not torch.isfinite(images).all():
                raise FloatingPointError("generated images contain NaN or inf")
            first = images if first is None else first
            if set(metrics) - {"ms_ssim"}:
                f = self.features(images)
                pools.append(f["pool"])
                logits.append(f["logits"])
            if "ms_ssim" in metrics:
                kept.append(images)
        feats = {"pool": np.concatenate(pools), "logits": np.concatenate(logits)} if pools else None
        images = torch.cat(kept) if kept else first
        return self.score(images, metrics, features=feats), first

    def lr_decay(self) -> "KIDDecay":
        """A fresh relative-KID decay signal against this evaluator's real features (the trainer's ``lr_decay``)."""
        return KIDDecay(self.real["pool"])

    def real_scores(self, real_images: torch.Tensor, metrics) -> dict[str, float]:
        """The "Real data" row of 003 Table 1: real images scored like generated ones (IS, MS-SSIM)."""
        return self.score(real_images, [m for m in metrics if m in ("is", "ms_ssim")], features=self.real)


class KIDDecay(RelativeKIDDecay):
    """:class:`RelativeKIDDecay` bound to the real features: ``decay(features)`` → True when the learning
    rate decays now, for the features of an evaluation's generated images."""

    def __init__(self, real_pool: np.ndarray):
        super().__init__()
        self.real_pool = real_pool

    def __call__(self, features: dict) -> bool:
        return self.step(self.real_pool, features["pool"])


def _disk_path(cache_key, extractor):
    identity = None if cache_key is None else extractor_identity(extractor)
    if identity is None:
        return None
    digest = hashlib.sha1(repr((cache_key, identity)).encode()).hexdigest()[:20]
    return cache_dir("features", f"{digest}.npz")


def _on_disk(path, compute) -> dict[str, np.ndarray]:
    """Features from ``path``, else computed (under a lock, so parallel runs compute them once) and saved."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            try:
                with np.load(path) as blob:
                    return {"pool": blob["pool"], "logits": blob["logits"]}
            except (OSError, ValueError, KeyError) as err:
                log.warning("cached real features %s unreadable (%s); recomputing", path, err)
        feats = compute()
        tmp = path.with_name(f"{path.stem}.tmp{os.getpid()}.npz")
        np.savez(tmp, **feats)
        os.replace(tmp, path)
        return feats
