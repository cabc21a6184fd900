"""Where one `newswatch once` over the benchmark farm spends its time, sampled with py-spy.

    python -m benchmarks profile                        # 100 feeds x 4 items, both modes
    python -m benchmarks profile --mode summary --top 25

Runs `newswatch once` into a fresh SQLite database under `py-spy record --subprocesses` (so the
extraction workers are sampled too), once in feed-summary mode and once with full extraction,
and prints, per process kind (the parent, the extraction workers), the share of samples spent
inside each of the functions that matter: the flame graph folded into a table. The folded stacks
are kept in the results folder for a flame graph viewer (speedscope, flamegraph.pl).
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.bench_setup import (
    REPO_ROOT,
    RESULTS,
    farm_feeds,
    farm_spec,
    free_port,
    write_newswatch_config,
)
from benchmarks.farm import Farm
from benchmarks.peers import SmtpSink

SAMPLE_RATE = 250


@dataclass(frozen=True)
class Stack:
    process: str
    frames: tuple[str, ...]
    samples: int


def parse_folded(path: Path) -> list[Stack]:
    """py-spy's raw output: `process;frame;frame... count` per line, outermost frame first."""
    stacks = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        process, *frames = stack.split(";")
        stacks.append(Stack(process, tuple(frames), int(count)))
    return stacks


def process_kind(process: str) -> str:
    return "worker" if "multiprocessing" in process or "spawn_main" in process else "parent"


def frame_name(frame: str) -> str:
    """`function (path/to/module.py:12)` -> `function (module path)`, line numbers dropped so one
    function is one row."""
    function, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "python3.11/", str(REPO_ROOT) + "/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{function} ({path})"


Shares = dict[str, collections.Counter[str]]
ALL = "(all samples)"


def owner(frames: list[str]) -> str:
    """The innermost newswatch function of a stack: the code that asked for the work (an import,
    a query, a MinHash), whichever library then did it; the innermost frame if none is ours."""
    ours = [name for name in frames if "(pipeline/" in name]
    return ours[-1] if ours else frames[-1] if frames else "(no Python frame)"


def shares_of(stacks: list[Stack]) -> tuple[Shares, Shares]:
    """Per process kind: samples in which each function is on the stack (counted once a sample),
    and samples by their `owner`."""
    inclusive: Shares = collections.defaultdict(collections.Counter)
    owned: Shares = collections.defaultdict(collections.Counter)
    for stack in stacks:
        kind = process_kind(stack.process)
        frames = [frame_name(frame) for frame in stack.frames]
        inclusive[kind][ALL] += stack.samples
        for name in set(frames):
            inclusive[kind][name] += stack.samples
        owned[kind][owner(frames)] += stack.samples
    return inclusive, owned


def render(inclusive: Shares, owned: Shares, top: int) -> str:
    lines = []
    for kind, counter in sorted(inclusive.items()):
        total = counter[ALL]
        lines.append(f"{kind}: {total} samples at {SAMPLE_RATE}/s of the thread holding the GIL")
        lines.append("  on the stack (inclusive):")
        lines += [
            f"  {100 * samples / total:5.1f}%  {name}"
            for name, samples in counter.most_common(top + 1)
            if name != ALL
        ]
        lines.append("  by the innermost newswatch function:")
        lines += [
            f"  {100 * samples / total:5.1f}%  {name}" for name, samples in owned[kind].most_common(top)
        ]
    return "\n".join(lines)


def profile_once(config: Path, out: Path) -> float:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    started = time.perf_counter()
    subprocess.run(
        [
            *(py_spy, "record", "--subprocesses", "--gil", "--rate", str(SAMPLE_RATE), "--format", "raw"),
            *("--output", str(out), "--", sys.executable, "-m", "pipeline", "once", "--config", str(config)),
        ],
        cwd=REPO_ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks profile", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--items", type=int, default=4)
    parser.add_argument("--generated", action="store_true", help="generated pages, not the corpus's")
    parser.add_argument("--mode", choices=["summary", "full", "both"], default="both")
    parser.add_argument("--top", type=int, default=30, help="functions listed per process kind")
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    modes = ["summary", "full"] if args.mode == "both" else [args.mode]
    spec = farm_spec(args)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nw-bench-profile-") as tmp, Farm(spec) as farm:
        port = free_port()
        with SmtpSink(port):
            for mode in modes:
                folder = Path(tmp) / mode
                folder.mkdir()
                config = write_newswatch_config(
                    folder / "newswatch.yaml",
                    f"sqlite:///{folder / 'newswatch.db'}",
                    farm_feeds(farm.feed_urls()),
                    port,
                    fetch={"fetch_pages": mode == "full"},
                    extract={"workers": 2},
                )
                out = RESULTS / f"profile-{mode}-{stamp}.folded"
                seconds = profile_once(config, out)
                print(f"== {mode}: newswatch once, {spec.feeds} feeds x {spec.items} items, {seconds:.1f} s")
                print(f"folded stacks: {out} (load average {os.getloadavg()[0]:.2f})")
                print(render(*shares_of(parse_folded(out)), args.top), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
