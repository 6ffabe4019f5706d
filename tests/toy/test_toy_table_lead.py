"""sig-table1's leading std and claims, computed from hand-made records and checked by hand."""
import math

import pytest

from repro import paths, store
from repro.aggregate import LEAD_CAP, footer, lead_scores, leading_value, render_markdown, table_summary
from repro.convergence import late_change, still_moving
from repro.spec import SpecError, expand, load_spec, parse_value

BASELINES = ("gan", "vae", "veegan", "unrolled-gan")


@pytest.fixture(scope="module")
def spec():
    return load_spec(paths.project_root() / "jobs" / "sig-table1.yaml")


def paper(spec, method):
    row = next(r for r in spec.paper_values if r["method"] == method)
    return {m: parse_value(row[m]) for m in ("modes", "hq", "kl")}


def write(results, run, metrics, curve=None):
    store.write_json_atomic(results / run.job / run.key / store.RECORD, {
        "key": run.key, "job": run.job, "method": run.method, "dataset": run.dataset, "seed": run.seed,
        "scale": run.scale, "axes": dict(run.axes), "config": run.config, "status": "ok", "metrics": metrics,
        **({"curve": curve, "steps": curve[-1]["step"]} if curve else {})})


@pytest.fixture
def results(tmp_path, spec):
    """One seed per cell. std 0.2: every baseline metric half a paper std off, VAE modes exact (25);
    std 0.1: one paper std off, VAE modes 24 (paper 25 ± 0: capped); std 0.05: GAN only, exact;
    SIG far off at 0.2 and exact at 0.1 (must not count)."""
    for run in expand(spec, "paper", seeds=1):
        std, m = run.config["std"], run.method
        p = paper(spec, m)
        if m == "sig":
            metrics = {"modes": 0.0, "hq": 0.0, "kl": 5.0} if std == 0.2 else {k: v[0] for k, v in p.items()}
        elif std == 0.05:
            if m != "gan":
                continue
            metrics = {k: v[0] for k, v in p.items()}
        else:
            off = 0.5 if std == 0.2 else 1.0
            metrics = {k: mean + off * sd for k, (mean, sd) in p.items()}
            if m == "vae":
                metrics["modes"] = 25.0 if std == 0.2 else 24.0
        write(tmp_path, run, metrics)
    return tmp_path


def test_leading_std_is_the_hand_computed_one(spec, results):
    summary = table_summary(spec, results)
    scores = lead_scores(spec, summary, "paper")
    # 12 baseline cells; at 0.2: 11 cells at z = 0.5, VAE modes z = 0; at 0.1: 11 at z = 1, VAE modes capped
    assert scores["0.2"][0] == pytest.approx(11 * 0.5 / 12)
    assert scores["0.1"][0] == pytest.approx((11 * 1.0 + LEAD_CAP) / 12)
    assert scores["0.05"] == (0.0, 3, False, 0.0)  # GAN only: incomplete, so it cannot lead
    assert scores["0.2"][3] == scores["0.1"][3] == 0.0  # one seed per cell: no spread to err by
    assert leading_value(scores) == "0.2"
    lines = footer(spec, summary, "paper")
    lead = next(line for line in lines if line.startswith("Leading std: 0.2"))
    # 0.05 has only the GAN's cells: the lead is among 0.2 and 0.1, and the footer says it is provisional
    assert "provisional: std 0.05 has no complete records on the `paper` scale" in lead
    assert "repro run sig-table1 --scale paper --axis std=0.05" in lead


def test_a_lead_scored_on_every_value_of_the_axis_is_not_provisional(spec, results):
    for run in expand(spec, "paper", seeds=1):
        if run.config["std"] == 0.05 and run.method in BASELINES[1:]:
            write(results, run, {k: v[0] + 5 * (v[1] or 1) for k, v in paper(spec, run.method).items()})
    lead = next(line for line in footer(spec, table_summary(spec, results), "paper") if line.startswith("Leading"))
    assert lead.startswith("Leading std: 0.2") and "provisional" not in lead


