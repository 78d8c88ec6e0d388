"""The C kernels' sources and their instruction sets: what ``setup.py`` compiles at
install time and what :mod:`googlenet.deploy.native` loads, in one table.

Standard library only: ``setup.py`` loads this file by its path, before the package's
dependencies (torch) are installed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

KERNEL_DIR = Path(__file__).parent / "kernels"
"""The C sources, and beside them the compiled libraries (``_<isa>.<suffix>``)."""


@dataclass(frozen=True)
class Isa:
    """One build of the kernels: the compiler flags and the CPU flags it needs."""

    name: str
    flags: tuple[str, ...]
    cpu_flags: tuple[str, ...]
    label: str


ISAS: tuple[Isa, ...] = (
    Isa("avx512", ("-mavx512f", "-mfma"), ("avx512f", "fma"), "AVX-512"),
    Isa("avx2", ("-mavx2", "-mfma"), ("avx2", "fma"), "AVX2 + FMA"),
)
"""Best first: the loader takes the first one the CPU runs (``GOOGLENET_NATIVE_ISA``
names one instead)."""

COMMON_FLAGS = ("-O3", "-mtune=native", "-fopenmp")
"""``-mtune=native`` schedules for the installing machine without changing the
instruction set (that is ``-m<isa>``'s alone), as the kernels were tuned; with
``-fopenmp`` the library asks for ``libgomp.so.1`` by name, and the loader hands it the
copy PyTorch has loaded (see docs/native.md)."""

LINK_FLAGS = ("-fopenmp",)


def module_name(isa: Isa) -> str:
    """The extension's dotted name; its file is ``kernels/_<isa>`` plus the suffix."""
    return f"googlenet.deploy.kernels._{isa.name}"


def unit(isa: Isa) -> Path:
    """The one C file compiled for ``isa``: it includes the shared sources."""
    return KERNEL_DIR / f"{isa.name}.c"


def source_digest() -> str:
    """SHA-256 of every kernel source (names and bytes): compiled into each library,
    compared at load time, so a library built from other sources is never used."""
    digest = hashlib.sha256()
    for source in sorted(KERNEL_DIR.glob("*.[ch]")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()
