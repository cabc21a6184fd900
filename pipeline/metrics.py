"""Prometheus metrics: one registry for the process, the names documented in the README.

Stages record what happened through the functions below; `/metrics` (web.py) renders the
registry. Gauges that describe stored state (queue depths, feed states) are read from the store at
scrape time by `StoreCollector`, so they can never drift from the database.

Only a process that serves `/metrics` keeps them: the daemon calls `enable()` when it is built,
before its first poll. Until then recording costs nothing and prometheus_client (which imports
http.server, wsgiref and email) is not loaded, so `newswatch once` from cron, which nobody
scrapes, neither imports it nor counts every article into it (issue 16).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pipeline.models import FetchResult

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

log = logging.getLogger(__name__)

_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class _Instruments:
    """The process's Prometheus counters, histograms and gauge, in their own registry."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.polls = Counter(
            "newswatch_polls",
            "Feed polls by outcome (ok, not_modified, error).",
            ["outcome"],
            registry=registry,
        )
        self.fetch_errors = Counter(
            "newswatch_fetch_errors",
            "Failed fetches by error kind and target (feed or page).",
            ["kind", "target"],
            registry=registry,
        )
        self.articles = Counter(
            "newswatch_articles", "New articles stored, by extraction method.", ["method"], registry=registry
        )
        self.matches = Counter("newswatch_matches", "Matches stored, by topic.", ["topic"], registry=registry)
        self.alerts_sent = Counter(
            "newswatch_alerts_sent", "Alerts delivered, by channel.", ["channel"], registry=registry
        )
        self.alerts_failed = Counter(
            "newswatch_alert_attempts_failed",
            "Delivery attempts that failed (the alert is retried or, finally, marked failed), by channel.",
            ["channel"],
            registry=registry,
        )
        self.fetch_seconds = Histogram(
            "newswatch_fetch_seconds",
            "HTTP fetch latency (whole response), by target (feed or page).",
            ["target"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.extract_seconds = Histogram(
            "newswatch_extract_seconds",
            "Article extraction latency.",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.last_successful_poll = Gauge(
            "newswatch_last_successful_poll_timestamp_seconds",
            "Unix time of the last poll that completed without error (any feed).",
            registry=registry,
        )
        self.config_reloads = Counter(
            "newswatch_config_reloads",
            "Config reload attempts by result (applied, rejected).",
            ["result"],
            registry=registry,
        )


_instruments: _Instruments | None = None
_enable_lock = threading.Lock()


def enable() -> CollectorRegistry:
    """Start keeping metrics in this process (idempotent); the registry `/metrics` renders."""
    global _instruments
    with _enable_lock:
        if _instruments is None:
            _instruments = _Instruments()
            if _last_successful_poll[0]:
                _instruments.last_successful_poll.set(_last_successful_poll[0])
        return _instruments.registry


def observe_fetch(target: str, result: FetchResult) -> None:
    """Latency of every fetch, and its error kind when it failed (target: feed or page)."""
    if _instruments is None:
        return
    _instruments.fetch_seconds.labels(target=target).observe(result.elapsed_seconds)
    if result.error is not None:
        _instruments.fetch_errors.labels(kind=result.error.kind.value, target=target).inc()


# Kept whether or not metrics are: /healthz reads it too.
_last_successful_poll: list[float] = [0.0]


def record_poll(ok: bool, not_modified: bool = False, when: float | None = None) -> None:
    if ok:
        _last_successful_poll[0] = time.time() if when is None else when
    if _instruments is None:
        return
    _instruments.polls.labels(outcome="error" if not ok else "not_modified" if not_modified else "ok").inc()
    if ok:
        _instruments.last_successful_poll.set(_last_successful_poll[0])


def last_successful_poll() -> float | None:
    return _last_successful_poll[0] or None


def count_article(method: str, topics: list[str]) -> None:
    """A new article stored (by extraction method) and the topics it matched."""
    if _instruments is None:
        return
    _instruments.articles.labels(method=method).inc()
    for topic in topics:
        _instruments.matches.labels(topic=topic).inc()


@contextmanager
def timing_extraction() -> Iterator[None]:
    if _instruments is None:
        yield
        return
    with _instruments.extract_seconds.time():
        yield


def count_delivery(channel: str, delivered: bool) -> None:
    """One delivery attempt of an alert, sent or failed."""
    if _instruments is None:
        return
    counter = _instruments.alerts_sent if delivered else _instruments.alerts_failed
    counter.labels(channel=channel).inc()


def count_reload(result: str) -> None:
    """A config reload attempt: 'applied' or 'rejected'."""
    if _instruments is not None:
        _instruments.config_reloads.labels(result=result).inc()


class StoreCollector:
    """Gauges computed from the store when Prometheus scrapes: queue depths and feed states."""

    def __init__(self, read_counts: Callable[[], dict[str, dict[str, int]]]) -> None:
        self._read_counts = read_counts

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        try:
            counts = self._read_counts()
        except Exception:  # a scrape must not fail because the database blinked; healthz reports that
            log.warning("metrics: cannot read queue depths from the store", exc_info=True)
            return
        alerts = GaugeMetricFamily("newswatch_alerts", "Alerts in the outbox by status.", labels=["status"])
        for status, value in sorted(counts.get("alerts", {}).items()):
            alerts.add_metric([status], value)
        yield alerts
        feeds = GaugeMetricFamily("newswatch_feeds", "Configured feeds by health state.", labels=["state"])
        for state, value in sorted(counts.get("feeds", {}).items()):
            feeds.add_metric([state], value)
        yield feeds

    def describe(self) -> Iterator[Any]:
        return iter(())


_store_collector: StoreCollector | None = None


def watch_store(read_counts: Callable[[], dict[str, dict[str, int]]]) -> None:
    """Point the store gauges at (a new) store; replaces any previous one. Enables metrics."""
    global _store_collector
    registry = enable()
    if _store_collector is not None:
        registry.unregister(_store_collector)  # type: ignore[arg-type]
    _store_collector = StoreCollector(read_counts)
    registry.register(_store_collector)  # type: ignore[arg-type]
