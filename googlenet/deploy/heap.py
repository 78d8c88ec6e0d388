"""Keep freed memory for reuse: the allocator setting the CPU inference paths run with.

glibc's malloc hands every allocation over 128 KB to its own ``mmap`` and returns it to
the system when freed, so each of an inference graph's activations, tens of MB at batch
32, arrives as fresh pages whose first touch is a page fault. On this project's 2-core
VM those faults cost more than some of the layers: googlenet_bn's batch-32 throughput
rose from 46.5 to 59.0 img/s on the fused path and from 62.6 to 74.3 on winograd once
freed memory was kept (BENCHMARKS.md, the winograd section). :func:`keep_freed_memory`
makes malloc serve every size from its heap and keep what is freed there (glibc's
``M_MMAP_MAX`` 0, ``M_TRIM_THRESHOLD`` 2 GB), so a batch reuses the previous batch's
pages.

The setting is process-wide and lasts: a process keeps its peak heap (for inference,
the activations of one batch) instead of returning freed pages. :func:`build_path`
applies it for CPU paths; set ``GOOGLENET_KEEP_FREED_MEMORY=0`` to leave malloc alone.
Other C libraries (musl, macOS) are left as they are.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import sys

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # glibc's malloc.h
TRIM_THRESHOLD = 2**31 - 1  # mallopt takes a C int


@functools.cache
def keep_freed_memory() -> bool:
    """Tune glibc's malloc as the module docstring says (once); returns whether it is."""
    if os.environ.get("GOOGLENET_KEEP_FREED_MEMORY", "1") == "0":
        return False
    if sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD,
                                                                  TRIM_THRESHOLD))
