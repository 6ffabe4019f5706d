"""Evaluation metrics: FID, KID, IS, MS-SSIM, mode counts, the relative KID test, feature extractors.

    from repro.metrics import fid_from_features, kid, inception_score, get_extractor
    ex = get_extractor("inception", device)        # or "random-inception" (offline, uncalibrated)
    f_fake, f_real = ex(fake_images), ex(real_images)   # images N×C×H×W in [-1, 1]
    fid = fid_from_features(f_fake["pool"], f_real["pool"])
    kid_mean, kid_std = kid(f_fake["pool"], f_real["pool"], num_subsets=100, subset_size=1000, seed=0)
    is_mean, is_std = inception_score(f_fake["logits"], splits=10)
"""
from .classifier import DigitClassifier, load_classifier, train_classifier
from .extractors import (EXTRACTORS, FeatureExtractor, InceptionWeightsMissing, calibration_note,
                         find_inception_weights, get_extractor)
from .fid import feature_statistics, fid_from_features, frechet_distance
from .image_metrics import image_metrics
from .inception_score import inception_score
from .kid import KIDResult, kid, kid_from_subsets
from .modes import gmm_grid_metrics
from .ms_ssim import ms_ssim, ms_ssim_diversity
from .relative_kid import RelativeKIDDecay, relative_kid_test
from .stacked_mnist import stacked_mnist_metrics

__all__ = [
    "DigitClassifier", "EXTRACTORS", "FeatureExtractor", "InceptionWeightsMissing", "KIDResult",
    "RelativeKIDDecay", "calibration_note", "feature_statistics", "fid_from_features", "find_inception_weights",
    "frechet_distance", "get_extractor", "gmm_grid_metrics", "image_metrics", "inception_score", "kid", "kid_from_subsets",
    "load_classifier", "ms_ssim", "ms_ssim_diversity", "relative_kid_test", "stacked_mnist_metrics",
    "train_classifier",
]
