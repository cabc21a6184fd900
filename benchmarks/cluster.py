"""Cluster benchmark: one `newswatch worker` against two on the extraction-bound load, and the job
queue's own cost, in one run.

1. Scaling. The farm serves real article pages (the shared corpus) and no topic matches, so each
   article's job is a page fetch plus a trafilatura extraction: CPU-bound. The same farm is worked
   by one worker, then by two (fresh database each time; each extracting in its own process, or with
   `--extraction-processes N` in N extraction processes), and
   the rate is articles stored per second between the first and the last one stored (worker
   start-up is left out). Target: two at least 1.8x one.
2. The queue's cost. Jobs of a task that does nothing are deferred and drained by one worker
   process of the workers' own app (pipeline/cluster/app.py); the CPU the worker process and the
   PostgreSQL server spend, divided by the jobs, is what the queue itself costs per job (fetch and
   finish: two round trips, each its own transaction). Target: at most 4 ms. The server's share is
   printed whole (an upper bound: it serves others too) and for the drain's own backends. The
   drain's rate is the queue's throughput, the ceiling the cluster's job rate hits.

    python -m benchmarks cluster                 # about 2 minutes here
    python -m benchmarks cluster --feeds 100 --items 4 --noop-jobs 3000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from procrastinate import App, PsycopgConnector

from benchmarks.bench_setup import REPO_ROOT, add_farm_arguments, farm_feeds, farm_spec, machine, save_results
from benchmarks.databases import fresh_postgres_database
from benchmarks.farm import Farm, FarmSpec
from benchmarks.measure import process_table

NOOP_TASK = "benchmarks.cluster.noop"


def _postgres_cpu() -> dict[int, int]:
    """Clock ticks of CPU (utime + stime) per PostgreSQL server process on this machine."""
    ticks: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                text = stat.read()
        except OSError:
            continue
        if text[text.index(b"(") + 1 : text.rindex(b")")].startswith(b"postgres"):
            fields = text.rsplit(b")", 1)[1].split()
            ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
    return ticks


def _postgres_cpu_since(before: dict[int, int]) -> float:
    """Seconds of server CPU since `before`, per process (a backend that exited meanwhile, such as
    another client's, drops out instead of making the sum go down)."""
    after = _postgres_cpu()
    return sum(spent - before.get(pid, 0) for pid, spent in after.items()) / os.sysconf("SC_CLK_TCK")


def _libpq(url: str) -> str:
    from pipeline.cluster.database import libpq_url

    return libpq_url(url)


def _stored_span(connection: psycopg.Connection[Any]) -> tuple[int, float]:
    """Articles stored so far, and the seconds between the first and the last one (0 and 0.0 before
    the workers have created the table)."""
    found = connection.execute("SELECT to_regclass('articles')").fetchone()
    if found is None or found[0] is None:
        return 0, 0.0
    row = connection.execute(
        "SELECT count(*), extract(epoch FROM max(first_seen_at) - min(first_seen_at)) FROM articles"
    ).fetchone()
    assert row is not None
    return int(row[0]), float(row[1] or 0.0)


def _write_config(path: Path, url: str, farm: Farm, extraction_processes: int) -> Path:
    import yaml

    document = {
        "database": url,
        "feeds": farm_feeds(farm.feed_urls(), interval="1h"),
        "fetch": {"allow_private_addresses": True},
        "cluster": {
            "sweep_every": "1s",
            "heartbeat": "2s",
            "stalled_after": "10s",
            "extraction_processes": extraction_processes,
        },
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def _tree_cpu(roots: list[int]) -> float:
    """Seconds of CPU (utime + stime) spent so far by the processes `roots` and all their
    descendants alive now (a worker's extraction processes are its children)."""
    table = process_table()
    parents = {pid: parent for pid, (parent, _) in table.items()}
    spent = {pid: ticks for pid, (_, ticks) in table.items()}
    wanted = set(roots)
    for pid in spent:
        ancestor = pid
        while ancestor > 1 and ancestor not in wanted:
            ancestor = parents.get(ancestor, 0)
        if ancestor in wanted:
            wanted.add(pid)
    return sum(spent.get(pid, 0) for pid in wanted) / os.sysconf("SC_CLK_TCK")


def _dead_worker(processes: list[subprocess.Popen[bytes]], logs: list[Path]) -> str | None:
    """The last lines of the first worker that exited, or None while all run. A worker that dies at
    start-up would leave the others to do all the work, and "two workers" would measure one."""
    for process, log_path in zip(processes, logs, strict=True):
        if process.poll() is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-5:]
            return f"worker {process.pid} exited with {process.returncode}: " + " | ".join(tail)
    return None


def measure_workers(
    farm: Farm, workers: int, folder: Path, concurrency: int, extraction_processes: int
) -> dict[str, Any]:
    expected = farm.spec.feeds * farm.spec.items
    with fresh_postgres_database() as url:
        config = _write_config(folder / f"cluster-{workers}.yaml", url, farm, extraction_processes)
        logs = [folder / f"cluster-{workers}-worker-{number}.log" for number in range(workers)]
        processes = []
        for log_path in logs:
            with log_path.open("wb") as log_file:
                processes.append(
                    subprocess.Popen(
                        [
                            *(sys.executable, "-m", "pipeline", "worker", "--config", str(config)),
                            *("--concurrency", str(concurrency)),
                        ],
                        cwd=REPO_ROOT,
                        stdout=subprocess.DEVNULL,
                        stderr=log_file,
                    )
                )
        pids = [process.pid for process in processes]
        started = time.perf_counter()
        # What the workers' articles cost besides the workers: PostgreSQL's server processes (read
        # while the workers' connections are still open) and the farm answering their requests.
        server_before, farm_before = _postgres_cpu(), _tree_cpu([farm.pid])
        # CPU of the workers' process trees and the wall clock, from the first sample that found
        # an article stored to the last sample: how many cores the workers got while working.
        first_sample: tuple[float, float, float] | None = None
        # One connection for all the samples: a new one twice a second would start a server process
        # each time, CPU taken from the workers being measured.
        sampler = psycopg.connect(_libpq(url), autocommit=True)
        try:
            while True:
                time.sleep(0.5)
                dead = _dead_worker(processes, logs)
                if dead is not None:
                    raise RuntimeError(f"{workers} worker(s): {dead}")
                stored, span = _stored_span(sampler)
                sample = (time.perf_counter(), _tree_cpu(pids), _own_cpu(pids))
                if stored and first_sample is None:
                    first_sample = sample
                if stored >= expected:
                    server_cpu, farm_cpu = (
                        _postgres_cpu_since(server_before),
                        _tree_cpu([farm.pid]) - farm_before,
                    )
                    break
                if time.perf_counter() - started > 900:
                    raise RuntimeError(f"{workers} worker(s): only {stored} of {expected} articles in 15 min")
        finally:
            sampler.close()
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=60)
    rate = (stored - 1) / span if span else 0.0
    # Workers and their extraction processes, start-up included: equal per article with one worker
    # and with two means the second worker costs no coordination overhead, whatever the machine's load.
    # The trees' CPU at the last sample, start-up included (the processes were started for this
    # run). Not the children's rusage after they exit: extraction processes are the children of a
    # fork server, and their CPU reaches a worker's rusage only if each of them was waited for.
    cpu_per_article = sample[1] / stored
    assert first_sample is not None
    cores = (sample[1] - first_sample[1]) / max(sample[0] - first_sample[0], 1e-9)
    # With extraction processes, the part of the workers' CPU their own processes spent (the rest is
    # extraction): what one worker keeps busy beside its extraction process.
    own_share = (sample[2] - first_sample[2]) / max(sample[1] - first_sample[1], 1e-9)
    return {
        "workers": workers,
        "articles": stored,
        "seconds": span,
        "articles_per_second": rate,
        "cpu_seconds_per_article": cpu_per_article,
        "cores_used": cores,
        "worker_processes_share_of_cpu": own_share,
        # An upper bound: the server also serves whatever else runs on this machine.
        "postgres_cpu_seconds_per_article": server_cpu / stored,
        "farm_cpu_seconds_per_article": farm_cpu / stored,
    }


