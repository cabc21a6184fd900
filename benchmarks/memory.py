"""Memory benchmark: the daemon (`newswatch run`) over 1,000 feeds with 100,000 stored articles.

    python -m benchmarks.memory                       # 1,000 feeds x 2 items, 100,000 stored
    python -m benchmarks.memory --feeds 50 --stored 2000

The store is seeded first (not measured) with `--stored` articles as newswatch keeps them: text,
content fingerprint, MinHash signature and its 32 LSH band rows, first seen over the last 60 days,
1% of them matched with a sent alert. Then `newswatch run` starts as its own process against the
farm, with the shipped topics, two extraction workers, and /metrics on; the benchmark reads
/metrics each second and stops the daemon with SIGTERM once every feed has been polled twice (the
first poll takes every item: page download, extraction, matching, storing; the second is the
steady state, mostly 304s), or at `--max-seconds`.

Reported: the daemon process's own peak RSS (its VmHWM, read from /proc while it runs), the peak
of the daemon and its extraction workers together as summed RSS and as summed PSS (both sampled),
and each process's own peaks. Target (issue 6, the daemon; issue 16, the daemon and its two
workers): under 300 MB. The tree is judged on its PSS: summed RSS counts every page the processes
share (libraries, and what workers forked from one parent inherited) once per process, so it
charges the machine for memory it does not use; summed PSS counts each page once
(benchmarks/measure.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
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
from benchmarks.farm import WORDS, Farm, FarmSpec
from benchmarks.measure import TreeSampler
from benchmarks.peers import SmtpSink

TARGET_MB = 300.0
SIGNATURE_BYTES = 128 * 4


def write_config(folder: Path, farm: Farm, smtp_port: int, web_port: int, interval: float) -> Path:
    return write_newswatch_config(
        folder / "newswatch.yaml",
        f"sqlite:///{folder / 'newswatch.db'}",
        farm_feeds(farm.feed_urls(), interval=f"{interval:g}s"),
        smtp_port,
        extract={"workers": 2},
        web={"listen": f"127.0.0.1:{web_port}"},
        logging={"level": "warning"},
    )


def seed_store(database: Path, stored: int, seed: int = 7) -> float:
    """Insert `stored` articles (with band rows, and 1% matched and alerted); returns seconds taken."""
    import numpy as np

    from pipeline.dedup import band_keys

    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(tzinfo=None)
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    articles, bands, matches, alerts = [], [], [], []
    for number in range(1, stored + 1):
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(250, 450))).capitalize() + "."
        title = " ".join(rng.choice(WORDS) for _ in range(8)).capitalize()
        signature = np.frombuffer(rng.randbytes(SIGNATURE_BYTES), dtype="<u4")
        seen = now - timedelta(seconds=rng.uniform(0, 60 * 86400))
        url = f"https://archive.example/{number // 1000}/{number}.html"
        articles.append(
            (
                number,
                url,
                url,
                title,
                body,
                body[:300],
                "page",
                "archive",
                seen,
                hashlib.sha256(body.encode()).hexdigest(),
                signature.tobytes(),
                "en",
            )
        )
        bands.extend((key, number) for key in band_keys(signature))
        if number % 100 == 0:
            match_id = number // 100
            matches.append((match_id, number, "usfj-reorganisation", 5.0, "{}", "[]", seen))
            alerts.append(
                (match_id, match_id, "bench-email", f"archive-{match_id}", "sent", 1, seen, seen, seen)
            )
    with connection:
        connection.executemany(
            "INSERT INTO articles (id, canonical_url, url, title, body, summary, extraction_method, source,"
            " first_seen_at, content_fingerprint, similarity_signature, language)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            articles,
        )
        connection.executemany("INSERT INTO article_bands (band, article_id) VALUES (?, ?)", bands)
        connection.executemany(
            "INSERT INTO matches (id, article_id, topic, score, explanation, snippet, matched_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            matches,
        )
        connection.executemany(
            "INSERT INTO alerts (id, match_id, channel, idempotency_key, status, attempts, next_attempt_at,"
            " created_at, sent_at, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'match')",
            alerts,
        )
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return time.perf_counter() - started


_SAMPLE = re.compile(r'^newswatch_polls_total\{outcome="([a-z_]+)"\} ([0-9.e+]+)$', re.M)


def polls(web_port: int) -> dict[str, float] | None:
    """Polls so far by outcome, from /metrics; None while the endpoint is not up."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return None
    return {outcome: float(value) for outcome, value in _SAMPLE.findall(text)}


def count_rows(database: Path) -> dict[str, int]:
    connection = sqlite3.connect(database)
    try:
        return {
            table: int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("articles", "article_bands", "matches", "alerts")
        }
    finally:
        connection.close()


