"""Fetch benchmark: newswatch and rss2email over the same local feed farm, in one run.

    python -m benchmarks.fetch                       # 1,000 feeds x 5 items, 50 hosts
    python -m benchmarks.fetch --feeds 200 --no-peer # quicker, newswatch only

For each tool: the first cycle (every item new) and then the all-304 cycle (nothing changed;
repeated, median reported), each as its own process, timing wall clock and reading peak RSS from
the kernel. newswatch runs in feed-summary mode (no page downloads), like rss2email, which mails
every new item to a local SMTP sink; newswatch matches every item against the shipped topics and
stores it (SQLite). newswatch's own cycle time (without interpreter start-up) is reported as well.
Targets (issue 4): the all-304 cycle of 1,000 feeds in under 3 s, and at least 2x rss2email's
feeds/s in the same run.
"""

from __future__ import annotations

import argparse
import json
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
    farm_feeds,
    free_port,
    machine,
    save_results,
    write_newswatch_config,
)
from benchmarks.farm import Farm, FarmSpec
from benchmarks.measure import ProcessRun, run_measured
from benchmarks.peers import (
    SmtpSink,
    ensure_rss2email,
    rss2email_version,
    run_rss2email,
    write_rss2email_config,
)


@dataclass
class Measurement:
    tool: str
    cycle: str
    feeds: int
    wall_seconds: float
    cycle_seconds: float | None
    peak_rss_mb: float
    requests: int
    not_modified: int
    detail: str
    cpu_seconds: float = 0.0

    @property
    def feeds_per_second(self) -> float:
        return self.feeds / self.wall_seconds

    @property
    def cycle_feeds_per_second(self) -> float | None:
        return self.feeds / self.cycle_seconds if self.cycle_seconds else None


def write_config(folder: Path, feed_urls: list[str], smtp_port: int) -> Path:
    return write_newswatch_config(
        folder / "newswatch.yaml",
        f"sqlite:///{folder / 'newswatch.db'}",
        farm_feeds(feed_urls),
        smtp_port,
        fetch={"fetch_pages": False},
    )


def run_newswatch_cycle(config: Path) -> tuple[ProcessRun, dict[str, Any]]:
    run = run_measured([sys.executable, "-m", "benchmarks.fetch_child", str(config)], cwd=REPO_ROOT)
    if run.returncode != 0:
        raise RuntimeError(f"newswatch cycle failed ({run.returncode}):\n{run.stderr[-3000:]}")
    return run, json.loads(run.stdout.strip().splitlines()[-1])


def farm_delta(farm: Farm, before: dict[str, Any]) -> tuple[int, int, dict[str, Any]]:
    after = farm.stats()
    return (
        after.get("feeds", 0) - before.get("feeds", 0),
        after.get("not_modified", 0) - before.get("not_modified", 0),
        after,
    )


def measure_newswatch(farm: Farm, folder: Path, smtp_port: int, repeats: int) -> list[Measurement]:
    config = write_config(folder, farm.feed_urls(), smtp_port)
    feeds = farm.spec.feeds
    results = []
    stats = farm.stats()
    for index in range(1 + repeats):
        run, inner = run_newswatch_cycle(config)
        requests, not_modified, stats = farm_delta(farm, stats)
        if inner["failed"]:
            raise RuntimeError(f"newswatch: {inner['failed']} feeds failed: {inner['summary']}")
        cycle = "first (all new)" if index == 0 else "all 304"
        results.append(
            Measurement(
                "newswatch",
                cycle,
                feeds,
                run.wall_seconds,
                inner["cycle_seconds"],
                run.peak_rss_mb,
                requests,
                not_modified,
                inner["summary"],
                run.cpu_seconds,
            )
        )
    return results


def measure_rss2email(
    farm: Farm, folder: Path, smtp_port: int, repeats: int
) -> tuple[list[Measurement], str]:
    r2e = ensure_rss2email()
    config, data = write_rss2email_config(folder, farm.feed_urls(), smtp_port)
    feeds = farm.spec.feeds
    results = []
    stats = farm.stats()
    for index in range(1 + repeats):
        run = run_rss2email(r2e, config, data)
        requests, not_modified, stats = farm_delta(farm, stats)
        if run.returncode != 0:
            raise RuntimeError(f"rss2email failed ({run.returncode}):\n{run.stderr[-3000:]}")
        cycle = "first (all new)" if index == 0 else "all 304"
        errors = sum(1 for line in run.stderr.splitlines() if "error" in line.lower())
        results.append(
            Measurement(
                "rss2email",
                cycle,
                feeds,
                run.wall_seconds,
                None,
                run.peak_rss_mb,
                requests,
                not_modified,
                f"{errors} error lines on stderr",
                run.cpu_seconds,
            )
        )
    return results, rss2email_version(r2e)