def test_lead_score_standard_error_by_hand(tmp_path, spec):
    """Two seeds per cell at std 0.2, each baseline metric at paper mean + paper sd ± d (d = 0.1 × the
    paper sd, or 0.1 where it is 0): cell mean off by one paper sd, repro sd = d √2. Per cell
    z = gap / sqrt(psd² + 2 d²) and, unless z is capped, its standard error (d √2 / √2) / sqrt(psd² + 2 d²)."""
    zs, variances = [], []
    for run in expand(spec, "paper", seeds=2):
        if run.config["std"] != 0.2:
            continue
        p = paper(spec, run.method)
        sign = 1 if run.seed == 0 else -1
        write(tmp_path, run, {k: mean + sd + sign * (0.1 * sd or 0.1) for k, (mean, sd) in p.items()})
        if run.seed == 0 and run.method in BASELINES:
            for mean, sd in p.values():
                d = 0.1 * sd or 0.1
                scale = math.sqrt(sd ** 2 + 2 * d ** 2)
                z = min(LEAD_CAP, abs(sd) / scale) if sd else 0.0  # psd 0: the mean is exact, z 0
                zs.append(z)
                variances.append((d / scale) ** 2 if 0 < z < LEAD_CAP else 0.0)
    score, cells, complete, se = lead_scores(spec, table_summary(spec, tmp_path), "paper")["0.2"]
    assert cells == 12 and complete
    assert score == pytest.approx(sum(zs) / 12) and se == pytest.approx(math.sqrt(sum(variances)) / 12)
    assert se > 0


def test_scores_within_one_standard_error_tie_and_the_first_listed_leads():
    order = ["0.2", "0.1", "0.05"]
    tie = {"0.2": (4.341, 12, True, 0.05), "0.1": (4.338, 12, True, 0.05), "0.05": (1.0, 6, False, 0.0)}
    assert leading_value(tie, order) == "0.2"  # 0.003 apart, within sqrt(0.05² + 0.05²) = 0.071
    assert leading_value(tie) == "0.1"  # no order: the lower score
    apart = {**tie, "0.1": (4.2, 12, True, 0.05)}  # 0.141 apart: 0.1 leads
    assert leading_value(apart, order) == "0.1"
    assert leading_value({**tie, "0.2": (4.4, 12, False, 0.05)}, order) == "0.1"  # incomplete cannot lead


def test_claims_per_std(spec, results):
    lines = footer(spec, table_summary(spec, results), "paper")
    sig = next(line for line in lines if "SIG captures all 25 modes" in line)
    assert "std 0.2: fails (at the end, 0.0); std 0.1: holds (at the end, 25.0)" in sig  # no curves: the end only
    vae = next(line for line in lines if "VAE captures all 25 modes" in line)
    assert "std 0.2: holds (at the end, 25.0); std 0.1: fails (at the end, 24.0)" in vae


def test_table_leads_with_the_leading_std(spec, results):
    md = render_markdown(spec, results)
    paper_part = md.split("## Scale `paper`")[1]
    header = paper_part.strip().splitlines()[0]
    assert header.index("0.2 / Modes") < header.index("0.1 / Modes") < header.index("0.05 / Modes")
    assert math.isfinite(lead_scores(spec, table_summary(spec, results), "paper")["0.1"][0])


def test_ledger_claims_test_the_leading_std(tmp_path, spec):
    """A claim that names no std is decided at the std the table leads with, not the axis' first value:
    baselines exact at 0.1 and far off at 0.2, so 0.1 leads; SIG has 25 modes only at 0.1."""
    from repro.claims.evaluate import evaluate
    from repro.claims.ledger import load_claims, specs_by_id
    from repro.claims.rules import REPRODUCED

    for seed in range(3):  # the all-modes claim's one-sample test needs 3 runs per cell
        for run in expand(spec, "paper", seeds=3):
            if run.seed != seed or run.config["std"] == 0.05:
                continue
            at_lead = run.config["std"] == 0.1
            p = paper(spec, run.method)
            metrics = {k: mean + (0.0 if at_lead else 5 * max(sd, 1.0)) for k, (mean, sd) in p.items()}
            if run.method == "sig":
                metrics["modes"] = 25.0 if at_lead else 3.0
            write(tmp_path, run, metrics)
    claims = [c for c in load_claims(paths.project_root() / "claims") if c.id == "004-t1-sig-all-modes"]
    (verdict,) = evaluate(claims, specs_by_id(), tmp_path)
    assert verdict.status == REPRODUCED, verdict.reason
    assert any("0.1" in e for e in verdict.evidence)


