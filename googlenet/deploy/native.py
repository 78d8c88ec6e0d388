"""This package's C kernels for the CPU (``kernels/*.c``), compiled when the package is
installed and loaded with ctypes.

The kernels are Winograd 3x3 convolutions (:mod:`googlenet.deploy.winograd`) and max
pooling (:mod:`googlenet.deploy.native_pool`), the parts of the ``winograd`` inference
path that oneDNN does not do as fast, and for training batch norm + ReLU fused
(:mod:`googlenet.train.kernels`). ``setup.py`` compiles them once per
instruction set (:data:`~googlenet.deploy.kernel_sources.ISAS`: AVX-512, AVX2 + FMA) into
``kernels/_<isa>.<suffix>``; here the best one this CPU runs is loaded, after checking the
CPU's flags, and only if it was built from the sources beside it (their SHA-256 is
compiled in). Nothing is compiled at run time. Built with ``-fopenmp``, a library asks
for ``libgomp.so.1`` by name and the loader hands it the copy PyTorch has loaded, so the
kernels run in PyTorch's own thread team; a second OpenMP runtime in the process turns
the kernels off (two thread pools on the same cores run far slower).

Switches: ``GOOGLENET_NATIVE=0`` turns the kernels off; ``GOOGLENET_NATIVE_ISA=avx2``
(or ``avx512``) picks a build instead of the best one. Where the kernels cannot run,
:func:`unavailable_reason` says why in one line and the modules fall back to PyTorch.
Design notes: docs/native.md.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.machinery
import os
import platform
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from .kernel_sources import ISAS, KERNEL_DIR, Isa, source_digest

SWITCH = "GOOGLENET_NATIVE"
ISA_SWITCH = "GOOGLENET_NATIVE_ISA"
LIBRARY_DIR: Path = KERNEL_DIR
"""Where the compiled libraries are looked for (the tests point it elsewhere)."""

# The OpenMP runtimes a process can map: GCC's, Intel's, LLVM's (conda and pip torch
# builds rename them with a hash, libgomp-a34b3233.so.1).
_OPENMP = re.compile(r"/lib(gomp|iomp5|iomp|omp)([-.][^/]*)?\.so[^/]*$")

_P, _INT, _LONG, _FLOAT = ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_float
_SIGNATURES: dict[str, tuple[list[type], type | None]] = {
    # x, U, bias, y, work, n, h, w, c, k, pad, relu, ldx, ldy, tile block, threads
    "winograd_f43": ([_P, _P, _P, _P, _P, _INT, _INT, _INT, _INT, _INT, _INT, _INT,
                      _LONG, _LONG, _INT, _INT], None),
    "winograd_work_floats": ([_INT, _INT, _INT], _LONG),
    "winograd_rows": ([], _INT),
    # x, y, n, h, w, c, ldx, ldy, kh, kw, sh, sw, ph, pw, oh, ow, threads
    "max_pool_nhwc": ([_P, _P, _INT, _INT, _INT, _INT, _LONG, _LONG, _INT, _INT, _INT, _INT,
                       _INT, _INT, _INT, _INT, _INT], None),
    # x, y, rows, c, ldx, ldy, bf16, weight, bias, eps, factor, running mean, running var,
    # saved, threads
    "bn_relu_forward": ([_P, _P, _LONG, _INT, _LONG, _LONG, _INT, _P, _P, _FLOAT, _FLOAT, _P,
                         _P, _P, _INT], _INT),
    # x, dy, dx, rows, c, ldx, lddy, lddx, bf16, saved, dweight, dbias, threads
    "bn_relu_backward": ([_P, _P, _P, _LONG, _INT, _LONG, _LONG, _LONG, _INT, _P, _P, _P,
                          _INT], _INT),
    "kernels_cpu_supported": ([], _INT),
    "kernels_source_hash": ([], ctypes.c_char_p),
}


@dataclass(frozen=True)
class Kernels:
    """A loaded library: its functions, the instruction set it was built for, and the
    tiles of the Winograd products' register block."""

    lib: ctypes.CDLL
    isa: Isa
    rows: int
    path: Path