def median_of(measurements: list[Measurement], tool: str, cycle: str) -> Measurement:
    """The median run (by newswatch's own cycle time where measured, else by wall time)."""
    matching = [m for m in measurements if m.tool == tool and m.cycle == cycle]
    return sorted(matching, key=lambda m: m.cycle_seconds or m.wall_seconds)[len(matching) // 2]


def median_cpu(measurements: list[Measurement], tool: str) -> float:
    """The median CPU time of a tool's all-304 runs (less disturbed by other jobs than wall time)."""
    return statistics.median(m.cpu_seconds for m in measurements if m.tool == tool and m.cycle == "all 304")


def render(measurements: list[Measurement], emails: dict[str, int]) -> str:
    lines = [
        f"{'tool':10} {'cycle':16} {'wall s':>7} {'feeds/s':>8} {'cycle s':>8} {'feeds/s':>8} "
        f"{'peak RSS MB':>11} {'requests':>8} {'304s':>5} {'CPU s':>6}",
    ]
    for m in measurements:
        cycle_s = f"{m.cycle_seconds:8.2f}" if m.cycle_seconds else f"{'-':>8}"
        cycle_rate = f"{m.cycle_feeds_per_second:8.0f}" if m.cycle_feeds_per_second else f"{'-':>8}"
        lines.append(
            f"{m.tool:10} {m.cycle:16} {m.wall_seconds:7.2f} {m.feeds_per_second:8.0f} {cycle_s} "
            f"{cycle_rate} {m.peak_rss_mb:11.0f} {m.requests:8d} {m.not_modified:5d} {m.cpu_seconds:6.2f}"
        )
    lines.append(
        "(wall: the whole process, start-up included; cycle: newswatch's cycle alone, timed inside; "
        "CPU: the whole process's user + system time)"
    )
    for tool, count in emails.items():
        lines.append(f"emails received by the SMTP sink from {tool}: {count}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fetch", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    run_from_arguments(parser.parse_args(sys.argv[1:] if argv is None else argv))
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=5)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3, help="all-304 cycles per tool (median reported)")
    parser.add_argument("--no-peer", action="store_true", help="skip rss2email")
    parser.add_argument("--json", type=Path, help="write the results here (default: benchmarks/results/)")


def run_from_arguments(args: argparse.Namespace) -> dict[str, Any]:
    spec = FarmSpec(feeds=args.feeds, items=args.items, hosts=args.hosts)
    load_before = os.getloadavg()
    measurements: list[Measurement] = []
    emails: dict[str, int] = {}
    peer_version = None
    with tempfile.TemporaryDirectory(prefix="nw-bench-fetch-") as tmp, Farm(spec) as farm:
        folder = Path(tmp)
        print(
            f"farm: {spec.feeds} feeds x {spec.items} items on {spec.hosts} loopback hosts, port {farm.port}"
        )
        port = free_port()
        with SmtpSink(port) as sink:
            measurements += measure_newswatch(farm, folder, port, args.repeats)
            emails["newswatch"] = sink.stop()
        if not args.no_peer:
            port = free_port()
            with SmtpSink(port) as sink:
                peer, peer_version = measure_rss2email(farm, folder, port, args.repeats)
                measurements += peer
                emails["rss2email"] = sink.stop()
    load_after = os.getloadavg()

    print(render(measurements, emails))
    ours = median_of(measurements, "newswatch", "all 304")
    verdicts = {
        "all_304_cycle_seconds": ours.cycle_seconds,
        "all_304_process_seconds": ours.wall_seconds,
        "target_under_3s": bool(ours.cycle_seconds is not None and ours.cycle_seconds < 3.0),
    }
    print(
        f"\nnewswatch all-304 cycle (median of {args.repeats}): {ours.cycle_seconds:.2f} s "
        f"({ours.feeds / (ours.cycle_seconds or 1):.0f} feeds/s); whole process {ours.wall_seconds:.2f} s"
    )
    if not args.no_peer:
        peer_304 = median_of(measurements, "rss2email", "all 304")
        peer_new = median_of(measurements, "rss2email", "first (all new)")
        ours_new = median_of(measurements, "newswatch", "first (all new)")
        ratio_304 = peer_304.wall_seconds / ours.wall_seconds
        ratio_new = peer_new.wall_seconds / ours_new.wall_seconds
        cpu_304 = median_cpu(measurements, "rss2email") / median_cpu(measurements, "newswatch")
        verdicts.update(
            ratio_304_process=ratio_304,
            ratio_304_cpu=cpu_304,
            ratio_304_cycle=peer_304.wall_seconds / (ours.cycle_seconds or ours.wall_seconds),
            ratio_first=ratio_new,
            target_2x=ratio_304 >= 2.0,
        )
        print(
            f"all-304 feeds/s, newswatch / rss2email: {ratio_304:.1f}x (whole processes), "
            f"{verdicts['ratio_304_cycle']:.1f}x (newswatch cycle alone)"
        )
        print(f"all-304 CPU seconds, rss2email / newswatch (medians, whole processes): {cpu_304:.1f}x")
        print(f"first cycle feeds/s, newswatch / rss2email: {ratio_new:.1f}x")
    print(
        f"load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f} (1 min), "
        f"{os.cpu_count()} cores"
    )

    result = {
        "benchmark": "fetch",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(load_before, load_after),
        "farm": asdict(spec),
        "peer": peer_version,
        "measurements": [
            {
                **asdict(m),
                "feeds_per_second": m.feeds_per_second,
                "cycle_feeds_per_second": m.cycle_feeds_per_second,
            }
            for m in measurements
        ],
        "emails": emails,
        "verdicts": verdicts,
        "medians": {
            "newswatch_304": statistics.median(
                [m.cycle_seconds or 0 for m in measurements if m.tool == "newswatch" and m.cycle == "all 304"]
            ),
        },
    }
    save_results("fetch", result, args.json)
    return result


if __name__ == "__main__":
    sys.exit(main())
