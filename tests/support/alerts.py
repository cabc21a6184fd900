"""Helpers for alert tests: a store with matched articles in its outbox (written through the real
Store.save_article path, keys from the real plan_alerts), and a clock tests move by hand.

Verdicts, and so the explanations alerts render, come from the real matcher run over the article
being stored (by default the seed article's text): never written out by hand, so a change to the
explanation's shape reaches every alert test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from pipeline.alert import plan_alerts
from pipeline.config import Config, TopicConfig, load_config
from pipeline.match import Matcher
from pipeline.models import Article, ExtractionMethod, Verdict
from pipeline.store import Store, create_db_engine, upgrade_schema

HOSTILE_TITLE = '<script>alert("title")</script> USFJ & <b>joint</b> force HQ'
HOSTILE_BODY = (
    'Before <a href="javascript:alert(2)">click</a> <img src=x onerror=alert(1)> the USFJ "reorganisation" '
    "& after </blockquote>"
)
PUBLISHED = datetime(2025, 10, 29, 14, 20, tzinfo=UTC)
SEED_ARTICLE = Path(__file__).parents[2] / "fixtures" / "articles" / "usfj-joint-force-hq.txt"
SEED_TITLE, _, SEED_BODY = SEED_ARTICLE.read_text(encoding="utf-8").partition("\n")
# The watchlist the seed article was chosen for: a clause tree with an alias, an OR and a NOT.
ALIASES = {"usfj": ["USFJ", "U.S. Forces Japan", "United States Forces Japan"]}
USFJ_QUERY = '@usfj AND (reorgani* OR "joint force headquarters" OR upgrade) NOT "U.S. Forces Korea"'


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
        body=body or SEED_BODY,
        published=PUBLISHED,
        author="Desk staff",
        language="en",
        source="Pacific Security Desk",
        method=ExtractionMethod.PAGE,
    )


def matcher_for(config: Config | None = None) -> Matcher:
    """The config's topics and aliases compiled, or (no config) a `usfj` topic over USFJ_QUERY."""
    if config is None:
        return Matcher.from_topics({"usfj": TopicConfig(query=USFJ_QUERY)}, ALIASES)
    return Matcher.from_topics(config.topics, config.aliases)


def verdict(topic: str, item: Article | None = None, matcher: Matcher | None = None) -> Verdict:
    """The real matcher's verdict on `item` (default: the seed article) for `topic`, which must match."""
    matcher = matcher or matcher_for()
    item = item or article(1)
    (found,) = matcher.evaluate(item, [topic])
    assert found.matched, f"fixture article does not match {topic}: {found.explanation.reasons_not_matched}"
    return found


def add_matches(
    store: Store,
    config: Config,
    numbers: range | list[int],
    topic: str,
    **article_fields: Any,
) -> list[str]:
    """Store articles matching `topic` (as the config defines it); returns the keys of the alerts queued."""
    keys = []
    source = feed_id(store)
    matcher = matcher_for(config)
    for number in numbers:
        item = article(number, **article_fields)
        verdicts = [verdict(topic, item, matcher)]
        planned = plan_alerts(verdicts, config.topics, story=item.canonical_url)
        store.save_article(item, source, verdicts, planned)
        keys += [alert.idempotency_key for alert in planned]
    return keys
