"""The matcher from 100 to 100,000 topics over real news text, on one core.

    python -m benchmarks matcher-scale                       # 100 / 1,000 / 10,000 / 100,000 topics
    python -m benchmarks matcher-scale --sizes 100,1000      # quicker

Topics: `real_topics.py` (names, @aliases, phrases, NEAR, NOT, field scopes, =US, prefixes and
Japanese nouns). Articles: the real articles of ../shared (`real_text.py`: the labelled English
and Japanese news, the corpus pages' text, the corpus feeds' entries), split in two by turns: the
topics' words come from one half and the other half is matched, as topics are written before the
news they catch (drawn from the measured articles themselves, every term would be sure to occur).
Each size runs in its own process pinned to one CPU, so compile time, the compiled matcher's
memory (resident growth while compiling) and the process's peak RSS (articles, the Japanese
analyser and the matcher) are its own. Per size: the best of `--rounds` passes
over every article, in CPU seconds of that process (other jobs on a shared machine only ever add
time), with English and Japanese articles also timed apart. The baseline is the smallest size,
measured in the same run: each size is reported as a ratio against it and against the size
ten times smaller.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.bench_setup import RESULTS, machine, save_results

DEFAULT_SIZES = (100, 1_000, 10_000, 100_000)
MEASURED_HALF = 1  # the topics' words come from the other half of the real articles
TARGET_RATE = 500.0  # articles/s at 100,000 topics
TARGET_STEP = 2.0  # at most this much time per article for 10x the topics


def _rss_mb(field: str = "VmRSS") -> float:
    """Resident memory of this process (Linux /proc), in MB: now (VmRSS), or its peak (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _best_cpu(match: Any, articles: Sequence[Any], rounds: int) -> tuple[float, int]:
    """(CPU seconds of the fastest pass over `articles`, matches in it)."""
    best, matches = float("inf"), 0
    for _ in range(rounds):
        started = time.process_time()
        matches = sum(len(match(article)) for article in articles)
        best = min(best, time.process_time() - started)
    return best, matches


def measure(size: int, topics_file: Path, rounds: int) -> dict[str, Any]:
    """One size, in this process: compile, memory, then matching speed."""
    from benchmarks.generate import GeneratedTopic
    from benchmarks.real_text import load_real_text
    from benchmarks.real_topics import aliases_used
    from pipeline.match import Matcher

    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    document = json.loads(topics_file.read_text(encoding="utf-8"))
    topics = {name: GeneratedTopic(**fields) for name, fields in list(document["topics"].items())[:size]}
    aliases = aliases_used(topics, document["aliases"])
    del document
    text = load_real_text().half(MEASURED_HALF)
    articles = text.articles
    before = _rss_mb()
    started = time.process_time()
    matcher = Matcher(topics, aliases)
    compile_s = time.process_time() - started
    matcher_mb = _rss_mb() - before
    for article in articles[:50]:  # warm: the Japanese analyser loads on the first Japanese text
        matcher.match(article)
    cpu, matches = _best_cpu(matcher.match, articles, rounds)
    by_language = {}
    for language in ("en", "ja"):
        chosen = [item for item, lang in zip(articles, text.languages, strict=True) if lang == language]
        language_cpu, _ = _best_cpu(matcher.match, chosen, rounds)
        by_language[language] = len(chosen) / language_cpu
    candidates = sum(len(matcher.presearch(item)) for item in articles)
    return {
        "topics": size,
        "terms": len(matcher.terms),
        "aliases": len(aliases),
        "articles": len(articles),
        "average_characters": sum(len(item.title) + len(item.body) for item in articles) / len(articles),
        "compile_cpu_s": compile_s,
        "matcher_mb": matcher_mb,
        # (Not getrusage's ru_maxrss: Linux carries the parent's resident set at fork into the
        # child's maximum, which made every size read 962 MB under `python -m benchmarks`.)
        "peak_rss_mb": _rss_mb("VmHWM"),
        "us_per_article": cpu / len(articles) * 1e6,
        "articles_per_s": len(articles) / cpu,
        "english_articles_per_s": by_language["en"],
        "japanese_articles_per_s": by_language["ja"],
        "candidates_per_article": candidates / len(articles),
        "matches_per_article": matches / len(articles),
    }


def _write_topics(sizes: Sequence[int], directory: Path) -> tuple[int, float]:
    """One file per size (the first N topics), so a worker holds only the topics it measures."""
    from benchmarks.real_text import load_real_text, real_vocabulary
    from benchmarks.real_topics import aliases_used, make_real_topics

    started = time.perf_counter()
    vocabulary = real_vocabulary(load_real_text().half(1 - MEASURED_HALF))
    topics, aliases = make_real_topics(max(sizes), vocabulary)
    for size in sizes:
        chosen = dict(list(topics.items())[:size])
        document = {
            "topics": {name: asdict(topic) for name, topic in chosen.items()},
            "aliases": aliases_used(chosen, aliases),
        }
        path = directory / f"topics-{size}.json"
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    words = len(vocabulary.words) + len(vocabulary.names) + len(vocabulary.phrases) + len(vocabulary.japanese)
    return words, time.perf_counter() - started


def run(sizes: Sequence[int], rounds: int, json_path: Path | None) -> dict[str, Any]:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="newswatch-scale-") as directory:
        vocabulary, seconds = _write_topics(sizes, Path(directory))
        print(
            f"generated {max(sizes):,} topics from a vocabulary of {vocabulary:,} names, words, phrases "
            f"and Japanese nouns of half the real articles in {seconds:.1f} s; measured on the other half",
            flush=True,
        )
        rows = []
        for size in sorted(sizes):
            command = [sys.executable, "-m", "benchmarks.matcher_scale", "--worker", str(size)]
            topics_file = Path(directory) / f"topics-{size}.json"
            command += ["--topics-file", str(topics_file), "--rounds", str(rounds)]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"  {size:,} topics measured", flush=True)
    baseline = rows[0]
    for previous, row in zip([None, *rows], rows, strict=False):
        row["x_time_vs_baseline"] = row["us_per_article"] / baseline["us_per_article"]
        row["x_time_vs_previous"] = (
            row["us_per_article"] / previous["us_per_article"] if previous is not None else None
        )
    _print_table(rows)
    result = {"machine": machine(load_before, os.getloadavg()), "sizes": rows, **_verdicts(rows)}
    if json_path is not None:
        save_results("matcher-scale", result, json_path)
    return result


