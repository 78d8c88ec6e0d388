"""Device names as the commands take them: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.

They are checked before any work starts, so ``--device cuda`` on a CPU-only torch build is
a one-line :class:`~googlenet.errors.DeviceError`, not an assertion deep inside torch
after the data set was loaded.
"""

from __future__ import annotations

import re

import torch

from .errors import DeviceError

__all__ = ["DEVICE_NAMES", "check_device_name", "resolve_device"]

DEVICE_NAMES = "auto, cpu, cuda or cuda:N"
_NAME = re.compile(r"(auto|cpu|cuda(:[0-9]+)?)\Z")


def check_device_name(name: object) -> str:
    """``name`` if it is one of :data:`DEVICE_NAMES`, else :class:`DeviceError`.

    Only the spelling is checked: a config may name a GPU that the machine which writes
    it lacks (use :func:`resolve_device` where the work runs).
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise DeviceError(f"device {name!r}: expected {DEVICE_NAMES}")
    return name


def resolve_device(name: str) -> torch.device:
    """The torch device for ``name``: ``auto`` is CUDA when available, else the CPU.

    Raises :class:`DeviceError` for an unknown name, a torch build without CUDA, a machine
    without a GPU, or a GPU index it does not have.
    """
    check_device_name(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type != "cuda":
        return device
    if not torch.backends.cuda.is_built():  # type: ignore[no-untyped-call]  # untyped in torch
        raise DeviceError(f"device {name!r}: this torch build ({torch.__version__}) has no "
                          "CUDA support; use cpu")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        raise DeviceError(f"device {name!r}: no CUDA GPU is available here; use cpu")
    if (device.index or 0) >= count:
        raise DeviceError(f"device {name!r}: this machine has {count} CUDA device(s), "
                          f"cuda:0 to cuda:{count - 1}")
    return device
