"""One newswatch cycle in this process, as `newswatch once` runs it, timed from inside; prints one
JSON line. The fetch benchmark runs it as its own process (`python -m benchmarks.fetch_child
CONFIG`): a module of its own, so the whole process's time holds newswatch's start-up and not the
benchmark harness's (the farm, the peers and their imports, about 0.1 s of CPU)."""

from __future__ import annotations

import json
import logging
import sys
import time


def main(config_path: str) -> None:
    from pipeline.commands.run import freeze_start_up
    from pipeline.config import load_config
    from pipeline.cycle import Pipeline

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pipeline.cycle").setLevel(logging.ERROR)
    config = load_config(config_path)
    with Pipeline.open(config) as pipeline:
        freeze_start_up()
        started = time.perf_counter()
        report = pipeline.run_cycle()
        cycle_seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "cycle_seconds": cycle_seconds,
                "summary": report.summary(),
                "failed": len(report.failed_feeds),
                "not_modified": sum(1 for feed in report.feeds if feed.not_modified),
                "new": report.total("new"),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
