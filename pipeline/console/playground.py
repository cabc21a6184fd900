"""The query playground: a query typed in the console, run over stored articles beside a topic's
current query. Pure apart from the articles handed in (the window, and `load` for the candidates
presearch leaves); nothing is saved."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import yaml

from pipeline.config import TopicConfig
from pipeline.console.article_window import Window
from pipeline.console.windowscan import Load, scan_window
from pipeline.match.matcher import Matcher
from pipeline.match.query import QueryError, TopicError
from pipeline.match.terms import TermError

# A name no config topic can have (topic names are YAML keys; this one is reserved here only).
PLAYGROUND = "~playground"


@dataclass(frozen=True, slots=True)
class PlaygroundHit:
    article_id: int
    title: str
    url: str
    source: str
    score: float
    snippet: list[tuple[str, bool]]
    # Whether the topic's current query matches it too (None when no topic is compared).
    current: bool | None


@dataclass
class PlaygroundResult:
    query: str
    topic: str | None
    articles: int = 0
    # Articles the typed query matches; `hits` shows the first `limit` of them, best first.
    matches: int = 0
    hits: list[PlaygroundHit] = field(default_factory=list)
    current_matches: int = 0
    # Matched by the typed query but not by the current one.
    added: int = 0
    # Matched by the current query but not by the typed one (`lost` lists the first `limit`).
    lost_count: int = 0
    lost: list[tuple[int, str]] = field(default_factory=list)
    error: str | None = None
    yaml: str = ""


_TOPIC_REFERENCE = re.compile(r"#([\w.-]+)")


def _needed(texts: Iterable[str], topics: Mapping[str, TopicConfig]) -> set[str]:
    """The topics these query texts name with #topic, and the ones those name, and so on."""
    needed: set[str] = set()
    pending = [name for text in texts for name in _TOPIC_REFERENCE.findall(text)]
    while pending:
        name = pending.pop()
        if name in needed or name not in topics:
            continue
        needed.add(name)
        topic = topics[name]
        pending += [ref for text in [topic.query or "", *topic.all, *topic.any, *topic.none]
                    for ref in _TOPIC_REFERENCE.findall(text)]  # fmt: skip
    return needed


def referenced_topics(name: str, topics: Mapping[str, TopicConfig]) -> set[str]:
    """The topics a configured topic names with #topic, directly or through those."""
    topic = topics[name]
    return _needed([topic.query or "", *topic.all, *topic.any, *topic.none], topics)


def compile_query(
    query: str,
    topics: Mapping[str, TopicConfig],
    aliases: Mapping[str, Sequence[str]],
    min_score: float,
    compare: str | None = None,
) -> Matcher:
    """A matcher holding the typed query, the topic it is compared with, and the topics either names
    with #topic. Only those: every other topic would cost a scan of each article for nothing (the
    benchmark measured six times the time with all the shipped topics present)."""
    chosen = {compare} if compare else set()
    texts = [query, *(topics[name].query or "" for name in chosen)]
    chosen |= _needed(texts, topics)
    subset = {name: topic for name, topic in topics.items() if name in chosen}
    subset[PLAYGROUND] = TopicConfig(query=query, min_score=min_score)
    return Matcher.from_topics(subset, aliases)


def run_playground(
    query: str,
    topic: str | None,
    topics: Mapping[str, TopicConfig],
    aliases: Mapping[str, Sequence[str]],
    window: Window,
    load: Load,
    limit: int = 100,
) -> PlaygroundResult:
    """The typed query (and the compared topic's current one) over the window's articles."""
    topic = topic if topic in topics else None
    result = PlaygroundResult(query=query, topic=topic, articles=len(window.articles))
    if not query.strip():
        result.error = "type a query"
        return result
    min_score = topics[topic].min_score if topic else 1.0
    try:
        matcher = compile_query(query, topics, aliases, min_score, topic)
    except (QueryError, TopicError, TermError, ValueError) as error:
        result.error = str(error)
        return result
    for scanned in scan_window(matcher, [PLAYGROUND, *([topic] if topic else [])], window, load):
        new = scanned.verdicts.get(PLAYGROUND)
        current = (topic in scanned.verdicts) if topic else None
        result.current_matches += bool(current)
        article = scanned.article
        if new is not None:
            result.matches += 1
            if len(result.hits) < limit:
                result.hits.append(
                    PlaygroundHit(
                        scanned.article_id,
                        article.title,
                        article.url,
                        article.source,
                        new.score,
                        list(new.snippet),
                        current,
                    )
                )
            result.added += current is False
        elif current and len(result.lost) < limit:
            result.lost.append((scanned.article_id, article.title))
        result.lost_count += bool(current and new is None)
    name = topic or "new-topic"
    result.yaml = yaml.safe_dump({"topics": {name: {"query": query}}}, allow_unicode=True, sort_keys=False)
    result.hits.sort(key=lambda hit: -hit.score)
    return result
