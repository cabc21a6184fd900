"""Presearch: which literal strings a query needs, so most topics are never evaluated for an article.

In the manner of Lucene Monitor (the Elasticsearch percolator), every query is indexed by its
*anchor set*: folded strings of which at least one must occur in an article's folded text
(`normalize.normalise`) for the query to possibly match. An article that contains none of a
topic's anchors cannot match it, whatever else the query says, so the topic need not be evaluated.

    usfj AND (reorgani* OR 再編)      -> {"usfj"}            (AND: one child's set suffices)
    @usfj OR upgrade                  -> the alias's anchors | {"upgrade"}
    "joint force headquarters"        -> {"headquarters"}    (a phrase: its most telling word)
    NOT baseball                      -> None                (could match through NOT alone)

The rules, each a necessary condition:
- a term: the literals of one of its tokens (every match of the term contains one of them);
- OR, an alias: the union of the children's sets, and None if any child has none;
- AND, NEAR: the set of the child that narrows most (every child must hold, so any child's set
  is valid); None only if no child has one;
- NOT: contributes nothing to its parent (it holds when its child is absent);
- a field scope: its child's set (looking in both fields is a weaker condition);
- `#topic`: the parser has already put the referenced topic's tree in its place, so it gets the
  referenced topic's set.

A set is only ever a necessary condition: presearch never decides a match, it only skips topics
that cannot match. Pure: no I/O.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import NamedTuple

from pipeline.match.query import AliasNode, AndNode, FieldNode, NearNode, Node, NotNode, OrNode, TermNode
from pipeline.match.terms import TermSpec, token_literals, token_starts_word

Anchors = frozenset[str]
# Lower ranks narrow more: which of several valid sets an AND, a NEAR or a phrase keeps.
Rank = Callable[[Anchors], tuple[float, ...]]


class Anchor(NamedTuple):
    """An anchor string, and whether every occurrence that counts begins a word (the matcher then
    looks for it at word starts only: fewer places to look, fewer topics reached)."""

    text: str
    word_start: bool


WordAnchors = frozenset[Anchor]


def length_rank(anchors: Anchors) -> tuple[float, ...]:
    """Without word frequencies, length stands in for rarity: a set whose shortest string is long
    (`headquarters`, not `us`) occurs in fewer articles; then a set with fewer strings."""
    return (-min(len(anchor) for anchor in anchors), len(anchors))


def anchor_terms(query: Node, rank: Rank = length_rank) -> Anchors | None:
    """The query's anchor set, or None when no set of strings is necessary for it to match."""
    anchors = word_anchors(query, rank)
    return None if anchors is None else frozenset(anchor.text for anchor in anchors)


def word_anchors(query: Node, rank: Rank = length_rank) -> WordAnchors | None:
    """`anchor_terms`, each string with whether it begins a word wherever it counts."""
    return topics_word_anchors([query], rank)[0]


def topics_word_anchors(queries: Iterable[Node], rank: Rank = length_rank) -> list[WordAnchors | None]:
    """`word_anchors` of each query, an alias's set worked out once however many clauses name it
    (the shipped watchlists name their aliases hundreds of times, some of hundreds of terms)."""
    # By the identity of an alias's members: every clause naming the alias shares that tuple.
    by_alias: dict[int, WordAnchors | None] = {}

    def anchors(query: Node) -> WordAnchors | None:
        if isinstance(query, TermNode):
            return _best(term_anchor_sets(query.spec), rank)
        if isinstance(query, AliasNode):
            key = id(query.members)
            if key not in by_alias:
                by_alias[key] = _union(anchors(member) for member in query.members)
            return by_alias[key]
        if isinstance(query, OrNode):
            return _union(anchors(child) for child in query.children)
        if isinstance(query, AndNode):
            return _best((anchors(child) for child in query.children), rank)
        if isinstance(query, NearNode):
            return _best((anchors(query.left), anchors(query.right)), rank)
        if isinstance(query, FieldNode):
            return anchors(query.child)
        if isinstance(query, NotNode):
            return None
        raise TypeError(f"unknown node {query!r}")

    return [anchors(query) for query in queries]


@functools.lru_cache(maxsize=65536)
def term_anchor_sets(spec: TermSpec) -> tuple[WordAnchors, ...]:
    """One valid set per token of the term (shared by every topic that uses the same term)."""
    return tuple(
        frozenset(Anchor(text, starts) for text in literals)
        for literals, starts in zip(token_literals(spec), token_starts_word(spec), strict=True)
    )


def could_match(anchors: Anchors | None, normalized_text: str) -> bool:
    """Can a query with these anchors match this folded text? (None: presearch cannot tell.)"""
    if anchors is None:
        return True
    return any(anchor in normalized_text for anchor in anchors)


def _best(sets: Iterable[WordAnchors | None], rank: Rank) -> WordAnchors | None:
    known = [anchors for anchors in sets if anchors is not None]
    if not known:
        return None
    return min(known, key=lambda anchors: rank(frozenset(anchor.text for anchor in anchors)))


def _union(sets: Iterable[WordAnchors | None]) -> WordAnchors | None:
    union: set[Anchor] = set()
    for anchors in sets:
        if anchors is None:
            return None
        union |= anchors
    # A string that contains another adds nothing: wherever it occurs, the shorter one does too
    # (for one that must begin a word: where the longer one begins, as a word too). The strings
    # kept so far are looked up by the new one's slices of their lengths, not compared with each in
    # turn: a long alias or OR unites hundreds of strings, of a few lengths. Those that count
    # anywhere are kept apart by whether they are ASCII: an ASCII string cannot contain one that is
    # not, and most strings are ASCII words while most that count anywhere are Japanese.
    kept: list[Anchor] = []
    anywhere: dict[bool, dict[int, set[str]]] = {True: {}, False: {}}  # by ASCII, by length
    word_starts: dict[int, set[str]] = {}  # by length: kept strings that count where a word begins
    for anchor in sorted(union, key=lambda anchor: (len(anchor.text), not anchor.word_start)):
        text = anchor.text
        if anchor.word_start and any(text[:length] in found for length, found in word_starts.items()):
            continue
        ascii_text = text.isascii()
        ascii_found, other_found = anywhere[True], anywhere[False]
        if (ascii_found and _holds_any(text, ascii_found)) or (
            other_found and not ascii_text and _holds_any(text, other_found)
        ):
            continue
        kept.append(anchor)
        by_length = word_starts if anchor.word_start else anywhere[ascii_text]
        by_length.setdefault(len(text), set()).add(text)
    return frozenset(kept)


def _holds_any(text: str, by_length: dict[int, set[str]]) -> bool:
    """Does `text` contain one of the strings (kept by their length)?"""
    return any(
        text[start : start + length] in found
        for length, found in by_length.items()
        for start in range(len(text) - length + 1)
    )