def cpu_flags() -> frozenset[str]:
    """The CPU's instruction-set flags that :data:`ISAS` asks about (Linux: from
    /proc/cpuinfo; elsewhere from PyTorch's cpuinfo checks)."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    flags = {"avx512f": torch.cpu._is_avx512_supported(), "avx2": torch.cpu._is_avx2_supported()}
    # Every CPU with AVX2 or AVX-512 also has FMA (Haswell, Zen and later).
    found = [f for f, on in flags.items() if on]
    return frozenset(found + (["fma"] if found else []))


def _candidates(flags: frozenset[str]) -> list[Isa] | str:
    """The builds to try, best first, or why none may run."""
    forced = os.environ.get(ISA_SWITCH, "").strip().lower()
    if forced:
        isa = next((i for i in ISAS if i.name == forced), None)
        if isa is None:
            return f"{ISA_SWITCH}={forced!r} is not one of {', '.join(i.name for i in ISAS)}"
        missing = [f for f in isa.cpu_flags if f not in flags]
        if missing:
            return f"{ISA_SWITCH}={forced}, but this CPU lacks {', '.join(missing)}"
        return [isa]
    runs = [isa for isa in ISAS if set(isa.cpu_flags) <= flags]
    return runs or f"its kernels need a CPU with {' or '.join(i.label for i in ISAS)}"


def library_file(isa: Isa) -> Path | None:
    """The compiled library for ``isa`` in :data:`LIBRARY_DIR`, or None."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = LIBRARY_DIR / f"_{isa.name}{suffix}"
        if path.is_file():
            return path
    return None


def _not_built(isa: Isa) -> str:
    note = LIBRARY_DIR / f"_{isa.name}.unavailable"
    try:
        why = note.read_text().strip().splitlines()[0]
    except (OSError, IndexError):
        why = "not compiled when the package was installed"
    return f"its {isa.label} kernels were {why} (reinstall with a C compiler: pip install .)"


def openmp_runtimes() -> list[str]:
    """The OpenMP runtime libraries mapped into this process (Linux), by real path."""
    try:
        with open("/proc/self/maps") as maps:
            # address, perms, offset, device, inode, then the path (absent for anonymous maps)
            fields = [line.split(None, 5) for line in maps]
            paths = {f[5].strip() for f in fields if len(f) == 6}
    except OSError:
        return []
    return sorted({os.path.realpath(p) for p in paths if _OPENMP.search(p)})


def _open() -> Kernels | str:
    if os.environ.get(SWITCH, "1") == "0":
        return f"turned off by {SWITCH}=0"
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return "its kernels are for x86-64 CPUs"
    candidates = _candidates(cpu_flags())
    if isinstance(candidates, str):
        return candidates
    found = [(isa, path) for isa in candidates if (path := library_file(isa)) is not None]
    if not found:
        return _not_built(candidates[0])
    isa, path = found[0]
    lib = ctypes.CDLL(str(path))
    for name, (args, result) in _SIGNATURES.items():
        getattr(lib, name).argtypes = args
        getattr(lib, name).restype = result
    if not lib.kernels_cpu_supported():
        return f"its {isa.label} kernels do not run on this CPU"
    if lib.kernels_source_hash().decode() != source_digest():
        return (f"{path.name} was built from other sources than those beside it; rebuild it "
                "(pip install -e ., or python setup.py build_ext --inplace)")
    runtimes = openmp_runtimes()
    if len(runtimes) > 1:
        reason = (f"a second OpenMP runtime is loaded ({', '.join(runtimes)}); the kernels "
                  "would compete with PyTorch's threads, so the fused path runs instead")
        warnings.warn(f"googlenet: {reason}", RuntimeWarning, stacklevel=3)
        return reason
    return Kernels(lib, isa, int(lib.winograd_rows()), path)


@functools.cache
def _load() -> Kernels | str:
    """The loaded kernels, or why there are none (one line); decided once per process."""
    try:
        return _open()
    except (OSError, AttributeError) as err:
        # dlopen failed (a noexec mount, a missing OpenMP runtime) or a symbol is missing.
        return f"its kernels could not be loaded: {err}"


def unavailable_reason() -> str | None:
    """Why the kernels cannot run here, or None if they can."""
    loaded = _load()
    return loaded if isinstance(loaded, str) else None


