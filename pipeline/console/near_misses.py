"""Near misses: recent stored articles a topic did not match, though they satisfied part of its query.

What counts as "part" is read from the typed explanation (`match/explanation.py`), never from text:
- the query held, but the article fell short of the score its length needs, or was a passing mention;
- an AND or NEAR held some of its positive parts (a NOT part holds whenever its terms are absent, so
  it proves nothing), or a NEAR found both sides too far apart; looked for through OR alternatives
  and field scopes, so a long watchlist of alternatives still shows which one came close.

`near_miss` is pure. `find_near_misses` reads the window's candidates (articles holding any term
of the topic outside a NOT, found through presearch's anchors) through `load`, newest first, and
stops at the first `limit` near misses (or BUDGET candidates).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from pipeline.config import TopicConfig
from pipeline.console.article_window import BATCH, Window
from pipeline.console.playground import referenced_topics
from pipeline.console.windowscan import Load, holding_any
from pipeline.match.explanation import Clause, Explanation, short_clause_text
from pipeline.match.matcher import Matcher
from pipeline.match.presearch import anchor_terms
from pipeline.match.query import AliasNode, AndNode, FieldNode, NearNode, Node, OrNode, TermNode

# How many candidates, newest first, a topic page evaluates at most: the page stays quick on a busy
# store, and the near misses shown are the recent ones anyway.
BUDGET = 100
# Clause texts in a reason are cut to this length: a watchlist's alternatives can run to pages.
CLAUSE_CHARS = 80


@dataclass(frozen=True, slots=True)
class NearMiss:
    article_id: int
    title: str
    url: str
    source: str
    score: float
    # The query held (only the score or the passing mention failed): closer than a partial match.
    query_held: bool
    reason: str


def _short(clause: Clause) -> str:
    return short_clause_text(clause, CLAUSE_CHARS)


def _found(clause: Clause) -> str:
    """What a clause that held found: the terms found (the analyst sees "U.S. Forces Japan", not
    the alias that holds it), or the clause's text when it names none."""
    terms = list(dict.fromkeys(_terms(clause)))
    return ", ".join(terms) if terms else _short(clause)


def _terms(clause: Clause) -> list[str]:
    if clause.op in ("term", "alias"):
        return list(clause.terms)
    if clause.op == "not":
        return []
    return [term for child in clause.children if child.matched for term in _terms(child)]


def _partly(clause: Clause) -> str | None:
    """Why a false clause came close, or None when no part of it held."""
    if clause.matched or clause.op in ("term", "alias", "not"):
        return None
    if clause.op == "field":
        return _partly(clause.children[0]) if clause.children else None
    if clause.op == "or":
        return next((reason for child in clause.children if (reason := _partly(child))), None)
    positive = [child for child in clause.children if child.op != "not"]
    held = [child for child in positive if child.matched]
    if clause.op == "near" and len(held) == 2:
        left, right = held
        return f"{_short(left)} and {_short(right)} both occur, but never within {clause.distance} words"
    if held:
        missing = [child for child in positive if not child.matched]
        excluded = [child for child in clause.children if child.op == "not" and not child.matched]
        parts = [f"found {'; '.join(_found(child) for child in held)}"]
        if missing:
            parts.append(f"not found {'; '.join(_short(child) for child in missing)}")
        if excluded:
            parts.append(f"excluded {'; '.join(', '.join(child.terms) for child in excluded)}")
        return ", ".join(parts)
    # No part of this AND or NEAR held as a whole: perhaps one of them came close.
    return next((reason for child in positive if (reason := _partly(child))), None)


def near_miss(explanation: Explanation) -> tuple[bool, str] | None:
    """(whether the query itself held, the reason) for an unmatched verdict that came close, or None."""
    if explanation.matched or explanation.clauses is None:
        return None
    if explanation.clauses.matched:
        return True, "; ".join(explanation.reasons_not_matched)
    reason = _partly(explanation.clauses)
    return None if reason is None else (False, reason)


def _positive_terms(node: Node) -> Iterator[TermNode | AliasNode]:
    """The terms and aliases of a query outside any NOT: the ones a partial match can hold."""
    if isinstance(node, TermNode | AliasNode):
        yield node
    elif isinstance(node, AndNode | OrNode):
        for child in node.children:
            yield from _positive_terms(child)
    elif isinstance(node, NearNode):
        yield from _positive_terms(node.left)
        yield from _positive_terms(node.right)
    elif isinstance(node, FieldNode):
        yield from _positive_terms(node.child)


def find_near_misses(
    name: str,
    topics: Mapping[str, TopicConfig],
    aliases: Mapping[str, Sequence[str]],
    window: Window,
    load: Load,
    limit: int = 10,
) -> list[NearMiss]:
    """The topic's most recent near misses in the window: the query-held ones first."""
    subset = {key: topic for key, topic in topics.items() if key in {name, *referenced_topics(name, topics)}}
    matcher = Matcher.from_topics(subset, aliases)
    terms = [anchor_terms(term) for term in _positive_terms(matcher.topics[name].tree)]
    candidates = holding_any(window, terms)[:BUDGET]
    found_misses: list[NearMiss] = []
    for start in range(0, len(candidates), BATCH):
        batch = candidates[start : start + BATCH]
        articles = load(batch)
        for article_id in batch:
            article = articles.get(article_id)
            if article is None:
                continue
            verdict = matcher.evaluate(article, [name])[0]
            close = near_miss(verdict.explanation)
            if close is not None:
                query_held, reason = close
                found_misses.append(
                    NearMiss(
                        article_id,
                        article.title,
                        article.url,
                        article.source,
                        verdict.score,
                        query_held,
                        reason,
                    )
                )
        if len(found_misses) >= limit:
            break  # enough recent ones: the rest would only be older
    # Newest first within each kind (the candidates come newest first; the sort is stable).
    found_misses.sort(key=lambda miss: not miss.query_held)
    return found_misses[:limit]
