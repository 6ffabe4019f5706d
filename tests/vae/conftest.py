"""The VAE/AIS tests run many tiny tensor ops; one intra-op thread avoids contention on shared cores."""
import pytest
import torch


@pytest.fixture(autouse=True)
def _single_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
