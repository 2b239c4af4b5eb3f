"""Large arrays reuse the process's heap once it computes (``keeps_heap``).

glibc maps each allocation above its mmap threshold (32 MB at most) on pages of its own and
unmaps them on free, and gives the heap's free top back above 64 MB: every temporary array of a
few million rows then faults its pages in again, each zeroed by the kernel. In the attribution
kernel on 5M shuffled touches that was up to half the time (0.9 s of system time in a 1.9 s run,
README Benchmarks). A process that computes keeps, from its first computation on, everything
under 1 GiB on the heap and up to 1 GiB of it free for the next arrays: a worker stays at its
peak (bounded by its shard, README Benchmarks) instead of faulting it in again every run.
Giving the memory back at the end of each call (``malloc_trim``) cost the same faults again.
Where the C library is not glibc, nothing changes."""

from __future__ import annotations

import ctypes
import functools
import platform

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_KEPT = {_M_MMAP_THRESHOLD: 1 << 30, _M_TRIM_THRESHOLD: 1 << 30, _M_TOP_PAD: 64 << 20}
_set = False


def keeps_heap(function):
    """Decorator: from the first call on, this process keeps its heap (see the module)."""

    @functools.wraps(function)
    def keeping(*args, **kwargs):
        if not _set:
            keep_heap()
        return function(*args, **kwargs)

    return keeping


def keep_heap() -> bool:
    """Keep freed memory on the heap from now on; whether the C library took the settings."""
    global _set
    _set = True
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    return all(libc.mallopt(option, value) == 1 for option, value in _KEPT.items())
