"""The results store: one folder per run, ``results/<job>/<key>/``, holding ``record.json``
(written atomically, once the run ends), the run's checkpoint and its artifacts, and a lock file.

Pure data: no torch, no model code.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import time
import warnings
from pathlib import Path
from typing import Iterator

RECORD = "record.json"
PROGRESS = "progress.json"  # step / total of a run still training, for the launcher's progress bar
DONE = ("ok", "diverged")  # statuses that count as computed; `failed` runs are retried


class CorruptRecord(ValueError):
    pass


def run_dir(results: Path, job: str, key: str) -> Path:
    return Path(results) / job / key


def record_path(results: Path, job: str, key: str) -> Path:
    return run_dir(results, job, key) / RECORD


def write_json_atomic(path: Path, data: dict) -> None:
    write_text_atomic(path, json.dumps(data, indent=1, sort_keys=True, default=str))


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, fsync, then rename: readers see all or nothing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


REQUIRED_FIELDS = ("key", "job", "status", "config")


def read_record(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CorruptRecord(f"{path}: corrupt record ({err.__class__.__name__}: {err})") from None
    if not isinstance(data, dict) or any(k not in data for k in REQUIRED_FIELDS):
        raise CorruptRecord(f"{path}: corrupt record (missing one of {', '.join(REQUIRED_FIELDS)})")
    return data


def run_status(results: Path, job: str, key: str) -> str:
    """ok | diverged | failed | corrupt | missing."""
    path = record_path(results, job, key)
    if not path.exists():
        return "missing"
    try:
        return read_record(path)["status"]
    except CorruptRecord:
        return "corrupt"


def iter_records(results: Path, job: str, on_corrupt=None) -> Iterator[dict]:
    """Every readable record of a job; a corrupt one is skipped, and ``on_corrupt(message)`` (default: a
    warning) names its file."""
    for path in sorted((Path(results) / job).glob(f"*/{RECORD}")):
        try:
            yield read_record(path)
        except CorruptRecord as err:
            message = f"skipping {err}; delete or fix it, or rerun that run with --force"
            if on_corrupt is None:
                warnings.warn(message, stacklevel=2)
            else:
                on_corrupt(message)


def set_aside(path: Path, reason: str) -> Path:
    """Keep an old record under a new name instead of overwriting it (never lose what was computed)."""
    target = path.with_name(f"{path.name}.{reason}-{time.strftime('%Y%m%d-%H%M%S')}")
    os.replace(path, target)
    return target


class RunLocked(RuntimeError):
    pass


@contextlib.contextmanager
def run_lock(folder: Path) -> Iterator[None]:
    """Exclusive lock per run (flock on ``.lock``): two launches never execute the same run at once."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLocked(f"{folder} is being run by another process") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