def _own_cpu(pids: list[int]) -> float:
    """Seconds of CPU of the processes `pids` themselves, without their children."""
    return sum(_process_ticks(pid) for pid in pids) / os.sysconf("SC_CLK_TCK")


def _backend_pids(connection: psycopg.Connection[Any], database: str) -> list[int]:
    rows = connection.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (database,)
    )
    return [int(row[0]) for row in rows]


def procrastinate_defaults(database_url: str) -> App:
    """The baseline: procrastinate's connector and worker as they come (a transaction and a check
    query around each of its queries, finished jobs kept)."""
    from pipeline.cluster.database import libpq_url

    return App(connector=PsycopgConnector(conninfo=libpq_url(database_url)))


def measure_queue(jobs: int, concurrency: int, build: Callable[[str], App]) -> dict[str, Any]:
    """Defer `jobs` no-op jobs, drain them with one worker in this process, and count the CPU.
    `build` makes the app: the workers' own (`build_app`: its pool, its deletion of successful
    jobs), so that what the no-op job is spared the real jobs are spared too, or the baseline."""
    from pipeline.cluster.app import install_schema

    with fresh_postgres_database() as url:
        install_schema(url)
        app = build(url)

        @app.task(name=NOOP_TASK)
        async def noop(number: int) -> None:
            return None

        with app.open():
            for start in range(0, jobs, 500):
                noop.batch_defer(*({"number": n} for n in range(start, min(jobs, start + 500))))
        database = url.rsplit("/", 1)[1]
        observer = psycopg.connect(_libpq(url), autocommit=True)

        async def drain() -> tuple[float, float, float, float]:
            # The pool stays open around both samples: its server processes must still be alive
            # when their CPU is read (a process that exited drops out of the sum).
            async with app.open_async():
                own = _backend_pids(observer, database)
                own_before = {pid: _process_ticks(pid) for pid in own}
                cpu_before, pg_before, wall_before = time.process_time(), _postgres_cpu(), time.perf_counter()
                await app.run_worker_async(
                    wait=False, concurrency=concurrency, install_signal_handlers=False, listen_notify=False
                )
                wall, worker_cpu = time.perf_counter() - wall_before, time.process_time() - cpu_before
                server_cpu = _postgres_cpu_since(pg_before)
                own_cpu = sum(_process_ticks(pid) - ticks for pid, ticks in own_before.items())
                return wall, worker_cpu, server_cpu, own_cpu / os.sysconf("SC_CLK_TCK")

        try:
            wall, worker_cpu, server_cpu, backends_cpu = asyncio.run(drain())
            row = observer.execute(
                "SELECT count(*) FILTER (WHERE status IN ('todo', 'doing')),"
                " count(*) FILTER (WHERE status NOT IN ('todo', 'doing', 'succeeded'))"
                " FROM procrastinate_jobs"
            ).fetchone()
            waiting, failed = (int(row[0]), int(row[1])) if row else (0, 0)
        finally:
            observer.close()
    # The workers' app deletes successful jobs as they end: those done are the deferred ones
    # neither waiting nor failed.
    if failed or waiting:
        raise RuntimeError(f"queue drain: {failed} jobs failed, {waiting} not run")
    done = jobs
    return {
        "jobs": done,
        "seconds": wall,
        "jobs_per_second": done / wall,
        "worker_cpu_ms_per_job": 1000 * worker_cpu / done,
        "postgres_cpu_ms_per_job": 1000 * server_cpu / done,
        # The backends serving the drain's own connections: the server's share without other
        # people's queries (its WAL writer and checkpointer are left out).
        "postgres_backends_cpu_ms_per_job": 1000 * backends_cpu / done,
        "cpu_ms_per_job": 1000 * (worker_cpu + server_cpu) / done,
    }


