import os

os.environ.setdefault("MPLBACKEND", "Agg")

import subprocess  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def worker_subprocess():
    """Runs ``python -m repro.worker CFG_FILE RESULTS`` in a fresh process; ``stop_after=n`` kills it
    (os._exit, exit code 75) when it writes its n-th checkpoint, for the kill-and-resume tests."""
    def run(cfg_file, results, stop_after=None) -> subprocess.CompletedProcess:
        env = dict(os.environ)
        env.pop("REPRO_STOP_AFTER_CHECKPOINT", None)
        if stop_after:
            env["REPRO_STOP_AFTER_CHECKPOINT"] = str(stop_after)
        return subprocess.run([sys.executable, "-m", "repro.worker", str(cfg_file), str(results)], env=env,
                              capture_output=True, text=True, timeout=300)
    return run
