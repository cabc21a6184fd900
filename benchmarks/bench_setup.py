"""What every benchmark sets up the same way: newswatch's config over the farm, free ports, the
command-line options of the farm, and a description of the machine for the results."""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import socket
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.farm import FarmSpec

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "benchmarks" / "results"
CHANNEL = "bench-email"


def compile_sources() -> None:
    """Write the bytecode of newswatch's (and the benchmarks') modules, as `pip install` does for an
    installed package, so that a measured process loads it instead of compiling every module from
    source. With PYTHONDONTWRITEBYTECODE set (the Dockerfile and this machine's shells set it), an
    editable checkout is otherwise compiled anew by every process: about 0.05 s of CPU of an
    all-304 `newswatch once` (issue 16: the 60-odd modules of its path; all of pipeline/ takes
    0.14 s), which the peer, installed from Debian's package with its bytecode, never pays."""
    for package in ("pipeline", "benchmarks"):
        compileall.compile_dir(REPO_ROOT / package, quiet=1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_newswatch_config(
    path: Path,
    database: str,
    feeds: list[dict[str, Any]],
    smtp_port: int,
    *,
    fetch: dict[str, Any] | None = None,
    **sections: Any,
) -> Path:
    """newswatch's config with the shipped topics and aliases, alerting a local SMTP sink by email.

    `feeds` are config entries (name, url, ...); `fetch` adds to the fetch section, which always
    allows loopback (the farm is on 127/8, which newswatch refuses unless told); `sections` are
    further top-level sections (extract, web, logging, ...).
    """
    shipped = yaml.safe_load((REPO_ROOT / "config" / "newswatch.yaml").read_text(encoding="utf-8"))
    for topic in shipped["topics"].values():
        topic["channels"] = [CHANNEL]
        # Golden examples are for check-config; a cycle does not read them.
        topic.pop("examples", None)
    document = {
        "database": database,
        "feeds": feeds,
        "aliases": shipped.get("aliases", {}),
        "topics": shipped["topics"],
        "channels": {
            CHANNEL: {
                "type": "email",
                "to": ["analyst@example.org"],
                "from": "newswatch@example.org",
                "smtp": {"host": "127.0.0.1", "port": smtp_port},
            }
        },
        "fetch": {"allow_private_addresses": True, **(fetch or {})},
        **sections,
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def farm_feeds(feed_urls: list[str], **settings: Any) -> list[dict[str, Any]]:
    return [{"name": f"farm{index:05d}", "url": url, **settings} for index, url in enumerate(feed_urls)]


def add_farm_arguments(parser: argparse.ArgumentParser, *, feeds: int, items: int) -> None:
    parser.add_argument("--feeds", type=int, default=feeds)
    parser.add_argument("--items", type=int, default=items, help="items per feed, each with its page")
    parser.add_argument(
        "--generated", action="store_true", help="generated pages even if the corpus is there"
    )
    parser.add_argument("--json", type=Path, help="write the results here (default: benchmarks/results/)")


def farm_spec(args: argparse.Namespace) -> FarmSpec:
    return FarmSpec(
        feeds=args.feeds, items=args.items, hosts=min(50, args.feeds), use_corpus=not args.generated
    )


def machine(
    load_before: tuple[float, float, float], load_after: tuple[float, float, float]
) -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "load_before": load_before,
        "load_after": load_after,
    }


def save_results(benchmark: str, result: dict[str, Any], path: Path | None = None) -> Path:
    """Write `result` as JSON (by default to benchmarks/results/BENCHMARK-TIMESTAMP.json) and say where."""
    path = path or RESULTS / f"{benchmark}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"results: {path}")
    return path
