"""Keep freed memory for reuse: the allocator setting the CLI runs inference and training
with.

glibc's malloc serves large allocations with their own ``mmap`` and, once freed, hands
them back to the system (and trims its heap beyond 128 KB-64 MB of free space), so an
inference graph's activations, tens of MB at batch 32, keep arriving as fresh pages
whose first touch is a page fault; on a small VM those faults cost more than some of the
layers (BENCHMARKS.md, the winograd section, has the paths both ways).
:func:`keep_freed_memory` sets glibc's ``M_MMAP_THRESHOLD`` to its maximum, 32 MB, and
``M_TRIM_THRESHOLD`` to 2 GB: allocations up to 32 MB come from the heap, and what is
freed stays there for the next layer and the next batch. Turning mmap off altogether
(``M_MMAP_MAX`` 0) slowed onnxruntime and OpenVINO.

The cost: the setting is process-wide and cannot be undone. The process keeps its peak
heap resident (for inference about one batch's activations; up to 2 GB of freed memory
is never returned) instead of giving freed pages back. So the CLI's ``predict``,
``eval``, ``bench``, ``train``, ``finetune`` and ``demo`` apply it; in the Python API it
is off unless asked for (``build_path(..., keep_freed_memory=True)``), and
``GOOGLENET_KEEP_FREED_MEMORY=0`` turns it off everywhere. Other C libraries (musl,
macOS) are left as they are.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
MMAP_THRESHOLD = 32 * 2**20  # glibc's upper bound on 64-bit
TRIM_THRESHOLD = 2**31 - 1  # mallopt takes a C int


@functools.cache
def keep_freed_memory() -> bool:
    """Tune glibc's malloc as the module docstring says (once); returns whether it is."""
    if os.environ.get("GOOGLENET_KEEP_FREED_MEMORY", "1") == "0":
        return False
    if sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) \
        and bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
