"""glibc's allocator, told how a threaded daemon and a page-at-a-time worker use it.

Both calls are no-ops where the C library is not glibc (musl, macOS): they only change how much
freed memory the process keeps, never what it computes.

- `cap_arenas`: glibc gives each thread that allocates concurrently an arena of its own, up to 8
  per core, and memory freed in one arena is reused only by the threads allocating there. The
  daemon's poll threads each handle pages of a few hundred KB (page bytes, parse results), so
  every arena grows to its own high-water mark. It must run before the threads exist.
- `release_free_heap`: `malloc_trim(0)` hands the free pages inside the heap back to the kernel.
  lxml builds a page's tree with malloc; after a large page the freed tree would otherwise stay
  resident until the worker exits.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os

log = logging.getLogger(__name__)

# mallopt's parameter number for the arena limit (glibc's malloc.h).
_M_ARENA_MAX = -8


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    # The symbols already loaded into this process, the C library's among them (no search for a
    # library file, which ctypes.util would do by running ldconfig).
    libc = ctypes.CDLL(None)
    if not (hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim")):
        return None  # not glibc (musl has neither)
    return libc


# The daemon's and `newswatch once`'s limit. Python threads allocate one at a time under the GIL
# (C code that releases it, SQLite and TLS among it, allocates little), so two arenas cost no
# measurable contention; with glibc's default of 16 on two cores, the daemon peaked 49 MB higher
# at 1,000 feeds (issue 16, `python -m benchmarks memory`).
POLL_PROCESS_ARENAS = 2


def cap_arenas(arenas: int = POLL_PROCESS_ARENAS) -> bool:
    """Let at most `arenas` malloc arenas exist, unless the operator set MALLOC_ARENA_MAX (which
    glibc already applied); True if the cap is in force. Call before starting threads: arenas
    that exist stay."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return True
    libc = _glibc()
    if libc is None:
        return False
    taken = bool(libc.mallopt(_M_ARENA_MAX, arenas))
    if not taken:
        log.debug("glibc refused M_ARENA_MAX=%d", arenas)
    return taken


def release_free_heap() -> None:
    """Return the heap's free pages to the kernel (about 0.4 ms after a page extraction)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
