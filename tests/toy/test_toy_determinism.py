"""Same command, same machine, same records: a short compiled run trained twice, the second time beside a
busy process, writes identical metrics and curves. With inductor's default mode no kernel is chosen by
timing, so the machine's load cannot pick another kernel (max-autotune would benchmark candidates)."""
import subprocess
import sys

import pytest

from repro.runtime import RunContext
from repro.tasks import gmm_modes

BUSY = "import torch\ntorch.set_num_threads(2)\na = torch.randn(400, 400)\nwhile True:\n    a = (a @ a).tanh()\n"


def _cfg(method: str, seed: int) -> dict:
    return {"method": method, "recipe": {"family": method}, "seed": seed, "steps": 40, "curve_every": 10,
            "batch_size": 64, "eval_samples": 3000, "saved_samples": 100, "plot_samples": 100, "compile": True,
            "model": {"hidden": 16, "z_dim": 4}, "data": {"n_per_side": 5, "spacing": 2.0, "std": 0.2}}


def _train(folder, method):
    cfgs = [_cfg(method, s) for s in (0, 1, 2)]
    return gmm_modes.run_group(cfgs, [RunContext(folder / str(s)) for s in (0, 1, 2)])


@pytest.mark.parametrize("method", ["gan", "veegan"])
def test_compiled_run_is_identical_beside_a_busy_process(tmp_path, method):
    quiet = _train(tmp_path / "quiet", method)
    busy = subprocess.Popen([sys.executable, "-c", BUSY])
    try:
        loaded = _train(tmp_path / "busy", method)
    finally:
        busy.kill()
        busy.wait()
    assert any("compiled (True)" in n for n in quiet[0]["notes"])  # the compiled path, not an eager fallback
    for a, b in zip(quiet, loaded):
        assert a["metrics"] == b["metrics"] and a["curve"] == b["curve"]
