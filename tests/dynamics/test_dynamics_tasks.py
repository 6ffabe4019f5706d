"""The issue-8 tasks end to end on tiny configs, and their distance helpers against independent references."""
import json

import numpy as np
import pytest
import torch
from scipy import stats

from repro.runtime import RunContext
from repro.spec import expand, find_job


def ctx_for(tmp_path, name="run"):
    return RunContext(run_dir=tmp_path / "results" / "job" / name, device=torch.device("cpu"))


def smoke_cfg(job, **match):
    for run in expand(find_job(job), "smoke"):
        if all(run.config.get(k) == v for k, v in match.items()):
            return dict(run.config, data_source=run.config.get("dataset_substitute") or run.config["dataset"])
    raise AssertionError(f"no smoke run of {job} with {match}")


def test_total_variation_against_scipy_pmf():
    from repro.tasks.sig_toys import target_pmf, total_variation

    k = np.arange(400)
    # NB(r=2, p=0.5) in 004's convention has mean r p / (1 - p) = 2 and pmf (k + 1) / 2^(k + 2)
    assert np.allclose(target_pmf("negative-binomial", k[:30]), (k[:30] + 1) / 2.0 ** (k[:30] + 2))
    mix = target_pmf("poisson-nb-mixture", k)
    assert mix.sum() == pytest.approx(1.0, abs=1e-9)
    assert (k * mix).sum() == pytest.approx(0.5 * 10 + 0.5 * 0.2 * 0.9 / 0.1, rel=1e-6)
    exact = stats.nbinom.rvs(2, 0.5, size=200_000, random_state=0)
    assert total_variation(exact, "negative-binomial") < 0.01
    assert total_variation(np.zeros(100, dtype=int), "negative-binomial") == pytest.approx(0.75, abs=1e-9)


def test_energy_distance_matches_scipy_in_1d():
    from repro.tasks.sig_toys import energy_distance

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=300), rng.normal(0.5, 1.2, size=200)
    want = stats.energy_distance(x, y) ** 2
    assert energy_distance(torch.tensor(x)[:, None], torch.tensor(y)[:, None]) == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("dataset", ["negative-binomial", "ring-noise"])
def test_sig_toys_runs(tmp_path, dataset):
    from repro.tasks import sig_toys

    cfg = smoke_cfg("sig-fig1", method="sig", dataset=dataset)
    out = sig_toys.run(cfg, ctx_for(tmp_path))
    key = "tv" if dataset == "negative-binomial" else "energy"
    assert np.isfinite(out["metrics"][key])
    if dataset == "negative-binomial":
        assert 0 <= out["metrics"]["mixing_ks"] <= 1
    assert (tmp_path / "results/job/run/samples.png").exists()


def test_mmd_two_param_task_finds_rep_equilibrium(tmp_path):
    from repro.tasks import mmd_two_param

    cfg = smoke_cfg("repulsive-figS1", method="toy-mmd-rep", dataset="px-normal")
    cfg.update(search={"w1": [1.5, 1.5], "w2": [0.3, 0.3]}, starts=1, grid={"n": 6})
    out = mmd_two_param.run(cfg, ctx_for(tmp_path))
    assert out["metrics"]["w1"] == pytest.approx(1.5536, abs=2e-3)
    assert out["metrics"]["w2"] == pytest.approx(0.3071, abs=2e-3)
    assert (tmp_path / "results/job/run/streamlines.png").exists()


def test_mmd_basin_task(tmp_path):
    from repro.tasks import mmd_basin

    cfg = smoke_cfg("repulsive-figS1-basin", method="toy-mmd-rep", dataset="px-uniform")
    out = mmd_basin.run(cfg, ctx_for(tmp_path))
    fractions = [out["metrics"][k] for k in ("trivial_fraction", "nontrivial_fraction", "unsettled_fraction")]
    assert sum(fractions) == pytest.approx(1.0) and all(9 * f == pytest.approx(round(9 * f)) for f in fractions)
    assert (tmp_path / "results/job/run/basin.png").exists() and "3×3 stratified starts" in out["notes"][0] and out["steps"] == 20
    with pytest.raises(ValueError, match="dataset must be one of"):
        mmd_basin.run(dict(cfg, dataset="px-laplace"), ctx_for(tmp_path, "b"))