def _process_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_farm_arguments(parser, feeds=60, items=4)
    parser.add_argument("--concurrency", type=int, default=4, help="jobs at once per worker")
    parser.add_argument("--noop-jobs", type=int, default=3000, help="jobs drained to measure the queue")
    parser.add_argument(
        "--extraction-processes",
        type=int,
        default=0,
        help="cluster.extraction_processes of each worker (here 0, the one-process shape; the config's is 1)",
    )


def run_from_arguments(args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()
    spec = farm_spec(args)
    folder = REPO_ROOT / "benchmarks" / "results" / "cluster-work"
    folder.mkdir(parents=True, exist_ok=True)
    loads = {}
    with Farm(FarmSpec(spec.feeds, spec.items, spec.hosts, spec.seed, spec.use_corpus)) as farm:
        one = measure_workers(farm, 1, folder, args.concurrency, args.extraction_processes)
        loads["after_one"] = os.getloadavg()
        two = measure_workers(farm, 2, folder, args.concurrency, args.extraction_processes)
        loads["after_two"] = os.getloadavg()
    from pipeline.cluster.app import build_app

    queue = measure_queue(args.noop_jobs, args.concurrency, build_app)
    baseline_queue = measure_queue(args.noop_jobs, args.concurrency, procrastinate_defaults)
    speedup = two["articles_per_second"] / one["articles_per_second"]
    # On a machine other people load, the wall-clock ratio says how many cores they left us; what
    # the cluster itself decides is how many cores its workers keep busy and what an article costs.
    cores_ratio = two["cores_used"] / one["cores_used"]
    cpu_ratio = one["cpu_seconds_per_article"] / two["cpu_seconds_per_article"]
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "farm": {"feeds": spec.feeds, "items": spec.items, "corpus_pages": spec.use_corpus},
        "extraction_processes_per_worker": args.extraction_processes,
        "one_worker": one,
        "two_workers": two,
        "speedup_two_over_one": speedup,
        "cores_two_over_one": cores_ratio,
        "articles_per_cpu_second_two_over_one": cpu_ratio,
        "queue": queue,
        "queue_with_procrastinate_defaults": baseline_queue,
        "queue_cpu_over_procrastinate_defaults": queue["cpu_ms_per_job"] / baseline_queue["cpu_ms_per_job"],
        "queue_cpu_over_target": queue["cpu_ms_per_job"] / 4.0,
        "load_average": {key: value[0] for key, value in loads.items()},
        "machine": machine(load_before, os.getloadavg()),
    }
    shape = (
        f"{args.extraction_processes} extraction process(es) each"
        if args.extraction_processes
        else "extraction in each worker's own process"
    )
    print(f"workers of concurrency {args.concurrency}, {shape}")
    print(
        f"{'':<14} {'articles':>9} {'seconds':>8} {'articles/s':>11} {'CPU s/article':>14} {'cores used':>11}"
    )
    for label, run in (("one worker", one), ("two workers", two)):
        print(
            f"{label:<14} {run['articles']:>9} {run['seconds']:>8.1f} {run['articles_per_second']:>11.1f}"
            f" {run['cpu_seconds_per_article']:>14.3f} {run['cores_used']:>11.2f}"
        )
    print(f"two workers / one: {speedup:.2f}x (target >= 1.8x)")
    if args.extraction_processes:
        print(
            "share of the workers' CPU spent by the worker processes themselves (the rest is extraction), "
            f"one / two: {one['worker_processes_share_of_cpu']:.0%} / "
            f"{two['worker_processes_share_of_cpu']:.0%}"
        )
    print(
        "besides the workers, CPU per article, one / two: PostgreSQL "
        f"{1000 * one['postgres_cpu_seconds_per_article']:.1f} / "
        f"{1000 * two['postgres_cpu_seconds_per_article']:.1f} ms (an upper bound: the server serves "
        f"others too), the farm {1000 * one['farm_cpu_seconds_per_article']:.1f} / "
        f"{1000 * two['farm_cpu_seconds_per_article']:.1f} ms"
    )
    print(
        f"queue: {queue['jobs']} no-op jobs in {queue['seconds']:.1f} s "
        f"({queue['jobs_per_second']:.0f} jobs/s); "
        f"CPU per job {queue['cpu_ms_per_job']:.2f} ms = worker {queue['worker_cpu_ms_per_job']:.2f} "
        f"+ PostgreSQL {queue['postgres_cpu_ms_per_job']:.2f} "
        f"({result['queue_cpu_over_target']:.2f}x the 4 ms target; the drain's own backends "
        f"{queue['postgres_backends_cpu_ms_per_job']:.2f} of the server's)"
    )
    base = baseline_queue
    print(
        f"queue with procrastinate's defaults (the baseline): {base['jobs_per_second']:.0f} jobs/s; "
        f"CPU per job {base['cpu_ms_per_job']:.2f} ms = worker {base['worker_cpu_ms_per_job']:.2f} "
        f"+ PostgreSQL {base['postgres_cpu_ms_per_job']:.2f}"
        f" (own backends {base['postgres_backends_cpu_ms_per_job']:.2f}); "
        f"newswatch's app / baseline: {result['queue_cpu_over_procrastinate_defaults']:.2f}x"
    )
    print(
        f"CPU-time figures (what the load of others does not set): cores kept busy, two / one: "
        f"{cores_ratio:.2f}x; articles per CPU-second, two / one: {cpu_ratio:.2f}x"
    )
    print(
        f"load average before {load_before[0]:.1f}, after one worker {loads['after_one'][0]:.1f}, "
        f"after two {loads['after_two'][0]:.1f}, at the end {os.getloadavg()[0]:.1f} (2 cores, shared)"
    )
    save_results("cluster", result, args.json)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks cluster", description=__doc__.split("\n\n")[0]
    )
    add_arguments(parser)
    run_from_arguments(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