def test_each_run_appears_once_in_the_table_file(spec, tmp_path):
    """Records of the cpu scale only: one section, the cpu one, with the five methods; the paper scale's
    section appears once its own runs have records, each run counted in its own scale only."""
    for run in expand(spec, "cpu", seeds=2):
        write(tmp_path, run, {"modes": 25.0, "hq": 0.9, "kl": 0.1})
    text = render_markdown(spec, tmp_path)
    assert text.count("## Scale `cpu`") == 1 and "## Scale `paper`" not in text
    rows = lambda part: [line.split("|")[1].strip() for line in part.splitlines() if line.startswith("| ")][1:]
    assert rows(text.split("## Scale `cpu`")[1]) == ["gan", "vae", "veegan", "unrolled-gan", "sig"]
    for run in expand(spec, "paper", seeds=1):
        write(tmp_path, run, {"modes": 24.0, "hq": 0.8, "kl": 0.2})
    summary = table_summary(spec, tmp_path)
    assert dict(summary.groupby("scale")["n"].sum()) == {"cpu": 10, "paper": 15}


def _curve(values: dict[int, float]) -> list[dict]:
    return [{"step": step, "modes": v, "hq": 0.5, "kl": 1.0} for step, v in sorted(values.items())]


def test_claims_are_read_at_every_budget_of_the_curves(spec, tmp_path):
    """cpu scale, three seeds per method, curves at 10k, 20k, 30k and 40k steps. The GAN's mean modes:
    2, 5, 13, 20 (seeds 1/2/3, 4/5/6, 12/13/14, 19/20/21): "GAN captures far fewer" (mean ≤ 12.5) holds at 10k
    and 20k and fails from 30k. SIG: 20, 25, 25, 25 with all others at 22: "SIG captures all 25 modes"
    (≥ 24.5) fails at 10k and holds from 20k; HQ of SIG 0.5 like every method: best (ties count) throughout."""
    gan = {10000: 2.0, 20000: 5.0, 30000: 13.0, 40000: 20.0}
    sig = {10000: 20.0, 20000: 25.0, 30000: 25.0, 40000: 25.0}
    for run in expand(spec, "cpu", seeds=3):
        shift = run.seed - 1.0 if run.method == "gan" else 0.0
        values = {s: v + shift for s, v in (gan if run.method == "gan" else sig if run.method == "sig"
                                              else dict.fromkeys(gan, 22.0)).items()}
        curve = _curve(values)
        write(tmp_path, run, {k: curve[-1][k] for k in ("modes", "hq", "kl")}, curve)
    lines = footer(spec, table_summary(spec, tmp_path), "cpu")
    line = lambda text: next(x for x in lines if text in x)
    assert line("GAN captures far fewer").endswith("std 0.2: holds from 10k to 20k steps; fails from 30k (at the end, 20.0).")
    assert line("SIG captures all 25 modes").endswith("std 0.2: fails at 10k steps; holds from 20k (at the end, 25.0).")
    assert line("highest proportion of high-quality").endswith("std 0.2: holds from 10k to 40k steps (at the end, 0.50).")


def test_the_table_file_shows_the_25k_reading_beside_the_end(spec, tmp_path):
    """A record whose curve has step 25,000 gets a second table of the same runs read there, by hand:
    GAN seeds with 3 and 5 modes at 25k (mean 4.0 ± 1.4) and 20 and 24 at the end (22.0 ± 2.8)."""
    for run in expand(spec, "cpu", seeds=2):
        at25, end = ((3.0, 20.0), (5.0, 24.0))[run.seed] if run.method == "gan" else (25.0, 25.0)
        curve = _curve({25000: at25, 40000: end})
        write(tmp_path, run, {k: curve[-1][k] for k in ("modes", "hq", "kl")}, curve)
    text = render_markdown(spec, tmp_path)
    end, at25 = text.split("## Scale `cpu` at 25k steps")
    gan_row = lambda part: next(x for x in part.splitlines() if x.startswith("| gan "))
    assert "| 22.0 ± 2.8 " in gan_row(end) and "| 4.0 ± 1.4 " in gan_row(at25)
    assert "read at step 25,000 of their recorded curves (Metz et al.'s 2-D mixture notebook trains 25,000" in at25


