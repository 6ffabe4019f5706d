"""A small fixed fixture for the claims tests: hand-made records of real jobs whose grids no other work changes
(slides-diracgan, repulsive-figS1, kernelnet-fig4, kernelnet-table1) and a ledger written for them."""
from __future__ import annotations

import textwrap
from pathlib import Path

from repro import store

FIXTURE_CLAIMS = """\
paper: 003_7a8fbd72eaf5e754.txt
claims:
  - id: fx-near-not
    quote: "In (c), the equilibrium lies around point (1.55, 0.74)"
    where: "003 Fig. S1c"
    job: repulsive-figS1
    metrics: [w1, w2]
    cells: [{method: toy-mmd-rbf, dataset: px-normal}]
    rule: {kind: near, point: [1.55, 0.74], tol: 0.03}
    note: "The field at (1.55, 0.74) is (-0.023, 0.003)."
  - id: fx-near-yes
    quote: "in (d), it is around (1.55, 0.32)"
    where: "003 Fig. S1d"
    job: repulsive-figS1
    metrics: [w1, w2]
    cells: [{method: toy-mmd-rep, dataset: px-normal}]
    rule: {kind: near, point: [1.55, 0.32], tol: 0.03}
  - id: fx-label-yes
    quote: "WGAN does not converge"
    where: "001"
    job: slides-diracgan
    metric: amplitude
    cells: [{method: dirac-wgan}]
    rule: {kind: label, threshold: 1.0e-3, below: converges, above: does not converge, expect: does not converge}
  - id: fx-label-not
    quote: "MMD-GAN-GP does not fix the Dirac problem"
    where: "002"
    job: slides-diracgan
    metric: amplitude
    cells: [{method: dirac-mmd-gan-gp}]
    rule: {kind: label, threshold: 1.0e-3, below: converges, above: does not converge, expect: does not converge}
  - id: fx-ks
    quote: "perfectly generates multi-mode samples"
    where: "000 Fig. 4"
    job: kernelnet-fig4
    metric: ks
    cells: [{dataset: gmm-1d}]
    rule: {kind: at_most, value: 0.05, every_run: true}
  - id: fx-ks-test
    quote: "perfectly generates multi-mode samples"
    where: "000 Fig. 4"
    job: kernelnet-fig4
    metric: ks
    cells: [{dataset: gmm-1d}]
    rule: {kind: ks_test, samples: 10000}
  - id: fx-standin-order
    quote: "our KernelNet-based models obtain best results"
    where: "000 Table 1"
    job: kernelnet-table1
    metric: fid
    cells: [{method: rep-gan-dk}, {method: rep-gan}]
    rule: {kind: less_than}
  - id: fx-standin-value
    quote: "Rep-GAN-DK: FID 15.2 ± 0.1"
    where: "000 Table 1"
    job: kernelnet-table1
    metric: fid
    cells: [{method: rep-gan-dk}]
    rule: {kind: within_error}
  - id: fx-paper-scale
    quote: "SN-MMD-GAN-DK: FID 27.8 ± 0.1"
    where: "000 Table 1"
    job: kernelnet-table1
    metric: fid
    cells: [{method: sn-mmd-gan-dk}]
    rule: {kind: within_error}
    scale: paper
  - id: fx-one-seed
    quote: "SN-SMMD-GAN-DK beats SN-SMMD-GAN-IKL"
    where: "000 Table 1"
    job: kernelnet-table1
    metric: fid
    cells: [{method: sn-smmd-gan-dk}, {method: sn-smmd-gan-ikl}]
    rule: {kind: less_than}
  - id: fx-missing
    quote: "MMD-rep-b beats MMD-rbf-b"
    where: "003 Table 1"
    job: repulsive-table1
    metric: fid
    cells: [{method: mmd-rep-b, dataset: cifar10}, {method: mmd-rbf-b, dataset: cifar10}]
    rule: {kind: less_than}
  - id: fx-eye
    quote: "MMD-rep separates the classes"
    where: "003 Fig. 4"
    job: repulsive-fig4
    rule: {kind: by_eye, reason: "judged by eye"}
  - id: fx-no-job
    quote: "PICO costs about as much as doubling the batch"
    where: "003 §4"
    rule: {kind: untested, reason: needs-gpu, why: "a wall-clock cost on the paper's GPU"}
    contradiction: "the table's IS says the opposite of the text"
"""

