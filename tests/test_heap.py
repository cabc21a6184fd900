"""glibc's arena cap and heap trim, observed through glibc's own malloc_stats in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pipeline.heap import _glibc

# Eight threads each allocate while all eight are alive, then glibc reports its arenas on stderr.
PROBE = """
import ctypes, sys, threading
from pipeline.heap import cap_arenas, release_free_heap
if sys.argv[1] == "cap":
    print(cap_arenas(2))
together = threading.Barrier(8)
def allocate():
    blocks = [bytes(2000) for _ in range(100)]
    together.wait()
threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
release_free_heap()
ctypes.CDLL(None).malloc_stats()
"""

pytestmark = pytest.mark.skipif(_glibc() is None, reason="glibc's allocator only")


def _arenas(mode: str, **env: str) -> tuple[int, str]:
    environment = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        capture_output=True,
        text=True,
        check=True,
        env={**environment, **env},
    )
    return sum(line.startswith("Arena ") for line in done.stderr.splitlines()), done.stdout.strip()


def test_threads_share_the_capped_number_of_arenas() -> None:
    uncapped, _ = _arenas("none")
    capped, taken = _arenas("cap")
    assert uncapped > 2
    assert (capped, taken) == (2, "True")


def test_an_operators_malloc_arena_max_is_left_in_force() -> None:
    arenas, taken = _arenas("cap", MALLOC_ARENA_MAX="4")
    assert (arenas, taken) == (4, "True")
