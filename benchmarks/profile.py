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
import re
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
    process: str  # "parent" or "worker"
    frames: tuple[str, ...]
    samples: int


# A frame as py-spy writes it: `function (path:line)`, or with --native `function (library)`.
_FRAME = re.compile(r" \([^()]*(:\d+)?\)$")


def parse_folded(path: Path) -> list[Stack]:
    """py-spy's raw output: `process PID:"command";[process PID:"command";]frame;frame... count`
    per line, outermost first; a worker's stack starts with its parent's process. A command line
    may itself hold a ';', so frames are told apart by their shape, not by position."""
    stacks = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        # Spawned workers run multiprocessing.spawn; forked ones (and their fork server) keep the
        # server's command line, multiprocessing.forkserver.
        process = "worker" if re.search(r"multiprocessing\.(spawn|forkserver)", stack) else "parent"
        frames = tuple(part for part in stack.split(";") if _FRAME.search(part))
        stacks.append(Stack(process, frames, int(count)))
    return stacks


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

# Stages of a run, each named by the functions that start it; a sample counts for the first stage
# with one of them on its stack (an import inside any stage is start-up work, so it comes first).
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("start-up: imports", ("_find_and_load",)),
    ("start-up: schema check or creation", ("upgrade_schema",)),
    ("start-up: config, matcher, pipeline", ("load_config", "Matcher.from_topics", "Pipeline.__init__")),
    ("page extraction (trafilatura)", ("page_or_summary",)),
    ("matching", ("Matcher.match",)),
    ("fingerprints (MinHash)", ("fingerprint_article",)),
    ("language guess", ("with_language",)),
    ("storing new items (Stories.file)", ("Stories.file",)),
    ("looking up known items", ("Stories.arrivals",)),
    ("feed parsing (feedparser)", ("parse_feed",)),
    ("HTTP (feeds and pages)", ("Fetcher.fetch",)),
    ("feed health and poll state", ("FeedHealthKeeper", "FeedStateBuffer", "Pipeline.check_feed_health")),
    ("alerts", ("Pipeline.dispatch",)),
]


def stage_of(frames: list[str]) -> str:
    for stage, starts in STAGES:
        if any(name.startswith(start) for name in frames for start in starts):
            return stage
    return "other"


def owner(frames: list[str]) -> str:
    """The innermost newswatch function of a stack: the code that asked for the work (an import,
    a query, a MinHash), whichever library then did it; the innermost frame if none is ours."""
    ours = [name for name in frames if "(pipeline/" in name]
    return ours[-1] if ours else frames[-1] if frames else "(no Python frame)"


def shares_of(stacks: list[Stack]) -> tuple[Shares, Shares, Shares]:
    """Per process kind: samples in which each function is on the stack (counted once a sample),
    samples by their `owner`, and samples by stage."""
    inclusive: Shares = collections.defaultdict(collections.Counter)
    owned: Shares = collections.defaultdict(collections.Counter)
    staged: Shares = collections.defaultdict(collections.Counter)
    for stack in stacks:
        kind = stack.process
        frames = [frame_name(frame) for frame in stack.frames]
        inclusive[kind][ALL] += stack.samples
        for name in set(frames):
            inclusive[kind][name] += stack.samples
        owned[kind][owner(frames)] += stack.samples
        staged[kind][stage_of(frames)] += stack.samples
    return inclusive, owned, staged


def render(inclusive: Shares, owned: Shares, staged: Shares, top: int) -> str:
    lines = []
    for kind, counter in sorted(inclusive.items()):
        total = counter[ALL]
        lines.append(f"{kind}: {total} samples at {SAMPLE_RATE}/s of the thread holding the GIL")
        lines.append("  by stage:")
        lines += [f"  {100 * samples / total:5.1f}%  {name}" for name, samples in staged[kind].most_common()]
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


def py_spy_path() -> str:
    """py-spy from PATH, else beside this interpreter (a venv's bin/ that is not on PATH)."""
    return shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")


def profile_once(config: Path, out: Path, *, native: bool = False) -> float:
    py_spy = py_spy_path()
    started = time.perf_counter()
    subprocess.run(
        [
            *(py_spy, "record", "--subprocesses", "--gil", "--rate", str(SAMPLE_RATE), "--format", "raw"),
            *(["--native"] if native else []),
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
    parser.add_argument(
        "--native",
        action="store_true",
        help="C frames too (py-spy --native): what the samples without a Python frame run",
    )
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
                seconds = profile_once(config, out, native=args.native)
                print(f"== {mode}: newswatch once, {spec.feeds} feeds x {spec.items} items, {seconds:.1f} s")
                print(f"folded stacks: {out} (load average {os.getloadavg()[0]:.2f})")
                print(render(*shares_of(parse_folded(out)), args.top), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
