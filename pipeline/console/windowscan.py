"""A compiled query run over a window of prepared articles, for the playground and the search.

Presearch (`match/presearch.py`) names the strings of which one must occur in an article's folded text
for a topic to possibly match; articles holding none of them are skipped without being read. Only
the rest are loaded and handed to the matcher, which alone decides what matches. Pure apart from
`load`, which the caller gives to read the candidates' articles.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from pipeline.console.article_window import BATCH, Window
from pipeline.match.matcher import Matcher
from pipeline.match.presearch import anchor_terms
from pipeline.models import Article, Verdict

Load = Callable[[Sequence[int]], Mapping[int, Article]]


@dataclass(frozen=True, slots=True)
class Scanned:
    article_id: int
    article: Article
    # The topics (of those asked about) that match the article.
    verdicts: dict[str, Verdict]


def holding_any(window: Window, anchors: Iterable[frozenset[str] | None]) -> list[int]:
    """Ids of the window's articles (in its order) whose folded text holds a string of any of these
    anchor sets: presearch's `could_match` over the window, answered by the word index instead of
    reading every article (test_console_window holds the two equal). A None set, or an anchor
    with a space in it (which could span two words; the prepared words are each kept once, in any
    order), cannot narrow: then every article is a candidate."""
    strings: set[str] = set()
    for needed in anchors:
        if needed is None or any(len(anchor.split()) != 1 for anchor in needed):
            return [article.article_id for article in window.articles]
        strings |= needed
    holding: set[int] = set().union(*(window.holding(anchor) for anchor in strings))
    return [article.article_id for article in window.articles if article.article_id in holding]


def candidates(matcher: Matcher, topics: Sequence[str], window: Window) -> list[int]:
    """Ids of the window's articles (in the window's order) that any of `topics` could match."""
    return holding_any(window, (anchor_terms(matcher.topics[name].tree) for name in topics))


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
