"""A figure job with no table metrics still renders its Markdown and LaTeX tables (it crashed `repro run`)."""
from repro import paths, store
from repro.aggregate import render_latex, render_markdown
from repro.spec import expand, load_spec


def test_metricless_figure_job_renders(tmp_path):
    spec = load_spec(paths.project_root() / "jobs" / "kernelnet-fig5.yaml")
    assert spec.metrics == []
    run = expand(spec, "cpu")[0]
    store.write_json_atomic(tmp_path / run.job / run.key / store.RECORD, {
        "key": run.key, "job": run.job, "method": run.method, "dataset": run.dataset, "seed": run.seed,
        "scale": run.scale, "axes": dict(run.axes), "config": run.config, "status": "ok", "metrics": {}})
    assert "no table metrics" in render_latex(spec, tmp_path)
    assert "## Scale `cpu`" in render_markdown(spec, tmp_path)
