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
    return torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1


def test_random_inception_is_deterministic_and_marked_uncalibrated(random_extractor, images):
    out = random_extractor(images)
    assert out["pool"].shape == (2, 2048) and out["logits"].shape == (2, 1008)
    assert np.isfinite(out["pool"]).all() and out["pool"].std() > 0
    assert not random_extractor.calibrated
    assert "UNCALIBRATED" in calibration_note(random_extractor)
    # Weights are a function of the fixed seed only.
    again = get_extractor("random-inception")
    for p, q in zip(random_extractor.network.parameters(), again.network.parameters()):
        assert torch.equal(p, q)


def test_grey_images_are_repeated_to_rgb(random_extractor, images):
    grey = images[:1, :1]
    a = random_extractor(grey)["pool"]
    b = random_extractor(grey.expand(-1, 3, -1, -1))["pool"]
    np.testing.assert_array_equal(a, b)


def test_inception_loads_torch_fidelity_weights_from_env_path(random_extractor, images, tmp_path, monkeypatch):
    # Stand-in weights file in torch-fidelity's format: the same network, so the features must be identical.
    path = tmp_path / TORCH_FIDELITY_FILE
    torch.save(random_extractor.network.state_dict(), path)
    monkeypatch.setenv("REPRO_INCEPTION_WEIGHTS", str(path))
    ex = get_extractor("inception")
    assert ex.calibrated and ex.weights == str(path) and calibration_note(ex) is None
    np.testing.assert_allclose(ex(images)["pool"], random_extractor(images)["pool"], rtol=1e-5, atol=1e-6)


def test_missing_weights_error_names_the_file_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.delenv("REPRO_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setenv("REPRO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr("repro.metrics.extractors.CLEANFID_CACHE", tmp_path / "tmp")
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


def test_image_metrics_records_counts_protocol_and_uncalibrated_mark(random_extractor, images):
    from repro.metrics import fid_from_features, image_metrics

    real = random_extractor(images)
    fake = torch.flip(images, dims=[3])
    metrics, notes = image_metrics(fake, real, random_extractor, kid_subsets=2, kid_subset_size=1000, is_splits=10)
    assert (metrics["n_fake"], metrics["n_real"], metrics["kid_subset_size"], metrics["calibrated"]) == (2, 2, 2, 0)
    assert metrics["fid"] == pytest.approx(fid_from_features(random_extractor(fake)["pool"], real["pool"]), rel=1e-9)
    assert any("UNCALIBRATED" in n for n in notes) and any("reduced from 1000 to 2" in n for n in notes)
