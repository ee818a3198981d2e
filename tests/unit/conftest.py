"""Fixtures of the unit tests of the core (models, data, training) and the command line."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request: pytest.FixtureRequest) -> str:
    """Run a test on the CPU and, when present, on CUDA."""
    return request.param