# (job, method, dataset, seed, metrics, stand_in, data_source[, curve])
# rep-gan-dk against rep-gan (fx-standin-order): the order at step 10 is the opposite of the one at step 5.
EARLY = {0: 100.0, 1: 101.0, 2: 99.0}
RUNS = [
    ("repulsive-figS1", "toy-mmd-rbf", "px-normal", 0, {"w1": 1.4839, "w2": 0.7959, "max_real_eig": -0.0432}, False, None),
    ("repulsive-figS1", "toy-mmd-rep", "px-normal", 0, {"w1": 1.5536, "w2": 0.3071, "max_real_eig": -0.2586}, False, None),
    ("slides-diracgan", "dirac-wgan", "dirac", 0, {"amplitude": 1.0825, "distance": 0.1128}, False, None),
    ("slides-diracgan", "dirac-mmd-gan-gp", "dirac", 0, {"amplitude": 0.0, "distance": 0.0}, False, None),
    ("kernelnet-fig4", "implicit-sampler", "gmm-1d", 0, {"ks": 0.0135}, False, None),
    ("kernelnet-fig4", "implicit-sampler", "gmm-1d", 1, {"ks": 0.0139}, False, None),
    *[("kernelnet-table1", "rep-gan-dk", "cifar10", s, {"fid": fid, "is": 3.0}, True, "digits32",
       [{"step": 5, "fid": EARLY[s]}, {"step": 10, "fid": fid}]) for s, fid in [(0, 80.0), (1, 82.0), (2, 81.0)]],
    *[("kernelnet-table1", "rep-gan", "cifar10", s, {"fid": fid, "is": 2.9}, True, "digits32",
       [{"step": 5, "fid": EARLY[s] - 10}, {"step": 10, "fid": fid}]) for s, fid in [(0, 95.0), (1, 97.0), (2, 96.0)]],
    ("kernelnet-table1", "sn-mmd-gan-dk", "cifar10", 0, {"fid": 90.0, "is": 2.5}, True, "digits32"),
    ("kernelnet-table1", "sn-smmd-gan-dk", "cifar10", 0, {"fid": 88.0, "is": 2.6}, True, "digits32"),
    ("kernelnet-table1", "sn-smmd-gan-ikl", "cifar10", 0, {"fid": 89.0, "is": 2.6}, True, "digits32"),
]


def record(job, method, dataset, seed, metrics, stand_in=False, data_source=None, curve=None, scale="cpu",
           status="ok", axes=None, minute=0) -> dict:
    key = f"{method}-{dataset}-{seed}-{scale}"[:40]
    return {"key": key, "job": job, "status": status, "method": method, "dataset": dataset, "seed": seed,
            "scale": scale, "axes": axes or {}, "metrics": metrics, "stand_in": stand_in,
            "uncalibrated": False, "data_source": data_source or dataset, "wall_time": 10.0,
            **({"curve": curve, "steps": curve[-1]["step"]} if curve else {}),
            "finished_at": f"2026-11-29T08:{minute:02d}:00+00:00",
            "config": {"job": job, "method": method, "dataset": dataset, "seed": seed, "scale": scale},
            "provenance": {"commit": "0123456789abcdef", "host": "vm", "device": "cpu", "torch_version": "2.14.1"}}


def write_records(results: Path, runs=RUNS, **kw) -> None:
    for i, run in enumerate(runs):
        rec = record(*run, minute=i, **kw)
        store.write_json_atomic(store.record_path(results, rec["job"], rec["key"]), rec)


def write_claims(folder: Path, text: str = FIXTURE_CLAIMS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "fixture.yaml"
    path.write_text(textwrap.dedent(text))
    return folder