def _verdicts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    steps = [row["x_time_vs_previous"] for row in rows[1:] if row["x_time_vs_previous"] is not None]
    largest = rows[-1]
    return {
        "worst_step": max(steps) if steps else None,
        "step_target_met": bool(steps) and max(steps) < TARGET_STEP,
        "rate_at_largest": largest["articles_per_s"],
        "rate_target_met": largest["topics"] < 100_000 or largest["articles_per_s"] >= TARGET_RATE,
    }


def _print_table(rows: list[dict[str, Any]]) -> None:
    first = rows[0]
    print(
        f"\n{first['articles']} real articles (average {first['average_characters']:,.0f} characters), "
        "one core, CPU time, best pass; baseline: "
        f"{first['topics']:,} topics in the same run"
    )
    header = (
        f"{'topics':>8} {'terms':>8} {'compile s':>9} {'matcher MB':>10} {'peak MB':>8} "
        f"{'cand/art':>8} {'match/art':>9} {'art/s':>7} {'en art/s':>8} {'ja art/s':>8} "
        f"{'us/art':>7} {'x base':>7} {'x per 10x':>9}"
    )
    print(header)
    for row in rows:
        step = row["x_time_vs_previous"]
        print(
            f"{row['topics']:>8,} {row['terms']:>8,} {row['compile_cpu_s']:>9.2f} {row['matcher_mb']:>10.0f} "
            f"{row['peak_rss_mb']:>8.0f} {row['candidates_per_article']:>8.1f} "
            f"{row['matches_per_article']:>9.2f} {row['articles_per_s']:>7,.0f} "
            f"{row['english_articles_per_s']:>8,.0f} {row['japanese_articles_per_s']:>8,.0f} "
            f"{row['us_per_article']:>7,.0f} {row['x_time_vs_baseline']:>7.2f} "
            f"{'-' if step is None else f'{step:.2f}':>9}"
        )
    verdicts = _verdicts(rows)
    if verdicts["worst_step"] is not None:
        print(
            f"10x the topics costs at worst {verdicts['worst_step']:.2f}x the time per article "
            f"(target < {TARGET_STEP:g}x): {'met' if verdicts['step_target_met'] else 'NOT met'}"
        )
    largest = rows[-1]
    if largest["topics"] >= 100_000:
        print(
            f"{largest['articles_per_s']:,.0f} articles/s at {largest['topics']:,} topics "
            f"(target >= {TARGET_RATE:,.0f}): {'met' if verdicts['rate_target_met'] else 'NOT met'}"
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sizes", default=",".join(str(size) for size in DEFAULT_SIZES), help="topic counts, comma-separated"
    )
    parser.add_argument("--rounds", type=int, default=3, help="passes per size; the fastest counts")
    parser.add_argument("--json", type=Path, default=None, help="where to write the results")
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--topics-file", type=Path, default=None, help=argparse.SUPPRESS)


def run_from_arguments(args: argparse.Namespace) -> dict[str, Any]:
    if args.worker is not None:
        result = measure(args.worker, args.topics_file, args.rounds)
        print(json.dumps(result))
        return result
    sizes = [int(size.replace("_", "")) for size in args.sizes.split(",")]
    json_path = args.json or RESULTS / f"matcher-scale-{time.strftime('%Y%m%d-%H%M%S')}.json"
    return run(sizes, args.rounds, json_path)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks matcher-scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    run_from_arguments(parser.parse_args(argv))


if __name__ == "__main__":
    main()
