"""abm/lib/heap.py: once a process keeps its heap, large arrays come from the heap and freed ones
leave their pages for the next, instead of a mapping each (glibc's count of mapped blocks)."""

import platform
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)

# Mapped blocks while a 40 MB array lives (over glibc's largest sliding mmap threshold), and
# the heap's free bytes once it is freed.
SCRIPT = """
import ctypes, sys
import numpy as np
from abm.lib.heap import keep_heap

class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split())]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
took = keep_heap() if sys.argv[1] == "keep" else None
before = libc.mallinfo2().hblks
array = np.ones(5_000_000)
mapped = libc.mallinfo2().hblks - before
del array
print(took, mapped, libc.mallinfo2().fordblks)
"""


def _run(mode: str) -> tuple[str, int, int]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],  # the repository, where ``abm`` imports from
    )
    took, mapped, free = done.stdout.split()
    return took, int(mapped), int(free)


def test_a_kept_heap_serves_large_arrays_from_the_heap_and_keeps_them_freed():
    took, mapped, free = _run("keep")
    assert took == "True"
    assert mapped == 0
    assert free >= 40_000_000  # the freed array's pages, there for the next one


def test_without_it_glibc_maps_a_large_array_apart_and_unmaps_it():
    took, mapped, free = _run("plain")
    assert mapped == 1
    assert free < 40_000_000
