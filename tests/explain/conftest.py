import sys
from pathlib import Path

import pytest

# Helper modules sit beside the tests; make them importable under any import mode.
sys.path.insert(0, str(Path(__file__).parent))

from quadrants import trained_model  # noqa: E402


@pytest.fixture(scope="session")
def quadrant_net(request: pytest.FixtureRequest):
    """A small network trained to name the shape in one quadrant (see quadrants.py)."""
    return trained_model(request)