def kernels() -> Kernels:
    """The loaded kernels; raises RuntimeError with :func:`unavailable_reason`'s line."""
    loaded = _load()
    if isinstance(loaded, str):
        raise RuntimeError(f"this package's CPU kernels are unavailable: {loaded}")
    return loaded


def library() -> ctypes.CDLL:
    """The loaded library's functions (see :func:`kernels`)."""
    return kernels().lib


def isa() -> str | None:
    """The instruction set of the loaded kernels ("avx512", "avx2"), or None."""
    loaded = _load()
    return None if isinstance(loaded, str) else loaded.isa.name


def reset() -> None:
    """Forget the loaded library, so the next call looks again (tests; the switches are
    read then)."""
    _load.cache_clear()


def check_batch(x: torch.Tensor, what: str) -> None:
    """Refuse what the kernels cannot read: a ``what`` that is not a 4-d float32 CPU
    tensor (a CUDA tensor would hand C a device pointer)."""
    if x.dim() != 4:
        raise ValueError(f"{what}: the kernels take a 4-d NCHW batch, not shape {tuple(x.shape)}")
    if x.device.type != "cpu":
        raise ValueError(f"{what}: the kernels run on the CPU; this tensor is on {x.device}")
    if x.dtype != torch.float32:
        raise ValueError(f"{what}: the kernels take float32, not {x.dtype}")


def check_operand(t: torch.Tensor, what: str, shape: tuple[int, ...]) -> None:
    """Refuse a weight or bias of another shape, dtype or device, or not contiguous."""
    if tuple(t.shape) != shape:
        raise ValueError(f"{what}: expected shape {shape}, got {tuple(t.shape)}")
    if t.device.type != "cpu" or t.dtype != torch.float32:
        raise ValueError(f"{what}: expected float32 on the CPU, got {t.dtype} on {t.device}")
    if not t.is_contiguous():
        raise ValueError(f"{what}: must be contiguous")


def output(shape: tuple[int, int, int, int]) -> torch.Tensor:
    """An uninitialised channels_last float32 CPU tensor for a kernel to write, whatever
    the default dtype and device."""
    return torch.empty(shape, dtype=torch.float32, device="cpu",
                       memory_format=torch.channels_last)


def pixel_major(x: torch.Tensor) -> bool:
    """Whether the 4-d ``x`` is NHWC in memory with pixels a fixed stride apart: a
    channels_last tensor or a channel slice of one (one branch of a merged 1x1's
    output), which the kernels read in place (a copy cost a large share of a Winograd
    layer's time)."""
    n, c, h, w = x.shape
    pixel = x.stride(3)
    return x.stride(1) == 1 and pixel >= c and x.stride(2) == w * pixel \
        and (n == 1 or x.stride(0) == h * w * pixel)


def as_pixel_major(x: torch.Tensor) -> torch.Tensor:
    """``x`` itself if :func:`pixel_major`, else a channels_last copy."""
    return x if pixel_major(x) else x.contiguous(memory_format=torch.channels_last)


def _tracing() -> bool:
    """``torch.jit.is_tracing()`` (which the stubs do not export): under
    ``torch.jit.trace`` or the TorchScript ONNX exporter."""
    return torch._C._get_tracing_state() is not None


def may_call(x: torch.Tensor) -> bool:
    """Whether a kernel may be handed ``x`` at all: a CPU tensor, outside tracers
    (``torch.compile``/``torch.export``, ``torch.jit.trace`` and the TorchScript ONNX
    exporter, which would record an opaque call as an empty tensor), with the kernels
    loaded. Each caller adds what its kernel takes (dtype, autograd)."""
    return x.device.type == "cpu" and not torch.compiler.is_compiling() and not _tracing() \
        and unavailable_reason() is None


def runs_natively(x: torch.Tensor, *weights: torch.Tensor) -> bool:
    """Whether an inference kernel may take ``x``: :func:`may_call`, fp32, no autograd.
    Elsewhere the modules run the PyTorch ops they were made from."""
    return x.dtype == torch.float32 and may_call(x) \
        and not (torch.is_grad_enabled() and (x.requires_grad
                                               or any(w.requires_grad for w in weights)))
