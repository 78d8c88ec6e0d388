"""This package's C kernels for the CPU (``kernels/*.c``): built on first use, loaded
with ctypes.

The kernels are C with AVX-512 intrinsics: Winograd 3x3 convolutions
(:mod:`googlenet.deploy.winograd`) and max pooling (:mod:`googlenet.deploy.native_pool`),
the parts of the ``winograd`` inference path that oneDNN does not do as fast. They are
compiled together with the machine's C compiler (``$CC``, else ``cc``) into
``~/.cache/googlenet/kernels/googlenet_kernels-<hash>.so``, written atomically, once per
source version and compiler. Built with ``-fopenmp``, the library asks for
``libgomp.so.1`` by name and the loader hands it the copy PyTorch has loaded, so the
kernels run in PyTorch's own thread team (a second team competed with PyTorch's
spinning threads). Where they cannot run (no compiler, no AVX-512, not x86-64),
:func:`unavailable_reason` says why in one line.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
from pathlib import Path

import torch

from ..data.idx import cache_dir
from ..errors import GoogLeNetError
from ..weights._atomic import atomic_path

SOURCES = tuple(sorted((Path(__file__).parent / "kernels").glob("*.c")))
CFLAGS = ("-O3", "-mavx512f", "-mfma", "-mtune=native", "-fopenmp", "-shared", "-fPIC")

_P, _INT, _LONG = ctypes.c_void_p, ctypes.c_int, ctypes.c_long
_SIGNATURES: dict[str, tuple[list[type], type | None]] = {
    # x, U, bias, y, work, n, h, w, c, k, pad, relu, ldx, ldy, tile block, threads
    "winograd_f43": ([_P, _P, _P, _P, _P, _INT, _INT, _INT, _INT, _INT, _INT, _INT,
                      _LONG, _LONG, _INT, _INT], None),
    "winograd_work_floats": ([_INT, _INT, _INT], _LONG),
    # x, y, n, h, w, c, ldx, ldy, kh, kw, sh, sw, ph, pw, oh, ow, threads
    "max_pool_nhwc": ([_P, _P, _INT, _INT, _INT, _INT, _LONG, _LONG, _INT, _INT, _INT, _INT,
                       _INT, _INT, _INT, _INT, _INT], None),
}


class _CompileError(Exception):
    """The compiler ran and failed; its first line of errors."""


@functools.cache
def _build() -> ctypes.CDLL | str:
    """The kernel library, or why there is none (a one-line reason)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return "its kernels are for x86-64 CPUs"
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        return "building its kernels needs a C compiler (cc); none was found"
    digest = hashlib.sha256(" ".join((compiler, *CFLAGS)).encode())
    for source in SOURCES:
        digest.update(source.name.encode() + source.read_bytes())
    library = cache_dir("kernels") / f"googlenet_kernels-{digest.hexdigest()[:16]}.so"
    if not library.is_file():
        try:
            library.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(library, suffix=".so") as tmp:
                built = subprocess.run(
                    [compiler, *CFLAGS, "-o", str(tmp), *map(str, SOURCES)],
                    capture_output=True, text=True, check=False)
                if built.returncode:
                    raise _CompileError((built.stderr.strip().splitlines() or ["no message"])[0])
        except _CompileError as err:
            return f"{compiler} failed to build its kernels: {err}"
        except FileNotFoundError as err:
            if err.filename == compiler:
                return f"building its kernels needs a C compiler; {compiler} was not found"
            return f"cannot write its kernels to {library.parent}: {err.strerror}"
        except (OSError, GoogLeNetError) as err:  # a read-only or missing cache folder
            return f"cannot write its kernels to {library.parent}: {err}"
    lib = ctypes.CDLL(str(library))
    if not lib.kernels_cpu_supported():
        return "its kernels need a CPU with AVX-512"
    for name, (args, result) in _SIGNATURES.items():
        getattr(lib, name).argtypes = args
        getattr(lib, name).restype = result
    return lib


def unavailable_reason() -> str | None:
    """Why the kernels cannot run here, or None if they can (builds them if needed)."""
    built = _build()
    return built if isinstance(built, str) else None


def library() -> ctypes.CDLL:
    """The loaded kernels; raises RuntimeError with :func:`unavailable_reason`'s line."""
    built = _build()
    if isinstance(built, str):
        raise RuntimeError(f"this package's CPU kernels are unavailable: {built}")
    return built


def reset() -> None:
    """Forget the loaded library, so the next call builds or finds it again (tests)."""
    _build.cache_clear()


def pixel_major(x: torch.Tensor) -> bool:
    """Whether the 4-d ``x`` is NHWC in memory with pixels a fixed stride apart: a
    channels_last tensor or a channel slice of one (one branch of a merged 1x1's
    output), which the kernels read in place. Copying such a slice first cost up to
    40% of a Winograd layer's time."""
    n, c, h, w = x.shape
    pixel = x.stride(3)
    return x.stride(1) == 1 and pixel >= c and x.stride(2) == w * pixel \
        and (n == 1 or x.stride(0) == h * w * pixel)


def as_pixel_major(x: torch.Tensor) -> torch.Tensor:
    """``x`` itself if :func:`pixel_major`, else a channels_last copy."""
    return x if pixel_major(x) else x.contiguous(memory_format=torch.channels_last)


def runs_natively(x: torch.Tensor, *weights: torch.Tensor) -> bool:
    """Whether a kernel may take ``x``: fp32 on the CPU, no autograd, not under a
    tracer. Elsewhere the modules run the PyTorch ops they were made from."""
    return x.device.type == "cpu" and x.dtype == torch.float32 \
        and not torch.compiler.is_compiling() \
        and not (torch.is_grad_enabled() and (x.requires_grad
                                               or any(w.requires_grad for w in weights)))
