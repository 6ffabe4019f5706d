"""Torch threads per local worker follow the cores the launch may use (affinity), not the machine's."""
import os

import pytest

from repro import launch


@pytest.mark.parametrize("cores, workers, expected", [({0, 1}, 1, 2), ({0, 1}, 2, 1), ({1}, 1, 1),
                                                      ({0, 1, 2, 3, 4, 5, 6, 7}, 3, 2), ({0}, 4, 1)])
def test_threads_share_the_usable_cores(monkeypatch, cores, workers, expected):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: cores, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)  # the machine is bigger than the affinity mask
    assert launch.threads_per_worker(workers) == expected


def test_without_affinity_the_machine_counts(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert launch.usable_cores() == 6
    assert launch.threads_per_worker(4) == 1
