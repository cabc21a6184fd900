"""Imported by the extraction workers' fork server, and by nothing else: trafilatura, loaded and run
once there before any worker is forked.

Workers forked from that server start with trafilatura, lxml, htmldate and dateparser already
imported (no second or so of imports each) and share those pages with each other and with the
server until one of them writes to a page: on this machine each worker's proportional share of
memory (PSS) is a fraction of its resident set (docs/benchmarks.md, issue 16). The server is
started from a fresh interpreter (multiprocessing's forkserver), not forked from the daemon, so
it holds none of the daemon's threads, locks or connections.
"""

from pipeline.extract_page import load_trafilatura

load_trafilatura()
