"""Feed-summary mode against rss2email, run after run: the issue 16 target "at least as fast as
rss2email over the same items, as whole processes, at most 2x its peak memory".

    python -m benchmarks summary                 # 100 feeds x 4 items, 5 pairs
    python -m benchmarks summary --pairs 3 --feeds 20

Each pair is one `newswatch once` in feed-summary mode (`fetch_pages: false`: every item matched
against the shipped topics, fingerprinted and stored in a fresh SQLite database, alerts mailed to a
local SMTP sink) and one rss2email first run (every item mailed to the sink), alternating, so that
both see the same load. The throughput benchmark measures each once, beside the extraction runs;
on a shared machine one run's ratio moves by more than a change is worth, so this one reports the
medians of several pairs, their spread, and the ratio of the medians. CPU time (user + system) is
less disturbed by other jobs than wall time; both are given.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.bench_setup import (
    REPO_ROOT,
    add_farm_arguments,
    farm_feeds,
    farm_spec,
    free_port,
    machine,
    save_results,
    write_newswatch_config,
)
from benchmarks.databases import count_articles
from benchmarks.farm import Farm
from benchmarks.measure import ProcessRun, run_measured
from benchmarks.peers import (
    SmtpSink,
    ensure_rss2email,
    rss2email_version,
    run_rss2email,
    write_rss2email_config,
)

TOOLS = ("newswatch", "rss2email")


@dataclass(frozen=True)
class Run:
    tool: str
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float


@dataclass(frozen=True)
class Spread:
    """Median, lowest and highest of one measure over a tool's runs."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values))

    def __str__(self) -> str:
        return f"{self.median:6.2f} ({self.low:.2f}-{self.high:.2f})"


def run_newswatch(config: Path, database: str, articles: int) -> ProcessRun:
    run = run_measured([sys.executable, "-m", "pipeline", "once", "--config", str(config)], cwd=REPO_ROOT)
    if run.returncode != 0:
        raise RuntimeError(f"newswatch once failed ({run.returncode}):\n{run.stderr[-3000:]}")
    stored = sum(number for kind, number in count_articles(database).items() if kind != "matches")
    if stored != articles:
        raise RuntimeError(f"newswatch stored {stored} articles, {articles} expected")
    return run


def measure(farm: Farm, folder: Path, pairs: int, articles: int) -> list[Run]:
    r2e = ensure_rss2email()
    runs: list[Run] = []
    port = free_port()
    with SmtpSink(port):
        for pair in range(pairs):
            database = f"sqlite:///{folder / f'summary-{pair}.db'}"
            config = write_newswatch_config(
                folder / f"newswatch-{pair}.yaml",
                database,
                farm_feeds(farm.feed_urls()),
                port,
                fetch={"fetch_pages": False},
            )
            ours = run_newswatch(config, database, articles)
            peer_folder = folder / f"rss2email-{pair}"
            peer_folder.mkdir()
            peer_config, peer_data = write_rss2email_config(peer_folder, farm.feed_urls(), port)
            theirs = run_rss2email(r2e, peer_config, peer_data)
            if theirs.returncode != 0:
                raise RuntimeError(f"rss2email failed ({theirs.returncode}):\n{theirs.stderr[-3000:]}")
            for tool, run in zip(TOOLS, (ours, theirs), strict=True):
                runs.append(Run(tool, run.wall_seconds, run.cpu_seconds, run.peak_rss_mb))
            print(
                f"  pair {pair + 1}: newswatch {ours.wall_seconds:.2f} s, {ours.cpu_seconds:.2f} s CPU; "
                f"rss2email {theirs.wall_seconds:.2f} s, {theirs.cpu_seconds:.2f} s CPU",
                flush=True,
            )
    return runs


def spreads(runs: list[Run]) -> dict[str, dict[str, Spread]]:
    return {
        tool: {
            measure_name: Spread.of([getattr(run, measure_name) for run in runs if run.tool == tool])
            for measure_name in ("wall_seconds", "cpu_seconds", "peak_rss_mb")
        }
        for tool in TOOLS
    }


def render(by_tool: dict[str, dict[str, Spread]], pairs: int) -> str:
    lines = [f"{'tool':10} {'wall s, median (range)':>24} {'CPU s, median (range)':>24} {'peak RSS MB':>24}"]
    for tool, measures in by_tool.items():
        lines.append(
            f"{tool:10} {measures['wall_seconds']!s:>24} {measures['cpu_seconds']!s:>24} "
            f"{measures['peak_rss_mb']!s:>24}"
        )
    ours, theirs = by_tool["newswatch"], by_tool["rss2email"]
    lines += [
        f"(medians of {pairs} alternating runs each; whole processes, start-up included)",
        f"time, rss2email / newswatch (target: at least 1.0x): wall "
        f"{theirs['wall_seconds'].median / ours['wall_seconds'].median:.2f}x, CPU "
        f"{theirs['cpu_seconds'].median / ours['cpu_seconds'].median:.2f}x",
        f"peak memory, newswatch / rss2email (target: at most 2.0x): "
        f"{ours['peak_rss_mb'].median / theirs['peak_rss_mb'].median:.2f}x",
    ]
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_farm_arguments(parser, feeds=100, items=4)
    parser.add_argument("--pairs", type=int, default=5, help="alternating runs of each tool")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks summary", description=__doc__.split("\n\n")[0]
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    spec = farm_spec(args)
    articles = spec.feeds * spec.items
    load_before = os.getloadavg()
    print(f"load average before: {' '.join(f'{load:.2f}' for load in load_before)}", flush=True)
    with tempfile.TemporaryDirectory(prefix="nw-bench-summary-") as tmp, Farm(spec) as farm:
        print(
            f"farm: {spec.feeds} feeds x {spec.items} items = {articles} items, port {farm.port}", flush=True
        )
        runs = measure(farm, Path(tmp), args.pairs, articles)
    load_after = os.getloadavg()
    by_tool = spreads(runs)
    print(render(by_tool, args.pairs))
    print(f"load average after: {' '.join(f'{load:.2f}' for load in load_after)}")
    result: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "farm": {"feeds": spec.feeds, "items": spec.items, "corpus": spec.use_corpus},
        "pairs": args.pairs,
        "rss2email": rss2email_version(ensure_rss2email()),
        "runs": [asdict(run) for run in runs],
        "medians": {
            tool: {name: asdict(spread) for name, spread in m.items()} for tool, m in by_tool.items()
        },
        "machine": machine(load_before, load_after),
    }
    save_results("summary", result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
