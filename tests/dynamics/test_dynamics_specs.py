"""The dynamics jobs' cpu protocols expand to the runs their specs describe."""
from collections import Counter

from repro.spec import expand, find_job


def test_diracgan_grid_over_step_size_penalty_and_starts():
    runs = expand(find_job("slides-diracgan"), "cpu")
    per_method = Counter(r.method for r in runs)
    assert per_method == {"dirac-wgan": 9, "dirac-mmd-gan": 9, "dirac-wgan-gp": 27, "dirac-mmd-gan-gp": 27, "dirac-smmd": 27}
    assert {r.config["penalty"] for r in runs if r.method in ("dirac-wgan", "dirac-mmd-gan")} == {1.0}  # pinned
    assert {r.seed for r in runs} == {0, 1, 2} and all(len(r.config["starts"]) == 3 for r in runs)
    # the same continuous time at every step size: 1,000 / 3,333 / 10,000 steps
    assert {r.config["lr"]: round(r.config["horizon"] / r.config["lr"]) for r in runs} == {0.1: 1000, 0.03: 3333, 0.01: 10000}


def test_basin_grid_over_the_generator_step_size():
    runs = expand(find_job("repulsive-figS1-basin"), "cpu")
    assert Counter((r.method, r.config["lr_g"]) for r in runs) == {
        ("toy-mmd-rep", 0.1): 6, ("toy-mmd-rep", 0.05): 6, ("toy-mmd-rep", 0.02): 6, ("toy-mmd-rbf", 0.1): 6}
    steps = {r.config["lr_g"]: round(r.config["horizon"] / min(r.config["lr_g"], r.config["lr_d"])) for r in runs}
    assert steps == {0.1: 1000, 0.05: 2000, 0.02: 5000}
    assert all(r.config["cells"] == 8 and r.config["lr_d"] == 0.1 for r in runs)
