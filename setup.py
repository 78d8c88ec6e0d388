"""Builds the C kernels as optional extensions of the package (one per instruction set);
everything else is in pyproject.toml. Why setuptools, and how the kernels are found and
checked at run time: docs/native.md.

A machine without a working C compiler (or not x86-64) still installs: the failed build
leaves a one-line note beside the sources, ``_<isa>.unavailable``, which the
``winograd`` path quotes as the reason it cannot run.
"""

from __future__ import annotations

import importlib.util
import platform
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# Loaded by path: importing the package would import torch, absent at build time.
_spec = importlib.util.spec_from_file_location(
    "_kernel_sources", Path(__file__).parent / "googlenet/deploy/kernel_sources.py")
assert _spec is not None and _spec.loader is not None
ks = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = ks  # dataclasses look their module up while the file runs
_spec.loader.exec_module(ks)

NOTE_SUFFIX = ".unavailable"


def _compiler_error(command: list[str], ext: Extension) -> str:
    """The compiler's first ``error:`` line for ``ext``'s source (rerun to read it, since
    distutils lets its output through), else that it failed; said in one line."""
    try:
        run = subprocess.run([*command, *ext.extra_compile_args, "-fsyntax-only",
                              *ext.sources], capture_output=True, text=True, timeout=120,
                             check=False)
    except (OSError, subprocess.SubprocessError) as err:
        return f"{command[0]} could not run: {err}"
    lines = (run.stderr + run.stdout).splitlines()
    return next((line.strip() for line in lines if "error:" in line),
                f"{command[0]} failed (exit status {run.returncode})")


class OptionalBuildExt(build_ext):
    """build_ext that never fails the install: each extension that cannot be built
    leaves ``<its name>.unavailable`` (one line: why) where the library would go."""

    def build_extension(self, ext: Extension) -> None:
        name = ext.name.rsplit(".", 1)[1] + NOTE_SUFFIX
        notes = [Path(self.get_ext_fullpath(ext.name)).parent / name]
        if getattr(self, "editable_mode", False):
            # An editable install copies only the libraries back into the source tree,
            # where the package is imported from: the note goes there itself.
            notes.append(ks.KERNEL_DIR / name)
        try:
            super().build_extension(ext)
        except Exception:  # any compiler or linker failure: the install goes on
            command = list(getattr(self.compiler, "compiler_so", None) or ["cc"])
            why = f"not built at install: {_compiler_error(command, ext)}"
            for note in notes:
                note.parent.mkdir(parents=True, exist_ok=True)
                note.write_text(why + "\n")
            print(f"googlenet: {ext.name} {why}; the winograd path will be unavailable",
                  file=sys.stderr)
        else:
            for note in notes:
                note.unlink(missing_ok=True)


def extensions() -> list[Extension]:
    """One extension per instruction set, on x86-64 only (elsewhere the loader says the
    kernels are for x86-64 and falls back)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return []
    digest = ks.source_digest()
    root = Path(__file__).parent
    return [Extension(
        ks.module_name(isa),
        sources=[str(ks.unit(isa).relative_to(root))],
        depends=[str(p.relative_to(root)) for p in sorted(ks.KERNEL_DIR.glob("*.[ch]"))],
        define_macros=[("KERNELS_SOURCE_HASH", f'"{digest}"')],
        extra_compile_args=[*ks.COMMON_FLAGS, *isa.flags],
        extra_link_args=list(ks.LINK_FLAGS),
        optional=True,
    ) for isa in ks.ISAS]


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
