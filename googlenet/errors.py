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


class NonFiniteInputError(GoogLeNetError, ValueError):
    """Input images holding NaN or infinite values, which no inference path can answer."""


class UnknownFeatureError(GoogLeNetError, ValueError):
    """A feature, block or branch name the model does not have (a tap, a cut, a block to
    unfreeze or to draw); the message lists the valid names."""


class UsageError(GoogLeNetError, ValueError):
    """An option out of its range, or options that do not go together (``--topk 0``,
    neither an IMAGE nor ``--noise``, no model named or two): the user's arguments, not a
    file or a tensor."""


class DataError(GoogLeNetError, ValueError):
    """A dataset file that is missing, truncated, corrupt or inconsistent."""


class UnreadableImageError(DataError):
    """An image file that cannot be decoded (corrupt, truncated, not an image, missing).

    ``path`` and ``reason`` are kept apart so that batch readers (``googlenet predict``)
    can skip the file and report it in their own words.
    """

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


class OutputError(GoogLeNetError, ValueError):
    """A destination that cannot be written: a missing folder, a directory in the way."""


class WeightsError(GoogLeNetError, ValueError):
    """A weights file or checkpoint that does not fit the model it is loaded into."""


class TrainingError(GoogLeNetError, RuntimeError):
    """A training run that cannot go on (a NaN/inf loss, a checkpoint that does not fit)."""


class DeviceError(GoogLeNetError, ValueError):
    """A device name that is not auto/cpu/cuda/cuda:N, or a device this machine lacks."""


class ConfigError(GoogLeNetError, ValueError):
    """A training configuration with an unknown field or a value of the wrong type or range.

    ``field`` names the offending field when there is one and ``problem`` is the message
    without that name, so a caller can name it its own way: the CLI names the flag
    (``--dropout must be ...``), :meth:`TrainConfig.load` the file.
    """

    def __init__(self, message: str, *, field: str | None = None, problem: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.problem = problem or message


class DownloadError(GoogLeNetError):
    """A download that failed: no network, a timeout, an HTTP error, a checksum mismatch,
    a full disk or a folder that cannot be written. Nothing half-written is left behind."""


class UnknownReleaseError(GoogLeNetError, KeyError):
    """A weights release name that is not in the catalogue (``googlenet weights list``)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
