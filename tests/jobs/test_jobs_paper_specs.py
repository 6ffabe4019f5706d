"""What the paper-scale specs expand to, checked without running them (issue 16)."""
import pytest

from repro.data import get_spec
from repro.spec import expand, find_job


@pytest.mark.parametrize("job", ["kernelnet-fig6", "kernelnet-fig7"])
def test_latent_figures_train_on_a_labelled_mnist_at_paper_scale(job):
    runs = expand(find_job(job), "paper")
    for run in runs:
        ds = get_spec(run.config["dataset"])
        assert ds.num_classes == 10 and not ds.stand_in, run.config["dataset"]
        assert run.config.get("dataset_substitute") is None  # the paper scale never swaps data


def test_every_job_with_a_divergence_threshold_states_the_tau_rule():
    from repro.spec import all_specs

    with_tau = [s for s in all_specs() if s.config.get("fid_threshold") not in (None,)
                and s.task == "image_gan"]
    assert {s.id for s in with_tau} >= {"repulsive-table1", "repulsive-tableS3", "repulsive-tableS4",
                                        "repulsive-tableS5", "repulsive-fig3", "repulsive-figS2"}
    for spec in with_tau:
        assert any("checkpoint FIDs" in d and "reported FID" in d for d in spec.deviations), spec.id
