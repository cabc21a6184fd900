"""The compiled watchlist matcher.

All topics are compiled once into one shared Aho-Corasick automaton (pyahocorasick)
over the first word of every term. Matching an article is then:

1. fold the title and body once (`normalize.normalise`);
2. one automaton pass per field finds every place a term can start; the term's
   regex is tried at those places only (`pattern.match(text, position)`), which
   yields every occurrence of every term of every topic;
3. only topics whose necessary terms all occur are evaluated (AND/OR/NOT/NEAR,
   fields, score); most articles touch few topics, whatever their number.

The matcher is pure: no network, no database. Rebuild it only when the topics
or aliases change: `Matcher.reloaded` compares a fingerprint and keeps itself otherwise.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import ahocorasick

from pipeline.match.evaluate import (
    Evaluator,
    Found,
    Outcome,
    clause_tree,
    distinct_hits,
    reasons_not_matched,
    score,
)
from pipeline.match.normalize import NormalisedText, normalise
from pipeline.match.query import (
    AliasNode,
    AndNode,
    FieldNode,
    NearNode,
    Node,
    NotNode,
    OrNode,
    TermNode,
    iter_terms,
    resolve_aliases,
    topic_tree,
)
from pipeline.match.snippet import build_snippet
from pipeline.match.terms import CompiledTerm, TermSpec, compile_term
from pipeline.models import Article, Hit, Verdict

if TYPE_CHECKING:
    from pipeline.config import TopicConfig  # noqa: F401  (the usual argument type)


class TopicLike(Protocol):
    """What the matcher reads from a topic (pipeline.config.TopicConfig has it all)."""

    query: str | None
    all: list[str]
    any: list[str]
    none: list[str]
    min_score: float


@dataclass(frozen=True, slots=True)
class CompiledTopic:
    name: str
    tree: Node
    min_score: float
    # The topic can only match if every one of these sets has a term that occurs.
    triggers: tuple[frozenset[int], ...]


def topics_fingerprint(topics: Mapping[str, TopicLike], aliases: Mapping[str, Sequence[str]]) -> str:
    """A cheap digest of everything the compiled matcher depends on."""
    document = {
        "aliases": {name: list(terms) for name, terms in aliases.items()},
        "topics": {
            name: [topic.query, list(topic.all), list(topic.any), list(topic.none), topic.min_score]
            for name, topic in topics.items()
        },
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _necessary(node: Node, ids: Mapping[TermSpec, int]) -> list[frozenset[int]]:
    """Sets of terms of which at least one must occur for `node` to be true."""
    if isinstance(node, TermNode):
        return [frozenset({ids[node.spec]})]
    if isinstance(node, AliasNode):
        return [frozenset(ids[member.spec] for member in node.members)]
    if isinstance(node, AndNode):
        return [group for child in node.children for group in _necessary(child, ids)]
    if isinstance(node, OrNode):
        union: set[int] = set()
        for child in node.children:
            groups = _necessary(child, ids)
            if not groups:
                return []
            union |= min(groups, key=len)
        return [frozenset(union)]
    if isinstance(node, NearNode):
        return _necessary(node.left, ids) + _necessary(node.right, ids)
    if isinstance(node, FieldNode):
        return _necessary(node.child, ids)
    assert isinstance(node, NotNode)
    return []


@dataclass(frozen=True, slots=True)
class ScannedArticle:
    """An article folded and searched: every occurrence of every term, per field."""

    article: Article
    fields: dict[str, NormalisedText]
    occurrences: dict[int, list[Found]]

    def original(self, field_name: str) -> str:
        return self.article.title if field_name == "title" else self.article.body


class Matcher:
    def __init__(self, topics: Mapping[str, TopicLike], aliases: Mapping[str, Sequence[str]]) -> None:
        self.fingerprint = topics_fingerprint(topics, aliases)
        resolved, problems = resolve_aliases(aliases)
        if problems:
            raise ValueError("; ".join(f"{problem.key}: {problem.message}" for problem in problems))
        self.term_ids: dict[TermSpec, int] = {}
        self.terms: list[CompiledTerm] = []
        self.topics: dict[str, CompiledTopic] = {}
        for name, topic in topics.items():
            tree = topic_tree(topic.query, topic.all, topic.any, topic.none, resolved)
            for term in iter_terms(tree):
                if term.spec not in self.term_ids:
                    self.term_ids[term.spec] = len(self.terms)
                    self.terms.append(compile_term(term.spec, len(self.terms)))
            triggers = tuple(sorted(_necessary(tree, self.term_ids), key=self._selectivity, reverse=True))
            self.topics[name] = CompiledTopic(name, tree, topic.min_score, triggers)
        self._topics_by_term: dict[int, list[CompiledTopic]] = {}
        for topic in self.topics.values():
            for term_id in topic.triggers[0]:
                self._topics_by_term.setdefault(term_id, []).append(topic)
        self._automaton = self._build_automaton()

    @classmethod
    def from_topics(cls, topics: Mapping[str, TopicLike], aliases: Mapping[str, Sequence[str]]) -> Matcher:
        return cls(topics, aliases)

    def reloaded(self, topics: Mapping[str, TopicLike], aliases: Mapping[str, Sequence[str]]) -> Matcher:
        """This matcher if the topics and aliases are unchanged, else a newly compiled one."""
        if topics_fingerprint(topics, aliases) == self.fingerprint:
            return self
        return Matcher(topics, aliases)

    def _selectivity(self, group: frozenset[int]) -> tuple[int, int]:
        """Prefer trigger sets whose rarest-looking key is long and whose terms are few."""
        shortest = min(len(key) for term_id in group for key in self.terms[term_id].keys)
        return shortest, -len(group)

    def _build_automaton(self) -> ahocorasick.Automaton:
        by_key: dict[str, list[int]] = {}
        for term in self.terms:
            for key in term.keys:
                by_key.setdefault(key, []).append(term.term_id)
        automaton = ahocorasick.Automaton()
        for key, term_ids in by_key.items():
            automaton.add_word(key, (len(key), tuple(term_ids)))
        if by_key:
            automaton.make_automaton()
        return automaton

    # --- scanning --------------------------------------------------------------

    def scan(self, article: Article) -> ScannedArticle:
        fields = {"title": normalise(article.title), "body": normalise(article.body)}
        occurrences: dict[int, list[Found]] = {}
        if len(self._automaton):
            for field_name, folded in fields.items():
                self._scan_field(field_name, folded, article, occurrences)
        return ScannedArticle(article, fields, occurrences)

    def _scan_field(
        self, field_name: str, folded: NormalisedText, article: Article, occurrences: dict[int, list[Found]]
    ) -> None:
        text = folded.text
        if not text:
            return
        terms = self.terms
        found: dict[int, list[tuple[int, int]]] = {}
        for end, (length, term_ids) in self._automaton.iter(text):
            start = end - length + 1
            if start > 0:
                before = text[start - 1]
                # Cheap pre-check of the left word boundary the regexes also enforce.
                if before.isalnum() and before.isascii() and text[start].isascii():
                    continue
            for term_id in term_ids:
                hit = terms[term_id].pattern.match(text, start)
                if hit is not None:
                    found.setdefault(term_id, []).append(hit.span())
        original = article.title if field_name == "title" else article.body
        for term_id, spans in found.items():
            kept = keep_leftmost(spans)
            term = terms[term_id]
            if term.spec.case_letters is not None:
                kept = [span for span in kept if term.case_agrees(_original_text(folded, original, span))]
            if kept:
                occurrences.setdefault(term_id, []).extend(
                    Found(field_name, start, end, "") for start, end in kept
                )

    # --- verdicts --------------------------------------------------------------

    def candidates(self, scanned: ScannedArticle) -> list[CompiledTopic]:
        """Topics whose necessary terms all occur: the only ones that can match."""
        present = scanned.occurrences.keys()
        seen: set[str] = set()
        chosen = []
        for term_id in present:
            for topic in self._topics_by_term.get(term_id, ()):
                if topic.name in seen:
                    continue
                seen.add(topic.name)
                if all(not group.isdisjoint(present) for group in topic.triggers):
                    chosen.append(topic)
        return chosen

    def match(self, article: Article) -> list[Verdict]:
        """Verdicts for the topics the article matches (in config order)."""
        scanned = self.scan(article)
        if not scanned.occurrences:
            return []
        evaluator = self._evaluator(scanned)
        chosen = {topic.name for topic in self.candidates(scanned)}
        verdicts = []
        for topic in self.topics.values():
            if topic.name in chosen:
                verdict = self._verdict(topic, scanned, evaluator)
                if verdict.matched:
                    verdicts.append(verdict)
        return verdicts

    def evaluate(self, article: Article, topic_names: Iterable[str] | None = None) -> list[Verdict]:
        """Verdicts for every topic (or the named ones), matched or not, each with its explanation."""
        scanned = self.scan(article)
        evaluator = self._evaluator(scanned)
        names = list(topic_names) if topic_names is not None else list(self.topics)
        return [self._verdict(self.topics[name], scanned, evaluator) for name in names]

    def _evaluator(self, scanned: ScannedArticle) -> Evaluator:
        texts = {name: folded.text for name, folded in scanned.fields.items()}
        return Evaluator(self.term_ids, scanned.occurrences, texts)

    def _verdict(self, topic: CompiledTopic, scanned: ScannedArticle, evaluator: Evaluator) -> Verdict:
        return build_verdict(topic, scanned, evaluator.evaluate(topic.tree))


def keep_leftmost(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Non-overlapping matches, leftmost first: what `finditer` would report."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if not kept or start >= kept[-1][1]:
            kept.append((start, end))
    return kept


def _original_text(folded: NormalisedText, original: str, span: tuple[int, int]) -> str:
    start, end = folded.original_span(*span)
    return original[start:end]


def build_verdict(topic: CompiledTopic, scanned: ScannedArticle, outcome: Outcome) -> Verdict:
    positive = distinct_hits(outcome.hits) if outcome.matched else []
    topic_score = score(positive)
    reasons = reasons_not_matched(outcome)
    if not reasons and topic_score < topic.min_score:
        reasons.append(f"score {topic_score:g} is below the topic's minimum {topic.min_score:g}")
    hits = [_hit(found, scanned) for found in positive]
    explanation: dict[str, Any] = {
        "query": topic.tree.source,
        "clauses": clause_tree(outcome),
        "hits": [
            {"field": hit.field, "term": hit.term, "start": hit.start, "end": hit.end, "text": hit.text}
            for hit in sorted(hits, key=lambda hit: (hit.field != "title", hit.start))
        ],
        "score": topic_score,
        "min_score": topic.min_score,
        "reasons_not_matched": reasons,
    }
    body_hits = [hit for hit in hits if hit.field == "body"]
    title_hits = [hit for hit in hits if hit.field == "title"]
    return Verdict(
        topic=topic.name,
        matched=not reasons,
        score=topic_score,
        hits=hits,
        explanation=explanation,
        snippet=build_snippet(scanned.article.body, body_hits)
        or build_snippet(scanned.article.title, title_hits),
    )


def _hit(found: Found, scanned: ScannedArticle) -> Hit:
    original = scanned.original(found.field)
    start, end = scanned.fields[found.field].original_span(found.start, found.end)
    return Hit(found.field, start, end, found.label, original[start:end])
