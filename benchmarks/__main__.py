"""newswatch benchmarks, one entry point.

    python -m benchmarks                  # throughput, memory, all-304 polling, the matcher at scale (about
                                          # 5 minutes here), then every target of issue 16 in one table
    python -m benchmarks throughput ...   # newswatch once vs a bare trafilatura loop vs rss2email
    python -m benchmarks memory ...       # the daemon over 1,000 feeds and 100,000 stored articles
    python -m benchmarks fetch ...        # polling 1,000 feeds: first cycle and all-304, vs rss2email
    python -m benchmarks summary ...      # feed-summary mode vs rss2email, alternating runs, medians
    python -m benchmarks matcher ...      # the compiled matcher vs a naive one, 100 vs 1,000 topics
    python -m benchmarks matcher-scale ...  # real news, 100 / 1,000 / 10,000 / 100,000 topics
    python -m benchmarks cluster ...      # one worker vs two, and the job queue's CPU per job
    python -m benchmarks profile ...      # where one `newswatch once` spends its time (py-spy)

Each benchmark measures its baseline in the same run, prints a table and writes JSON to
benchmarks/results/. `python -m benchmarks NAME --help` lists a benchmark's options.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from typing import Any

from benchmarks import fetch, matcher_scale, memory, targets, throughput
from benchmarks.bench_setup import RESULTS, compile_sources, save_results


def run_all(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL throughput run")
    parser.add_argument("--no-peer", action="store_true", help="skip rss2email")
    parser.add_argument("--no-matcher-scale", action="store_true", help="skip the matcher at 100,000 topics")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    print("== throughput: newswatch once against the bare extraction loop and rss2email", flush=True)
    options = ["--json", str(RESULTS / f"throughput-{stamp}.json")]
    options += ["--no-postgres"] if args.no_postgres else []
    options += ["--no-peer"] if args.no_peer else []
    throughput_args = throughput_parser().parse_args(options)
    speed = throughput.run_from_arguments(throughput_args)
    print("\n== memory: the daemon over 1,000 feeds and 100,000 stored articles", flush=True)
    memory_args = memory_parser().parse_args(["--json", str(RESULTS / f"memory-{stamp}.json")])
    footprint = memory.run_from_arguments(memory_args)
    polling = None
    if not args.no_peer:
        print("\n== fetch: polling 1,000 feeds, first cycle and all-304, against rss2email", flush=True)
        fetch_args = fetch_parser().parse_args(["--json", str(RESULTS / f"fetch-{stamp}.json")])
        polling = fetch.run_from_arguments(fetch_args)
    scale = None
    if not args.no_matcher_scale:
        print("\n== matcher: 100 to 100,000 topics over real news, one core", flush=True)
        scale_json = RESULTS / f"matcher-scale-{stamp}.json"
        scale_args = matcher_scale_parser().parse_args(["--json", str(scale_json)])
        scale = matcher_scale.run_from_arguments(scale_args)
    elapsed = time.perf_counter() - started
    measured = targets.collect(speed, footprint, scale, polling)
    print("\n" + targets.render(measured, _machine_line(speed["machine"])))
    summary = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": elapsed,
        "throughput": speed,
        "memory": footprint,
        "matcher_scale": scale,
        "fetch": polling,
        "targets": [{**asdict(target), "met": target.met} for target in measured],
    }
    print(f"\nall benchmarks: {elapsed / 60:.1f} minutes")
    save_results("all", summary, RESULTS / f"all-{stamp}.json")
    return 0


def throughput_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks throughput")
    throughput.add_arguments(parser)
    return parser


def _machine_line(described: dict[str, Any]) -> str:
    """The machine as the README's table names it: cores, Python, and the load around the run."""
    return (
        f"{described['cores']} cores, {described['platform']}, Python {described['python']}; "
        f"load average {described['load_before'][0]:.2f} before the first benchmark"
    )


def fetch_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks fetch")
    fetch.add_arguments(parser)
    return parser


def memory_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks memory")
    memory.add_arguments(parser)
    return parser


def matcher_scale_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks matcher-scale")
    matcher_scale.add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command, rest = (argv[0], argv[1:]) if argv and not argv[0].startswith("-") else ("all", argv)
    compile_sources()
    if command == "all":
        return run_all(rest)
    if command == "throughput":
        throughput.run_from_arguments(throughput_parser().parse_args(rest))
        return 0
    if command == "memory":
        memory.run_from_arguments(memory_parser().parse_args(rest))
        return 0
    if command == "matcher-scale":
        matcher_scale.run_from_arguments(matcher_scale_parser().parse_args(rest))
        return 0
    if command == "fetch":
        fetch.run_from_arguments(fetch_parser().parse_args(rest))
        return 0
    if command == "summary":
        from benchmarks import summary

        return summary.main(rest)
    if command == "profile":
        from benchmarks import profile

        return profile.main(rest)
    if command == "matcher":
        from benchmarks import matcher

        matcher.main(rest)
        return 0
    if command == "cluster":
        from benchmarks import cluster

        return cluster.main(rest)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
