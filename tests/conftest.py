"""Fixtures for every test. Plain helper functions (pixels of a PNG) live in tests/helpers.py."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Every test on one torch thread, as the notebooks run: identical sums from run to run, and no
    collapse when the other core is busy (a 60-epoch fixture took 144 s on 2 threads, 7 s on 1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(1234)
