"""Helpers for alert tests: a store with matched articles in its outbox (written through the real
Store.save_article path, keys from the real plan_alerts), and a clock tests move by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from pipeline.alert import plan_alerts
from pipeline.config import Config, load_config
from pipeline.models import Article, ExtractionMethod, Verdict
from pipeline.store import Store, create_db_engine, upgrade_schema

HOSTILE_TITLE = '<script>alert("title")</script> USFJ & <b>joint</b> force HQ'
HOSTILE_BODY = 'Before <img src=x onerror=alert(1)> the USFJ "reorganisation" & after </blockquote>'
PUBLISHED = datetime(2025, 10, 29, 14, 20, tzinfo=UTC)


@dataclass
class SimulatedClock:
    """Now is whatever the test says; dispatchers take it instead of the wall clock."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def write_config(path: Path, document: dict[str, Any]) -> Config:
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_config(path)


def open_store(database_url: str) -> Store:
    engine = create_db_engine(database_url)
    upgrade_schema(engine)
    return Store(engine)


def feed_id(store: Store) -> int:
    return store.feed_state("https://feeds.example.org/desk.xml", "Pacific Security Desk").feed_id


def article(number: int, title: str | None = None, body: str | None = None) -> Article:
    url = f"https://news.example.org/2025/10/29/story-{number}"
    return Article(
        url=url,
        canonical_url=url,
        title=title or f"USFJ reorganisation update {number}",
        body=body or f"U.S. Forces Japan (USFJ) announced step {number} of its joint force HQ plan.",
        published=PUBLISHED,
        author="Desk staff",
        language="en",
        source="Pacific Security Desk",
        method=ExtractionMethod.PAGE,
    )


def verdict(topic: str, text: str = "USFJ", before: str = "U.S. Forces Japan (") -> Verdict:
    return Verdict(
        topic=topic,
        matched=True,
        score=4.0,
        hits=[],
        explanation={
            "all": [{"clause": "@usfj", "matched": True, "terms": [text], "count": 2}],
            "any": [],
            "none": [{"clause": "U.S. Forces Korea", "matched": False, "terms": [], "count": 0}],
            "hits": [{"field": "body", "term": text, "start": 19, "end": 23, "text": text}],
            "min_score": 1.0,
            "reasons_not_matched": [],
        },
        snippet=[(before, False), (text, True), (") announced a step.", False)],
    )


def add_matches(
    store: Store,
    config: Config,
    numbers: range | list[int],
    topic: str,
    snippet_before: str = "U.S. Forces Japan (",
    **article_fields: Any,
) -> list[str]:
    """Store articles matching `topic`; returns the idempotency keys of the alerts queued."""
    keys = []
    source = feed_id(store)
    for number in numbers:
        item = article(number, **article_fields)
        verdicts = [verdict(topic, before=snippet_before)]
        planned = plan_alerts(verdicts, config.topics, story=item.canonical_url)
        store.save_article(item, source, verdicts, planned)
        keys += [alert.idempotency_key for alert in planned]
    return keys
