"""Imported by the extraction workers' fork server, and by nothing else: trafilatura, loaded and run
once there before any worker is forked.

Workers forked from that server start with trafilatura, lxml and htmldate already imported (no
fraction of a second of CPU each, and again for each replacement) and share those pages with each
other and with the server until one of them writes to a page: on this machine each worker's
proportional share of memory (PSS) is a fraction of its resident set (docs/benchmarks.md, issue 16).
The server is started from a fresh interpreter (multiprocessing's forkserver), not forked from the
daemon, so it holds none of the daemon's threads, locks or connections.

dateparser's locale patterns are not compiled here (they were until issue 16's third day: 1.2 s
of CPU on every start, before the first page could be extracted, and 40 MB). Only htmldate's
extensive date search needs them, and a worker runs it only for an entry its feed leaves undated
(pipeline/extract_page.py); a worker that meets one compiles them then, once.
"""

import gc

from pipeline.extract_page import load_trafilatura

load_trafilatura()
# Everything loaded so far lives as long as the worker: moved out of the collector's reach, a
# worker's collections neither walk it nor write to its objects' headers, which would copy each
# page they touch out of the shared memory into the worker's own.
gc.freeze()
