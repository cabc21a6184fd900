"""A compiled query run over a window of prepared articles, for the playground and the search.

Presearch (`match/presearch.py`) names the strings of which one must occur in an article's folded text
for a topic to possibly match; articles holding none of them are skipped without being read. Only
the rest are loaded and handed to the matcher, which alone decides what matches. Pure apart from
`load`, which the caller gives to read the candidates' articles.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from pipeline.console.article_window import BATCH, Window
from pipeline.match.matcher import Matcher
from pipeline.match.presearch import anchor_terms, could_match
from pipeline.models import Article, Verdict

Load = Callable[[Sequence[int]], Mapping[int, Article]]


@dataclass(frozen=True, slots=True)
class Scanned:
    article_id: int
    article: Article
    # The topics (of those asked about) that match the article.
    verdicts: dict[str, Verdict]


def candidates(matcher: Matcher, topics: Sequence[str], window: Window) -> list[int]:
    """Ids of the window's articles (in the window's order) that any of `topics` could match."""
    anchors: set[str] = set()
    for name in topics:
        needed = anchor_terms(matcher.topics[name].tree)
        # None: presearch cannot narrow this query. An anchor with a space in it could span two
        # words, which the prepared words (each once, in any order) do not keep side by side.
        if needed is None or any(len(anchor.split()) != 1 for anchor in needed):
            return [article.article_id for article in window.articles]
        anchors |= needed
    narrowed = frozenset(anchors)
    # The word index finds the articles holding an anchor without reading every article's text;
    # presearch's own test then has the last word on each.
    holding: set[int] = set().union(*(window.holding(anchor) for anchor in narrowed))
    return [
        article.article_id
        for article in window.articles
        if article.article_id in holding and could_match(narrowed, article.words)
    ]


def scan_window(matcher: Matcher, topics: Sequence[str], window: Window, load: Load) -> Iterator[Scanned]:
    """Each candidate article still stored, in the window's order, with the verdicts of `topics`
    that match it (empty when none does)."""
    wanted = set(topics)
    chosen = candidates(matcher, topics, window)
    for start in range(0, len(chosen), BATCH):
        batch = chosen[start : start + BATCH]
        articles = load(batch)
        for article_id in batch:
            article = articles.get(article_id)
            if article is None:
                continue  # pruned since the window was listed
            verdicts = {v.topic: v for v in matcher.match(article) if v.topic in wanted}
            yield Scanned(article_id, article, verdicts)
