"""Search: the stored articles of the last N days that a query in the watchlist language matches,
newest first, a page at a time. The playground's engine without the comparison with a topic; pure
apart from the articles handed in (the window, and `load` for the candidates presearch leaves)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pipeline.config import TopicConfig
from pipeline.console.article_window import Window
from pipeline.console.playground import PLAYGROUND, compile_query
from pipeline.console.windowscan import Load, scan_window
from pipeline.match.query import QueryError, TopicError
from pipeline.match.terms import TermError

# How QueryError (and a TopicError made from one) starts its text: "column 17: expected ')'".
_COLUMN = re.compile(r"(?:^|: )column (\d+): ")


@dataclass(frozen=True, slots=True)
class SearchHit:
    article_id: int
    title: str
    url: str
    source: str
    published: datetime | None
    score: float
    terms: tuple[str, ...]  # the query's terms found, as written
    snippet: tuple[tuple[str, bool], ...]  # (text, highlighted)


@dataclass
class SearchResult:
    query: str
    days: int
    articles: int = 0  # searched: the window's articles
    total: int = 0  # matched, on every page
    hits: list[SearchHit] = field(default_factory=list)  # this page, newest first
    # Pass back as `before` for the next page (the last hit's article id), None on the last page.
    next_before: int | None = None
    error: str | None = None
    column: int | None = None  # where in the query the error is, when it is a syntax error


def run_search(
    query: str,
    days: int,
    topics: Mapping[str, TopicConfig],
    aliases: Mapping[str, Sequence[str]],
    window: Window,
    load: Load,
    limit: int,
    before: int | None = None,
) -> SearchResult:
    result = SearchResult(query=query, days=days, articles=len(window.articles))
    if not query.strip():
        result.error = "type a query"
        return result
    try:
        matcher = compile_query(query, topics, aliases, min_score=1.0)
    except (QueryError, TopicError, TermError, ValueError) as error:
        result.error = str(error)
        column = _COLUMN.search(str(error))
        result.column = int(column.group(1)) if column else None
        return result
    # Every candidate is matched, not only one page's worth: the count covers every page.
    for scanned in scan_window(matcher, [PLAYGROUND], window, load):
        verdict = scanned.verdicts.get(PLAYGROUND)
        if verdict is None:
            continue
        result.total += 1
        if before is not None and scanned.article_id >= before:
            continue
        if len(result.hits) < limit:
            article = scanned.article
            result.hits.append(
                SearchHit(
                    scanned.article_id,
                    article.title,
                    article.url,
                    article.source,
                    article.published,
                    verdict.score,
                    tuple(dict.fromkeys(hit.term for hit in verdict.hits)),
                    tuple(verdict.snippet),
                )
            )
        elif result.next_before is None:
            result.next_before = result.hits[-1].article_id
    return result