def test_late_change_reads_the_curve_point_nearest_the_window():
    curve = [{"step": s, "modes": m} for s, m in [(8000, 1.0), (56000, 5.0), (64000, 6.0), (72000, 7.0), (80000, 10.0)]]
    assert late_change(curve, "modes", 0.2) == 4.0  # 10 at 80k minus 6 at 64k (= 0.8 × 80k)
    assert late_change(curve, "modes", 0.1) == 3.0  # minus 7 at 72k
    assert late_change(curve[:1], "modes", 0.2) is None and late_change([], "modes", 0.2) is None


def test_still_moving_needs_a_significant_drift_beyond_the_tolerance():
    """Worked by hand with Student's t on 2 degrees of freedom, P(T > t) = 1/2 - t / (2 sqrt(t² + 2)):
    changes 2, 3, 4 (mean 3 > 1, sd 1): t = 3 / (1/√3) = 5.2, p = 0.018 < 0.05, moving; changes 5, -1, 0
    (mean 1.33 > 1, sd 3.21): t = 0.72, p = 0.27, one seed's jump, not moving."""
    p_of = lambda t: 0.5 - t / (2 * math.sqrt(t * t + 2))
    moving, how = still_moving([2.0, 3.0, 4.0], 1.0)
    assert moving and f"p = {p_of(3 / (1 / math.sqrt(3))):.2g} < 0.05" in how
    mean = 4 / 3
    sd = math.sqrt(sum((c - mean) ** 2 for c in (5, -1, 0)) / 2)
    moving, how = still_moving([5.0, -1.0, 0.0], 1.0)
    assert not moving and f"p = {p_of(mean / (sd / math.sqrt(3))):.2g} ≥ 0.05" in how
    assert still_moving([-2.0, -3.0, -4.0], 1.0)[0]            # falling counts the same
    assert not still_moving([0.9, 1.0, 1.1], 1.0)[0]            # significant, but within the tolerance
    assert still_moving([1.5, 1.5], 1.0) == (True, "every seed +1.5")  # no spread: exact
    assert not still_moving([1.0, 1.0, 1.0], 1.0)[0]            # at the tolerance is within it
    assert still_moving([3.0, 2.0], 1.0)[0] and "no test" in still_moving([3.0, 2.0], 1.0)[1]  # n < 3
    assert still_moving([], 1.0) == (False, "no curve")