def run(spec: FarmSpec, stored: int, interval: float, max_seconds: float, out: Path | None) -> dict[str, Any]:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="nw-bench-memory-") as tmp, Farm(spec) as farm:
        folder = Path(tmp)
        web_port = free_port()
        with SmtpSink(free_port()) as sink:
            config = write_config(folder, farm, sink.port, web_port, interval)
            subprocess.run(
                [sys.executable, "-m", "pipeline", "db", "upgrade", "--config", str(config)],
                cwd=REPO_ROOT,
                check=True,
                capture_output=True,
            )
            seeding = seed_store(folder / "newswatch.db", stored)
            before = count_rows(folder / "newswatch.db")
            size_mb = (folder / "newswatch.db").stat().st_size / 1e6
            print(
                f"store: {before['articles']} articles, {before['article_bands']} band rows, "
                f"{size_mb:.0f} MB (seeded in {seeding:.1f} s); "
                f"farm: {spec.feeds} feeds x {spec.items} items",
                flush=True,
            )
            log_path = folder / "daemon.log"
            with open(log_path, "w") as log:
                started = time.perf_counter()
                daemon = subprocess.Popen(
                    [sys.executable, "-m", "pipeline", "run", "--config", str(config)],
                    cwd=REPO_ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                seen: dict[str, float] = {}
                with TreeSampler(daemon.pid) as sampler:
                    while time.perf_counter() - started < max_seconds and daemon.poll() is None:
                        time.sleep(1)
                        seen = polls(web_port) or seen
                        if sum(seen.values()) >= 2 * spec.feeds:
                            break
                    running = time.perf_counter() - started
                    daemon.send_signal(signal.SIGTERM)
                    daemon.wait()
            emails = sink.stop()
        after = count_rows(folder / "newswatch.db")
        log_tail = log_path.read_text(errors="replace")[-2000:]
    load_after = os.getloadavg()

    own_peak = sampler.root_peak_mb
    tree_peak = max(sampler.peak_mb, own_peak)
    tree_pss = sampler.peak_pss_mb
    processes = sampler.peaks()
    complete = sum(seen.values()) >= 2 * spec.feeds
    print(f"daemon ran {running:.0f} s; polls by outcome: {json.dumps(seen)}; exit code {daemon.returncode}")
    if not complete:
        print(f"WARNING: stopped at --max-seconds before every feed was polled twice\n{log_tail}")
    print(
        f"articles stored: {before['articles']} -> {after['articles']} "
        f"(+{after['articles'] - before['articles']}); matches +{after['matches'] - before['matches']}; "
        f"emails {emails}"
    )
    print(f"peak RSS, daemon process:            {own_peak:6.0f} MB  (target under {TARGET_MB:.0f} MB)")
    # Issue 16 holds the daemon and its workers together to the same limit, judged on summed PSS.
    print(f"peak RSS, daemon + its workers:      {tree_peak:6.0f} MB  (summed RSS: shared pages per process)")
    print(f"peak PSS, daemon + its workers:      {tree_pss:6.0f} MB  (target under {TARGET_MB:.0f} MB)")
    for peak in processes:
        print(
            f"  pid {peak.pid:>7}  {peak.role:34} peak RSS {peak.peak_rss_mb:6.0f} MB"
            f"  PSS {peak.peak_pss_mb:6.0f} MB"
        )
    print(
        f"load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f} (1 min), "
        f"{os.cpu_count()} cores"
    )
    result = {
        "benchmark": "memory",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(load_before, load_after),
        "farm": {"feeds": spec.feeds, "items": spec.items},
        "stored_before": before,
        "stored_after": after,
        "database_mb": size_mb,
        "polls": seen,
        "complete": complete,
        "daemon_seconds": running,
        "exit_code": daemon.returncode,
        "emails": emails,
        "peak_rss_mb": own_peak,
        "peak_tree_rss_mb": tree_peak,
        "peak_tree_pss_mb": tree_pss,
        "processes": [asdict(peak) for peak in processes],
        "target_mb": TARGET_MB,
        "under_target": own_peak < TARGET_MB,
        "tree_under_target": tree_pss < TARGET_MB,
    }
    save_results("memory", result, out)
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_farm_arguments(parser, feeds=1000, items=2)
    parser.add_argument("--stored", type=int, default=100_000, help="articles in the store before the run")
    parser.add_argument("--interval", type=float, default=60.0, help="each feed's poll interval, seconds")
    parser.add_argument("--max-seconds", type=float, default=420.0)


def run_from_arguments(args: argparse.Namespace) -> dict[str, Any]:
    return run(farm_spec(args), args.stored, args.interval, args.max_seconds, args.json)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    run_from_arguments(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
