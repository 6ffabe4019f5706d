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


def test_kernelnet_table2_paper_counts_follow_000_per_method_and_dataset():
    from repro.tasks.image_gan import _per_method, eval_settings

    runs = expand(find_job("kernelnet-table2"), "paper")
    got = {(r.method, r.dataset): (_per_method(r.config, "steps")["steps"], eval_settings(r.config)["final_samples"])
           for r in runs}
    # 000 §4.1: SN-SMMD-GAN-DK 150K (200K on ImageNet); Rep-GAN-DK 200K (300K on STL-10 and ImageNet);
    # FID/IS on 100K samples, 50K on CelebA
    assert got[("sn-smmd-gan-dk", "cifar10")] == (150000, 100000)
    assert got[("sn-smmd-gan-dk", "imagenet64")] == (200000, 100000)
    assert got[("smmd-gan", "imagenet64")][0] == 200000
    assert got[("rep-gan-dk", "cifar10")] == (200000, 100000)
    assert got[("rep-gan-dk", "stl10")][0] == got[("rep-gan-dk", "imagenet64")][0] == 300000
    assert got[("rep-gan-dk", "celeba160")] == (200000, 50000)
    assert {n for (_, d), (_, n) in got.items() if d == "celeba160"} == {50000}
    for r in expand(find_job("kernelnet-table2"), "cpu"):  # a scale's plain value replaces the paper's
        assert _per_method(r.config, "steps")["steps"] == 10 and eval_settings(r.config)["final_samples"] == 200