def test_diracgan_task(tmp_path):
    from repro.tasks import diracgan

    def run(method, name, **cfg):
        return diracgan.run(dict(smoke_cfg("slides-diracgan", method=method), horizon=100, **cfg), ctx_for(tmp_path, name))

    smmd, wgan = run("dirac-smmd", "a"), run("dirac-wgan", "b")
    assert smmd["metrics"]["distance"] < 1e-4 and smmd["metrics"]["step_factor"] <= 1 + 1e-9
    assert smmd["metrics"]["crossings"] == 0 and "d_mmd_gap" not in smmd["metrics"]
    assert wgan["metrics"]["amplitude"] > 0.5 and wgan["metrics"]["step_factor"] > 1
    assert wgan["metrics"]["crossings"] >= 4 and "oscillates" in wgan["notes"][0]
    assert smmd["steps"] == wgan["steps"] == 1000  # horizon / lr
    slow = run("dirac-wgan", "c", lr=0.05, seed=2)  # the axis' step size, the seed's start
    assert slow["steps"] == 2000 and "(-0.5, 2.0)" in slow["notes"][0]
    mmd = run("dirac-mmd-gan", "d")
    assert mmd["metrics"]["d_mmd_gap"] < 1e-12
    stalled = run("dirac-wgan-gp", "e", penalty=10.0)  # the axis' penalty overrides the recipe's
    assert stalled["metrics"]["crossings"] <= 1 and "λ 10.0" in stalled["notes"][0]
    with pytest.raises(ValueError, match="seed 3 has no start"):
        run("dirac-wgan", "f", seed=3)


def test_captured_shares_on_true_mixture():
    from repro.data.synthetic import gmm_grid_centers, sample_gmm_uneven, uneven_gmm_grid_weights
    from repro.tasks.sig_figures import captured_shares

    x = sample_gmm_uneven(60_000, generator=torch.Generator().manual_seed(0))
    out = captured_shares(x, gmm_grid_centers(), uneven_gmm_grid_weights(), 0.05)
    assert out["tv_columns"] < 0.01 and out["tv_modes"] < 0.02
    assert torch.allclose(out["true_columns"], torch.tensor([2, 1, 2, 1, 2], dtype=torch.float64) / 8)
    one_column = x[x[:, 0] < -3]  # only column 1 captured
    assert captured_shares(one_column, gmm_grid_centers(), uneven_gmm_grid_weights(), 0.05)["tv_columns"] == \
        pytest.approx(1 - 0.25, abs=1e-9)


def test_fig2_reads_table1_samples(tmp_path):
    from repro.tasks import sig_figures

    folder = tmp_path / "results" / "sig-table1" / "abc"
    folder.mkdir(parents=True)
    (folder / "record.json").write_text(json.dumps({"key": "abc", "method": "sig", "seed": 0, "scale": "smoke",
                                                    "axes": {"std": 0.1}, "status": "ok", "metrics": {"modes": 25, "hq": 0.9, "kl": 0.1}}))
    torch.save({"samples": torch.randn(100, 2), "centers": torch.zeros(25, 2)}, folder / "samples.pt")
    cfg = smoke_cfg("sig-fig2", method="sig")
    out = sig_figures.run(cfg, RunContext(run_dir=tmp_path / "results" / "sig-fig2" / "k"))
    assert out["metrics"] == {"modes": 25.0, "hq": 0.9, "kl": 0.1}
    with pytest.raises(FileNotFoundError, match="run `repro run sig-table1"):
        sig_figures.run(dict(cfg, method="gan"), RunContext(run_dir=tmp_path / "results" / "sig-fig2" / "k2"))
    with pytest.raises(FileNotFoundError, match="std 0.2"):  # a run at another std is not the one asked for
        sig_figures.run(dict(cfg, std=0.2), RunContext(run_dir=tmp_path / "results" / "sig-fig2" / "k3"))


def test_stacked_mnist_task_pipeline(tmp_path, monkeypatch):
    """Tiny run with an untrained classifier (the trained one is cached outside the test tree)."""
    from repro.metrics.classifier import DigitClassifier
    from repro.tasks import stacked_mnist

    monkeypatch.setattr(stacked_mnist, "_classifier", lambda name, device: (DigitClassifier().eval(), None))
    monkeypatch.setattr(stacked_mnist, "_images", lambda source, root=None: torch.rand(64, 3, 28, 28) * 2 - 1)
    cfg = smoke_cfg("sig-table2", method="dcgan-si", size="S")
    out = stacked_mnist.run(cfg, ctx_for(tmp_path))
    assert set(out["metrics"]) == set(stacked_mnist.METRICS) | {"classifier_accuracy"}  # recorded for the footer
    assert 1 <= out["metrics"]["modes"] <= cfg["eval_samples"]
    assert any("λ" in n for n in out["notes"])
