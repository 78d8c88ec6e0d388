"""Shared test settings: small thread count so the suite behaves on 2-core CI machines."""

import io

import pytest
import torch

torch.set_num_threads(2)
torch.manual_seed(0)


class FakeTTY(io.StringIO):
    """A text stream that says it is a terminal, so progress bars draw into it."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def fake_tty() -> FakeTTY:
    """A fake terminal; use it as ``with contextlib.redirect_stderr(fake_tty): ...`` in the
    test body (pytest's own capture resets ``sys.stderr`` after fixtures are set up)."""
    return FakeTTY()
