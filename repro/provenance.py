"""Where and with what a record was computed."""
from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from functools import lru_cache

from . import __version__, paths


@lru_cache(maxsize=1)
def git_commit() -> str | None:
    try:
        root = paths.project_root()
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return sha.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def provenance(device: str = "cpu") -> dict:
    import torch

    dev = str(device)
    if dev.startswith("cuda") and torch.cuda.is_available():
        dev_name = torch.cuda.get_device_name(torch.device(dev))
    else:
        dev_name = platform.processor() or platform.machine()
    return {
        "repro_version": __version__,
        "commit": git_commit(),
        "torch_version": torch.__version__,
        "python_version": sys.version.split()[0],
        "device": dev,
        "device_name": dev_name,
        "host": socket.gethostname(),
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
    }
