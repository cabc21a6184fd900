"""Prometheus metrics: one registry for the process, the names documented in the README.

Stages record what happened through these objects; `/metrics` (web.py) renders the
registry. Gauges that describe stored state (queue depths, feed states) are read
from the store at scrape time by `StoreCollector`, so they can never drift from
the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from pipeline.models import FetchResult

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

POLLS = Counter(
    "newswatch_polls", "Feed polls by outcome (ok, not_modified, error).", ["outcome"], registry=REGISTRY
)
FETCH_ERRORS = Counter(
    "newswatch_fetch_errors",
    "Failed fetches by error kind and target (feed or page).",
    ["kind", "target"],
    registry=REGISTRY,
)
ARTICLES = Counter(
    "newswatch_articles", "New articles stored, by extraction method.", ["method"], registry=REGISTRY
)
MATCHES = Counter("newswatch_matches", "Matches stored, by topic.", ["topic"], registry=REGISTRY)
ALERTS_SENT = Counter(
    "newswatch_alerts_sent", "Alerts delivered, by channel.", ["channel"], registry=REGISTRY
)
ALERTS_FAILED = Counter(
    "newswatch_alert_attempts_failed",
    "Delivery attempts that failed (the alert is retried or, finally, marked failed), by channel.",
    ["channel"],
    registry=REGISTRY,
)
FETCH_SECONDS = Histogram(
    "newswatch_fetch_seconds",
    "HTTP fetch latency (whole response), by target (feed or page).",
    ["target"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
EXTRACT_SECONDS = Histogram(
    "newswatch_extract_seconds", "Article extraction latency.", buckets=_LATENCY_BUCKETS, registry=REGISTRY
)
LAST_SUCCESSFUL_POLL = Gauge(
    "newswatch_last_successful_poll_timestamp_seconds",
    "Unix time of the last poll that completed without error (any feed).",
    registry=REGISTRY,
)


def observe_fetch(target: str, result: FetchResult) -> None:
    """Latency of every fetch, and its error kind when it failed (target: feed or page)."""
    FETCH_SECONDS.labels(target=target).observe(result.elapsed_seconds)
    if result.error is not None:
        FETCH_ERRORS.labels(kind=result.error.kind.value, target=target).inc()


_last_successful_poll: list[float] = [0.0]


def record_poll(ok: bool, not_modified: bool = False, when: float | None = None) -> None:
    POLLS.labels(outcome="error" if not ok else "not_modified" if not_modified else "ok").inc()
    if ok:
        _last_successful_poll[0] = time.time() if when is None else when
        LAST_SUCCESSFUL_POLL.set(_last_successful_poll[0])


def last_successful_poll() -> float | None:
    return _last_successful_poll[0] or None


CONFIG_RELOADS = Counter(
    "newswatch_config_reloads",
    "Config reload attempts by result (applied, rejected).",
    ["result"],
    registry=REGISTRY,
)


class StoreCollector(Collector):
    """Gauges computed from the store when Prometheus scrapes: queue depths and feed states."""

    def __init__(self, read_counts: Callable[[], dict[str, dict[str, int]]]) -> None:
        self._read_counts = read_counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
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

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())


_store_collector: StoreCollector | None = None


def watch_store(read_counts: Callable[[], dict[str, dict[str, int]]]) -> None:
    """Point the store gauges at (a new) store; replaces any previous one."""
    global _store_collector
    if _store_collector is not None:
        REGISTRY.unregister(_store_collector)
    _store_collector = StoreCollector(read_counts)
    REGISTRY.register(_store_collector)