def test_footer_names_the_cells_still_moving(tmp_path, spec):
    """cpu scale (std 0.2), four seeds per method: the Unrolled GAN falls 2-3 modes over the last 20 % in
    every seed (mean -2.5 beyond ±1, a significant drift), the GAN jumps 7 modes in one seed only (mean +1.25,
    not a significant drift), VAE and SIG end flat, VEEGAN +1 (at the tolerance)."""
    rises = {"gan": (7, -2, 0, 0), "unrolled-gan": (-2, -3, -2, -3), "vae": (0,) * 4, "sig": (0,) * 4, "veegan": (1,) * 4}
    lengths = {"gan": 320000, "unrolled-gan": 160000}  # the others: 80,000
    for run in expand(spec, "cpu", seeds=4):
        end, n = 20.0, lengths.get(run.method, 80000)
        rise = rises[run.method][run.seed]
        curve = [{"step": s, "modes": end - rise if s <= 0.8 * n else end} for s in range(n // 10, n + 1, n // 10)]
        write(tmp_path, run, {"modes": end, "hq": 0.5, "kl": 1.0}, curve)
    lines = footer(spec, table_summary(spec, tmp_path), "cpu")
    line = next(x for x in lines if x.startswith("Still moving at the end of training"))
    assert "beyond ±1 with a drift significant by a one-sided t-test at 0.05" in line and "last 20% of training" in line
    assert "unrolled-gan · 0.2 (-2.5)" in line
    assert "gan · 0.2 (" not in line.replace("unrolled-gan", "") and "veegan" not in line and "vae" not in line
    assert "sig ·" not in line
    assert ("Training steps per cell: 80,000: vae · 0.2, veegan · 0.2, sig · 0.2; 160,000: unrolled-gan · 0.2; "
            "320,000: gan · 0.2.") in lines


def test_footer_says_when_every_cell_is_flat(tmp_path, spec):
    for run in expand(spec, "cpu", seeds=1):
        curve = [{"step": s, "modes": 25.0} for s in range(8000, 80001, 8000)]
        write(tmp_path, run, {"modes": 25.0, "hq": 0.5, "kl": 1.0}, curve)
    lines = footer(spec, table_summary(spec, tmp_path), "cpu")
    assert any(x.startswith("Convergence (the seeds' change of modes") and x.endswith("every cell is within it.")
               for x in lines)


def test_convergence_rule_is_validated(tmp_path, spec):
    text = (paths.project_root() / "jobs" / "sig-table1.yaml").read_text()
    assert "convergence: {metric: modes, window: 0.2, tolerance: 1.0}" in text
    for bad, message in [("{metric: mode, window: 0.2, tolerance: 1.0}", "not a metric of the job"),
                         ("{metric: modes, window: 1.5, tolerance: 1.0}", "window must lie in (0, 1)"),
                         ("{metric: modes, window: 0.2}", "missing required field 'tolerance'")]:
        path = tmp_path / "sig-table1.yaml"
        path.write_text(text.replace("convergence: {metric: modes, window: 0.2, tolerance: 1.0}", f"convergence: {bad}"))
        with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
            load_spec(path)


def test_footer_names_the_stds_a_scale_has_not_run_yet(tmp_path, spec):
    """Paper-scale records at std 0.2 and 0.1 only: 0.05 is the paper scale's own and not run yet; the
    cpu scale's footer sends the other stds to the paper scale."""
    for scale in ("paper", "cpu"):
        for run in expand(spec, scale, seeds=1):
            if run.config["std"] != 0.05:
                write(tmp_path, run, {"modes": 25.0, "hq": 0.5, "kl": 1.0})
    summary = table_summary(spec, tmp_path)
    assert "std 0.05: not run yet (`repro run sig-table1 --scale paper --axis std=0.05`)." in footer(spec, summary, "paper")
    assert not any(x.startswith("std") and "no runs" in x for x in footer(spec, summary, "paper"))
    assert any(x.startswith("std 0.1, 0.05: no runs at this scale") for x in footer(spec, summary, "cpu"))


@pytest.mark.parametrize("rise, status", [(0.0, "reproduced"), (3.0, "inconclusive")])
def test_a_claim_on_a_cell_still_moving_is_inconclusive(tmp_path, spec, rise, status):
    """004's GAN collapse (4.0 ± 3.08 modes), tested at the leading std on GAN seeds with 4 modes: reproduced
    when their curves end flat; inconclusive, naming the cell, when they rose 3 modes over the last 20 %."""
    from repro.claims.evaluate import evaluate
    from repro.claims.ledger import load_claims, specs_by_id

    for run in expand(spec, "paper", seeds=2):
        if run.config["std"] == 0.2:
            modes = 4.0 + run.seed if run.method == "gan" else 25.0
            curve = [{"step": s, "modes": modes - (rise if run.method == "gan" and s <= 32000 else 0)}
                     for s in range(4000, 40001, 4000)]
            write(tmp_path, run, {"modes": modes, "hq": 0.5, "kl": 1.0}, curve)
    claims = [c for c in load_claims() if c.id == "004-t1-gan-collapse"]
    verdict = evaluate(claims, specs_by_id(), tmp_path)[0]
    assert verdict.status == status
    if rise:
        assert verdict.reason.startswith("would be reproduced, but gan · 0.2 (+3.0 modes over the last 20%; every seed +3) still moved")


def test_the_provisional_leads_command_runs_the_missing_stds_at_the_scales_protocol(spec):
    """`--axis std=0.1,0.05` at scale cpu (whose grid runs 0.2 only): the job's other stds, with the cpu
    scale's config (10 seeds, the length rule's steps per std); std 0.2's runs keep their keys."""
    from repro.cli import _axis_values
    from repro.tasks.gmm_modes import training_steps

    runs = expand(spec, "cpu", axes=_axis_values(spec, ["std=0.1,0.05"]))
    assert sorted({r.config["std"] for r in runs}) == [0.05, 0.1] and len(runs) == 2 * 5 * 10
    assert {r.config["std"]: training_steps(r.config, r.config["std"]) for r in runs} == {0.1: 80000, 0.05: 200000}
    assert {r.key for r in expand(spec, "cpu", axes={"std": [0.2]})} == {r.key for r in expand(spec, "cpu")}
    with pytest.raises(SpecError, match="not among the job's"):
        expand(spec, "cpu", axes={"std": [0.3]})
