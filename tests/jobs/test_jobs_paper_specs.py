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
