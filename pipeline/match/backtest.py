"""Backtest: what an edited watchlist would have matched among stored articles, compared
with what was matched at the time. Pure: the caller streams the stored articles in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from pipeline.match.matcher import Matcher
from pipeline.models import Article


class StoredArticleLike(Protocol):
    article_id: int
    article: Article
    matched_topics: frozenset[str]
    first_seen_at: datetime


@dataclass(frozen=True, slots=True)
class ArticleChange:
    article_id: int
    title: str
    url: str
    first_seen_at: datetime
    score: float
    why: str  # the matched terms (newly matching) or the reasons (no longer matching)


@dataclass
class TopicBacktest:
    topic: str
    in_new_config: bool
    matched_before: int = 0
    matches_now: int = 0
    newly_matching: list[ArticleChange] = field(default_factory=list)
    no_longer_matching: list[ArticleChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.newly_matching or self.no_longer_matching)


@dataclass
class BacktestReport:
    articles: int = 0
    topics: list[TopicBacktest] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(topic.changed for topic in self.topics)


def run_backtest(
    matcher: Matcher, stored: Iterable[StoredArticleLike], only_topics: Sequence[str] | None = None
) -> BacktestReport:
    names = list(only_topics) if only_topics is not None else list(matcher.topics)
    by_topic = {name: TopicBacktest(name, True) for name in names}
    report = BacktestReport()
    for item in stored:
        report.articles += 1
        now = {verdict.topic: verdict for verdict in matcher.match(item.article)}
        before = item.matched_topics if only_topics is None else item.matched_topics & set(names)
        for topic in before | now.keys():
            if topic not in by_topic:
                if only_topics is not None:
                    continue
                by_topic[topic] = TopicBacktest(topic, False)
            result = by_topic[topic]
            was, is_now = topic in before, topic in now
            result.matched_before += was
            result.matches_now += is_now
            if was == is_now:
                continue
            article = item.article
            if is_now:
                verdict = now[topic]
                why = "found " + ", ".join(dict.fromkeys(hit.term for hit in verdict.hits))
                score = verdict.score
            elif topic in matcher.topics:
                verdict = matcher.evaluate(article, [topic])[0]
                why = "; ".join(verdict.explanation.reasons_not_matched)
                score = verdict.score
            else:
                why, score = "the topic is not in the new config", 0.0
            change = ArticleChange(
                item.article_id, article.title, article.url, item.first_seen_at, score, why
            )
            (result.newly_matching if is_now else result.no_longer_matching).append(change)
    report.topics = list(by_topic.values())
    return report
