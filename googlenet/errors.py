"""User-facing errors.

Every problem a user can cause (a bad file, an unknown model name, a wrong shape) raises a
subclass of :class:`GoogLeNetError` whose message is one line naming the thing and the
problem. The CLI prints that line and exits with status 2 instead of a traceback.
"""

from __future__ import annotations


class GoogLeNetError(Exception):
    """Base class of all errors the CLI reports as a single line."""


class UnknownModelError(GoogLeNetError, KeyError):
    """A model name that is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class SpecError(GoogLeNetError, ValueError):
    """An architecture spec whose channel or shape arithmetic does not add up."""


class InputSizeError(GoogLeNetError, ValueError):
    """An input tensor of the wrong rank, channel count or spatial size."""


class DataError(GoogLeNetError, ValueError):
    """A dataset file that is missing, truncated, corrupt or inconsistent."""


class WeightsError(GoogLeNetError, ValueError):
    """A weights file or checkpoint that does not fit the model it is loaded into."""


class TrainingError(GoogLeNetError, RuntimeError):
    """A training run that cannot go on (a NaN/inf loss, a checkpoint that does not fit)."""


class DeviceError(GoogLeNetError, ValueError):
    """A device name that is not auto/cpu/cuda/cuda:N, or a device this machine lacks."""


class OutputPathError(GoogLeNetError, ValueError):
    """An output file that cannot be written where it was asked for (no such folder, or a
    directory in the way)."""
