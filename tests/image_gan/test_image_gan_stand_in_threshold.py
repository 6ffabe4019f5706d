"""003 Fig. S2's divergence threshold τ is an FID on the paper's dataset: never applied to a stand-in."""
from repro.tasks.image_gan import _threshold


def test_auto_threshold_only_on_the_papers_dataset():
    assert _threshold({"dataset": "cifar10", "data_source": "cifar10", "fid_threshold": "auto"}) == (50.0, True)
    assert _threshold({"dataset": "cifar10", "data_source": "fashion32", "fid_threshold": "auto"}) == (None, True)
    assert _threshold({"dataset": "cifar10", "data_source": "fashion32", "fid_threshold": 7}) == (7.0, False)
