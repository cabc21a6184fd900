"""The compiled watchlist matcher.

All topics are compiled once into one shared Aho-Corasick automaton (pyahocorasick)
over the first word of every term. Matching an article is then:

1. fold the title and body once (`normalize.normalise`);
2. one automaton pass per field finds every place a term can start; the term's
   regex is tried at those places only (`pattern.match(text, position)`), which
   yields every occurrence of every term of every topic;
3. only topics whose necessary terms all occur are evaluated (AND/OR/NOT/NEAR,
   fields, score); most articles touch few topics, whatever their number.

In `match`, the candidates of step 3 must pass two independent necessary conditions, intersected
with set operations: the presearch anchors (`presearch.py`, in the manner of Lucene Monitor:
strings one of which a topic needs, found by the same automaton pass as the terms) and a second
group of necessary terms; a topic whose terms cannot reach the score the article's length requires
is not evaluated. `evaluate`, which explains every topic asked for, evaluates each of them fully.

The matcher is pure: no network, no database. Rebuild it only when the topics
or aliases change: `Matcher.reloaded` compares a fingerprint and keeps itself otherwise.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

import ahocorasick

from pipeline.match.anchor_index import AnchorIndex
from pipeline.match.evaluate import (
    FIELD_WEIGHTS,
    Evaluator,
    Found,
    NodeIndex,
    Outcome,
    PresenceTest,
    Substance,
    clause_tree,
    count_words,
    distinct_hits,
    paragraph_starts,
    presence_test,
    reasons_not_matched,
    required_score,
    sentence_starts,
    substance,
)
from pipeline.match.explanation import Clause, Explanation
from pipeline.match.japanese import Words, words_of
from pipeline.match.normalize import NormalisedText, normalise
from pipeline.match.presearch import topics_word_anchors
from pipeline.match.query import (
    AliasNode,
    AndNode,
    FieldNode,
    NearNode,
    Node,
    NotNode,
    OrNode,
    TermNode,
    TopicTrees,
    resolve_aliases,
)
from pipeline.match.snippet import build_snippet
from pipeline.match.terms import CompiledTerm, TermSpec, compile_term, second_word_at
from pipeline.models import Article, Hit, SnippetSegment, Verdict


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
    order: int  # position in the config, so verdicts come out in config order
    tree: Node
    min_score: float
    # The topic can only match if every one of these sets has a term that occurs.
    triggers: tuple[frozenset[int], ...]
    holds: PresenceTest  # the tree's truth for an article, without collecting hits
    # True when the tree is true exactly when every trigger group has a term that occurs (an AND
    # of terms, aliases and ORs of them): `match` then needs no presence test for the topic.
    decided_by_triggers: bool = False


def _second_index(topic: CompiledTopic) -> int:
    """Which of a topic's trigger groups `Matcher._topics_by_second` indexes it by."""
    return 1 if len(topic.triggers) > 1 else 0


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


# An OR's necessary groups are the unions of one group of each alternative, at most this many.
_MOST_OR_GROUPS = 8


def _necessary(node: Node, ids: Mapping[TermSpec, int]) -> list[frozenset[int]]:
    """Sets of terms of which at least one must occur for `node` to be true."""
    if isinstance(node, TermNode):
        return [frozenset({ids[node.spec]})]
    if isinstance(node, AliasNode):
        return [frozenset(ids[member.spec] for member in node.members)]
    if isinstance(node, AndNode):
        return [group for child in node.children for group in _necessary(child, ids)]
    if isinstance(node, OrNode):
        per_child = [_necessary(child, ids) for child in node.children]
        if not all(per_child):
            return []
        if math.prod(len(groups) for groups in per_child) > _MOST_OR_GROUPS:
            # One group: the union of each alternative's smallest.
            return [frozenset().union(*[min(groups, key=len) for groups in per_child])]
        # a OR (b AND c) is (a OR b) AND (a OR c): one union for every choice of a group from each
        # alternative is necessary, and together they say more than any one of them. (A title
        # name OR a name and a word: the word alone no longer makes the topic a candidate.)
        return [frozenset().union(*choice) for choice in itertools.product(*per_child)]
    if isinstance(node, NearNode):
        return _necessary(node.left, ids) + _necessary(node.right, ids)
    if isinstance(node, FieldNode):
        return _necessary(node.child, ids)
    assert isinstance(node, NotNode)
    return []


def _decided_by_necessary(node: Node, ids: Mapping[TermSpec, int]) -> bool:
    """Is `node` true exactly when each of `_necessary(node)`'s groups has a term present (in any
    field)? So for terms and aliases, an AND of such nodes, and an OR of such nodes with one group
    each; not for NOT, NEAR or field scopes, whose truth needs more than which terms occur."""
    if isinstance(node, TermNode | AliasNode):
        return True
    if isinstance(node, AndNode):
        return all(_decided_by_necessary(child, ids) for child in node.children)
    if isinstance(node, OrNode):
        # `_necessary` unions one group per child: exact when each child is exactly one group.
        return all(
            _decided_by_necessary(child, ids) and len(_necessary(child, ids)) == 1 for child in node.children
        )
    return False


@contextmanager
def _cycle_collection_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (reference counting still frees what it can);
    left as it was found, so a caller that has paused it keeps it paused."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class FieldOccurrences(Mapping[int, list[tuple[int, int]]]):
    """term id -> its (start, end) spans in one field. Which terms occur is known at once; the
    positions of whole-word hits are only worked out if asked for (a NEAR, or a topic that holds)."""

    def __init__(
        self, present: set[int], hits: list[tuple[int, Any]], verified: dict[int, list[tuple[int, int]]]
    ) -> None:
        self.present = present
        self._hits = hits
        self._spans: dict[int, list[tuple[int, int]]] | None = None
        self._verified = verified

    def _build(self) -> dict[int, list[tuple[int, int]]]:
        spans: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
        for end, (kind, length, entries, _) in self._hits:
            if kind is _WHOLE:
                # A whole-word key (marker, word, marker) ending at marked[end]
                # starts at text[end - length - 1].
                start = end - length - 1
                for term_id in entries:
                    spans[term_id].append((start, start + length))
        for term_id, found in self._verified.items():
            if found:
                spans[term_id] = found
        self._spans = dict(spans)
        # From now on `get` is the dict's own, a C call: the evaluator asks it for every term of
        # every topic that holds. (The dict's keys are `present`: only terms that occur have spans.)
        self.get = self._spans.get  # type: ignore[method-assign]
        return self._spans

    def spans(self) -> dict[int, list[tuple[int, int]]]:
        """term id -> its spans, for the terms that occur."""
        return self._spans if self._spans is not None else self._build()

    def __contains__(self, term_id: object) -> bool:
        return term_id in self.present

    def __getitem__(self, term_id: int) -> list[tuple[int, int]]:
        if term_id not in self.present:
            raise KeyError(term_id)
        return (self._spans if self._spans is not None else self._build())[term_id]

    def get(self, term_id: int, default: Any = None) -> Any:  # type: ignore[override]
        if term_id not in self.present:
            return default
        return (self._spans if self._spans is not None else self._build())[term_id]

    def __iter__(self) -> Iterator[int]:
        return iter(self.present)

    def __len__(self) -> int:
        return len(self.present)


@dataclass(frozen=True)
class ScannedArticle:
    """An article folded and searched: every occurrence of every term, per field."""

    article: Article
    fields: dict[str, NormalisedText]
    # field -> term id -> (start, end) spans in the folded field text
    occurrences: dict[str, FieldOccurrences]
    # field -> where its Japanese words start and end (None for a field without Japanese)
    words: dict[str, Words | None]

    @cached_property
    def present(self) -> set[int]:
        """The terms that occur anywhere in the article."""
        return self.occurrences["title"].present | self.occurrences["body"].present

    def original(self, field_name: str) -> str:
        return self.article.title if field_name == "title" else self.article.body

    @cached_property
    def body_words(self) -> int:
        return count_words(self.fields["body"].text, self.words["body"])

    @cached_property
    def paragraphs(self) -> list[int]:
        return paragraph_starts(self.fields["body"].text)

    @cached_property
    def sentences(self) -> list[int]:
        return sentence_starts(self.fields["body"].text, self.paragraphs)

    def substance(self, hits: list[Found], min_score: float) -> Substance:
        # The topics that match an article often share their distinct hits (a third of them at
        # 100,000 topics over real news), and a Substance is frozen.
        key = (tuple(hits), min_score)
        weighed = self.substances_made.get(key)
        if weighed is None:
            weighed = self.substances_made[key] = substance(
                hits, min_score, self.body_words, self.paragraphs, self.sentences
            )
        return weighed

    @cached_property
    def substances_made(self) -> dict[tuple[tuple[Found, ...], float], Substance]:
        """The substance of each set of distinct hits (and minimum score) weighed so far."""
        return {}

    @cached_property
    def evidence_made(self) -> dict[tuple[Found, ...], Evidence]:
        """The evidence of each set of distinct hits a verdict has reported so far."""
        return {}

    @cached_property
    def hits_made(self) -> dict[Found, Hit]:
        """The `Hit` of each occurrence a verdict has reported so far: the topics that match an
        article share most of their terms' occurrences, and a Hit is frozen."""
        return {}


class Matcher:
    def __init__(self, topics: Mapping[str, TopicLike], aliases: Mapping[str, Sequence[str]]) -> None:
        # Compiling allocates millions of objects and frees almost none, so every full collection
        # the allocations trigger walks everything built so far for nothing: a third of the compile
        # time at 100,000 topics (22 s instead of 35 s without it).
        with _cycle_collection_paused():
            self._compile(topics, aliases)

    def _compile(self, topics: Mapping[str, TopicLike], aliases: Mapping[str, Sequence[str]]) -> None:
        self.fingerprint = topics_fingerprint(topics, aliases)
        resolved, problems = resolve_aliases(aliases)
        if problems:
            raise ValueError("; ".join(f"{problem.key}: {problem.message}" for problem in problems))
        self.term_ids: dict[TermSpec, int] = {}
        self.node_term_ids: dict[int, int] = {}  # id(term node) -> term id, for the evaluator
        self.node_index = NodeIndex(self.node_term_ids)  # filled as evaluators meet each node
        self.terms: list[CompiledTerm] = []
        self.topics: dict[str, CompiledTopic] = {}
        trees = TopicTrees(topics, resolved)
        # The topics' positions, made in one go so the int objects lie side by side: the candidate
        # sets hold them, and set operations touch (count references to) every member, which costs a
        # cache miss per member when they lie scattered among 100,000 topics' trees.
        positions = list(range(len(topics)))
        # An alias's members, registered once: every clause naming the alias shares their tuple.
        alias_term_ids: dict[int, frozenset[int]] = {}
        topic_terms: list[tuple[int, ...]] = []
        for name, topic in topics.items():
            tree = trees.tree(name)
            # The trees (and so the nodes whose ids are keys of node_term_ids) live as long as the
            # matcher.
            topic_terms.append(tuple(self._register_terms(tree, alias_term_ids)))
            triggers = tuple(sorted(_necessary(tree, self.term_ids), key=self._selectivity, reverse=True))
            self.topics[name] = CompiledTopic(
                name,
                positions[len(self.topics)],
                tree,
                topic.min_score,
                triggers,
                presence_test(tree, self.node_term_ids),
                _decided_by_necessary(tree, self.term_ids),
            )
        # term id -> the topics (by config order) whose first trigger group holds the term
        by_term: dict[int, set[int]] = {}
        for topic in self.topics.values():
            for term_id in topic.triggers[0]:
                by_term.setdefault(term_id, set()).add(topic.order)
        self._topics_by_term = {term_id: frozenset(orders) for term_id, orders in by_term.items()}
        # The same for a second trigger group where a topic has one: presearch already required
        # (about) the first, so the two together narrow the candidates with set operations alone.
        by_second: dict[int, set[int]] = {}
        for topic in self.topics.values():
            for term_id in topic.triggers[_second_index(topic)]:
                by_second.setdefault(term_id, set()).add(topic.order)
        self._topics_by_second = {term_id: frozenset(orders) for term_id, orders in by_second.items()}
        self._topic_list = list(self.topics.values())
        # Per topic, the trigger groups `match` still has to check: the one `_topics_by_second`
        # indexes holds for every topic reached through it.
        self._unchecked = [
            tuple(group for index, group in enumerate(topic.triggers) if index != _second_index(topic))
            for topic in self._topic_list
        ]
        # Each topic's distinct terms: their occurrences bound the score it can reach.
        self._topic_terms = topic_terms
        # Terms that begin or end in Japanese script: their hits must sit on the analyser's word edges.
        self._word_edged = frozenset(
            term.term_id for term in self.terms if term.spec.tokens[0].cjk or term.spec.tokens[-1].cjk
        )
        # Presearch: each topic's anchor strings, found by the same automaton pass as the terms.
        self._anchor_index = AnchorIndex(topics_word_anchors(topic.tree for topic in self._topic_list))
        self._automaton = self._build_automaton()

    def _register_terms(self, node: Node, alias_term_ids: dict[int, frozenset[int]]) -> set[int]:
        """Give each new term of the tree its id and compiled form, depth first and left to right
        (the order ids were always given in); the tree's distinct term ids."""
        if isinstance(node, TermNode):
            return {self._register_term(node)}
        if isinstance(node, AliasNode):
            key = id(node.members)
            if key not in alias_term_ids:
                alias_term_ids[key] = frozenset(self._register_term(member) for member in node.members)
            return set(alias_term_ids[key])
        if isinstance(node, AndNode | OrNode):
            found: set[int] = set()
            for child in node.children:
                found |= self._register_terms(child, alias_term_ids)
            return found
        if isinstance(node, NotNode | FieldNode):
            return self._register_terms(node.child, alias_term_ids)
        if isinstance(node, NearNode):
            return self._register_terms(node.left, alias_term_ids) | self._register_terms(
                node.right, alias_term_ids
            )
        raise TypeError(f"unknown node {node!r}")

    def _register_term(self, term: TermNode) -> int:
        term_id = self.term_ids.get(term.spec)
        if term_id is None:
            term_id = self.term_ids[term.spec] = len(self.terms)
            self.terms.append(compile_term(term.spec, term_id))
        self.node_term_ids[id(term)] = term_id
        return term_id

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
        """Keys are searched in the boundary-marked text (see `boundary_marked`).

        A term that needs a word boundary has its keys written after the marker, so they are
        only found at word starts; there the term's regex is tried. A single plain word has every
        form it can take as a key between two markers: finding one is finding the word, no regex.
        Presearch anchors are keys too, marked the same way (so a string of the text is one of the
        marked text) and written after the marker when they can only count at a word start; each
        value's last item is the topics anchored by that key, empty for a key that anchors none.
        """
        started: dict[str, list[int]] = {}
        whole: dict[str, list[int]] = {}
        for term in self.terms:
            if term.whole_words is not None:
                for form in term.whole_words:
                    whole.setdefault(form, []).append(term.term_id)
                continue
            for key in term.keys:
                marked = _NOT_WORD.sub(_MARK, key)
                started.setdefault(_MARK + marked if term.needs_left_boundary else marked, []).append(
                    term.term_id
                )
        anchored: dict[str, frozenset[int]] = {}
        for anchor, orders in self._anchor_index.by_anchor.items():
            # An anchor that begins a word is looked for after the marker, like a term's key.
            marked = (_MARK if anchor.word_start else "") + _NOT_WORD.sub(_MARK, anchor.text)
            anchored[marked] = anchored.get(marked, _NO_TOPICS) | orders
        automaton = ahocorasick.Automaton()
        for key, term_ids in started.items():
            length = len(key) - 1 if key.startswith(_MARK) else len(key)
            # (The same string may be an anchor too: a prefix's literal part, a CJK word.)
            anchors = anchored.pop(key, _NO_TOPICS)
            if len(term_ids) >= _DISPATCH_AT:
                value = (_STARTS_DISPATCHED, length, self._dispatch(term_ids), anchors)
            else:
                value = (_STARTS, length, self._entries(term_ids), anchors)
            automaton.add_word(key, _Key(value))
        for form, term_ids in whole.items():
            # Ends with the marker, so it never equals a `started` key (those end inside a word),
            # nor an anchor (those end with a letter, digit or CJK character).
            key = _MARK + _NOT_WORD.sub(_MARK, form) + _MARK
            automaton.add_word(key, _Key((_WHOLE, len(form), frozenset(term_ids), _NO_TOPICS)))
        for key, orders in anchored.items():
            automaton.add_word(key, _Key((_ANCHOR, 0, (), orders)))
        if started or whole or anchored:
            automaton.make_automaton()
        return automaton

    def _entries(self, term_ids: Iterable[int]) -> tuple[tuple[int, Any], ...]:
        """(term id, its regex's `match`) for the terms to try where a key starts."""
        return tuple((term_id, _MatchCompiledOnFirstTry(self.terms[term_id])) for term_id in term_ids)

    def _dispatch(self, term_ids: list[int]) -> tuple[tuple[tuple[int, Any], ...], dict[str, Any]]:
        """A key that begins many terms ("the" of a hundred names): (the terms to try wherever it
        occurs, and per character the phrases whose second word can begin with it), so a place
        where the key occurs tries only the phrases whose second word fits what follows there."""
        always: list[int] = []
        by_start: dict[str, list[int]] = {}
        for term_id in term_ids:
            starts = self.terms[term_id].second_word_starts
            if starts is None:
                always.append(term_id)
                continue
            for character in starts:
                by_start.setdefault(character, []).append(term_id)
        always_entries = self._entries(always)
        # (Each character's terms with the always-tried ones first: one tuple to walk per place.)
        return always_entries, {
            character: always_entries + self._entries(ids) for character, ids in by_start.items()
        }

    # --- scanning --------------------------------------------------------------

    def scan(self, article: Article) -> ScannedArticle:
        """Every occurrence of every term."""
        fields = {"title": normalise(article.title), "body": normalise(article.body)}
        return self._scan(article, fields, {name: self._hits(folded) for name, folded in fields.items()})

    @staticmethod
    def _distinct(hits: list[tuple[int, Any]]) -> set[_Key]:
        """Each distinct key found once (a set built in C): a word repeated ten times is one here."""
        return set(map(_VALUE, hits))

    def _hits(self, folded: NormalisedText) -> list[tuple[int, Any]]:
        """Every key of the automaton found in one field (collected in C)."""
        if not folded.text or not len(self._automaton):
            return []
        return list(self._automaton.iter(boundary_marked(folded.text)))

    def _scan(
        self,
        article: Article,
        fields: dict[str, NormalisedText],
        hits: dict[str, list[tuple[int, Any]]],
        distinct: dict[str, set[_Key]] | None = None,
    ) -> ScannedArticle:
        words = {name: words_of(folded.text) for name, folded in fields.items()}
        occurrences = {
            field_name: self._scan_field(
                folded,
                article.title if field_name == "title" else article.body,
                hits[field_name],
                distinct[field_name] if distinct is not None else self._distinct(hits[field_name]),
                words[field_name],
            )
            for field_name, folded in fields.items()
        }
        return ScannedArticle(article, fields, occurrences, words)

    def _scan_field(
        self,
        folded: NormalisedText,
        original: str,
        hits: list[tuple[int, Any]],
        distinct: set[_Key],
        words: Words | None = None,
    ) -> FieldOccurrences:
        """Every occurrence of every term in one field."""
        text = folded.text
        present: set[int] = set()
        verified: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
        regex_keys = False
        for kind, _, entries, _ in distinct:
            if kind is _WHOLE:
                present |= entries
            elif kind is _STARTS or kind is _STARTS_DISPATCHED:
                regex_keys = True
        if regex_keys:
            for end, (kind, length, entries, _) in hits:
                if kind is _STARTS:
                    start = end - length
                elif kind is _STARTS_DISPATCHED:
                    start = end - length
                    always, by_start = entries
                    following = second_word_at(text, start)
                    entries = by_start.get(text[following : following + 1], always)
                else:
                    continue
                # marked[i + 1] stands for text[i]: a key after the marker starts at text[end - length].
                for term_id, match_at in entries:
                    hit = match_at(text, start)
                    if hit is not None:
                        verified[term_id].append(hit.span())
        terms = self.terms
        for term_id, spans in verified.items():
            term = terms[term_id]
            # Regex hits can overlap (a phrase starting inside an occurrence of itself): keep what
            # finditer would report. Case-sensitive terms are checked against the original text.
            if len(spans) > 1:
                spans = keep_leftmost(spans)
            if term.spec.case_letters is not None:
                spans = [span for span in spans if term.case_agrees(_original_text(folded, original, span))]
            if words is not None and term_id in self._word_edged:
                spans = [span for span in spans if words.accepts(text, *span)]
            verified[term_id] = spans
            if spans:
                present.add(term_id)
        return FieldOccurrences(present, hits, verified)

    # --- verdicts --------------------------------------------------------------

    def _confirmed(self, orders: list[int], present: set[int]) -> list[CompiledTopic]:
        """Of the presearch candidates reached through `_topics_by_second`, those whose necessary
        terms all occur."""
        topics, unchecked = self._topic_list, self._unchecked
        chosen = []
        for order in orders:
            for group in unchecked[order]:
                if group.isdisjoint(present):
                    break
            else:
                chosen.append(topics[order])
        return chosen

    def candidates(self, scanned: ScannedArticle) -> list[CompiledTopic]:
        """Topics whose necessary terms all occur, in config order: the only ones that can match."""
        present = scanned.present  # a real set: isdisjoint then iterates the smaller side
        by_term = self._topics_by_term
        # (Iterate over the few present terms: set.intersection(dict) would walk the whole dict.)
        reached = set().union(*[by_term[term_id] for term_id in present if term_id in by_term])
        topics = self._topic_list
        chosen = []
        for order in sorted(reached):
            topic = topics[order]
            # Reached through its first trigger group, so only the others need checking.
            for group in topic.triggers[1:]:
                if group.isdisjoint(present):
                    break
            else:
                chosen.append(topic)
        return chosen

    def presearch(self, article: Article) -> list[int]:
        """The topics (by config order) whose anchors occur in the article: the only ones that
        can match it."""
        fields = (normalise(article.title), normalise(article.body))
        return sorted(self._presearch([self._distinct(self._hits(folded)) for folded in fields]))

    def _presearch(self, distinct: Iterable[set[_Key]]) -> set[int]:
        reached = set(self._anchor_index.unanchored)
        for keys in distinct:
            reached.update(*[key[3] for key in keys])
        return reached

    def match(self, article: Article) -> list[Verdict]:
        """Verdicts for the topics the article matches (in config order)."""
        fields = {"title": normalise(article.title), "body": normalise(article.body)}
        hits = {name: self._hits(folded) for name, folded in fields.items()}
        distinct = {name: self._distinct(found) for name, found in hits.items()}
        orders = self._presearch(distinct.values())
        if not orders:
            return []
        scanned = self._scan(article, fields, hits, distinct)
        present = scanned.present
        if not present:
            return []
        by_second = self._topics_by_second
        # (Iterate over the few present terms: set.intersection(dict) would walk the whole dict.
        # Each term's few topics are looked up in `orders`, rather than all of them gathered in a
        # set first: a lookup reads the stored hash, a set built touches every topic's int.)
        reached = set().union(
            *map(orders.intersection, [by_second[term_id] for term_id in present if term_id in by_second])
        )
        candidates = self._confirmed(sorted(reached), present)
        if not candidates:
            return []
        evaluator = self._evaluator(scanned)
        verdicts = []
        for topic in candidates:
            # (Every candidate's trigger groups all hold: for most shapes of query that settles it.)
            if not topic.decided_by_triggers and not topic.holds(evaluator):
                continue
            if topic.min_score > 0 and self._score_bound(topic, scanned) < required_score(
                topic.min_score, scanned.body_words
            ):
                continue  # too few mentions to be about the topic, whatever the evaluation finds
            outcome = evaluator.evaluate(topic.tree)
            if not outcome.matched:
                continue
            # The explanation is only built for a match; most candidates fall out here.
            positive = distinct_hits(outcome.hits)
            weight = scanned.substance(positive, topic.min_score)
            if weight.enough:
                verdicts.append(
                    build_verdict(topic, scanned, outcome, (positive, weight), self.node_index.absent_clauses)
                )
        return verdicts

    def _score_bound(self, topic: CompiledTopic, scanned: ScannedArticle) -> float:
        """At least the score the topic's hits can reach: every occurrence of each of its terms,
        in the field that weighs it (its distinct hits are some of these occurrences)."""
        title, body = scanned.occurrences["title"], scanned.occurrences["body"]
        # (The plain sets first: most of a topic's terms are absent, and the mappings' own
        # lookups are Python methods.)
        in_title, in_body = title.present, body.present
        title_spans, body_spans = title.spans(), body.spans()
        title_weight, body_weight = FIELD_WEIGHTS["title"], FIELD_WEIGHTS["body"]
        bound = 0.0
        for term_id in self._topic_terms[topic.order]:
            if term_id in in_title:
                bound += title_weight * len(title_spans[term_id])
            if term_id in in_body:
                bound += body_weight * len(body_spans[term_id])
        return bound

    def evaluate(self, article: Article, topic_names: Iterable[str] | None = None) -> list[Verdict]:
        """Verdicts for every topic (or the named ones), matched or not, each with its explanation."""
        scanned = self.scan(article)
        evaluator = self._evaluator(scanned)
        names = list(topic_names) if topic_names is not None else list(self.topics)
        return [self._verdict(self.topics[name], scanned, evaluator) for name in names]

    def _evaluator(self, scanned: ScannedArticle) -> Evaluator:
        texts = {name: folded.text for name, folded in scanned.fields.items()}
        return Evaluator(self.node_term_ids, scanned.occurrences, texts, scanned.words, self.node_index)

    def _verdict(self, topic: CompiledTopic, scanned: ScannedArticle, evaluator: Evaluator) -> Verdict:
        outcome = evaluator.evaluate(topic.tree)
        return build_verdict(topic, scanned, outcome, None, self.node_index.absent_clauses)


class _MatchCompiledOnFirstTry:
    """A term's `pattern.match`, its regex compiled when first tried: most of a watchlist's terms
    are tried in few articles or none, and compiling all of them was a third of building the
    shipped watchlists' matcher."""

    __slots__ = ("_match", "_term")

    def __init__(self, term: CompiledTerm) -> None:
        self._term = term
        self._match: Any = None

    def __call__(self, text: str, position: int) -> re.Match[str] | None:
        match = self._match
        if match is None:
            match = self._match = self._term.pattern.match
        return match(text, position)


_MARK = "\x01"
# The kinds of automaton keys; a key that begins this many terms or more dispatches them (`_dispatch`).
_STARTS, _STARTS_DISPATCHED, _WHOLE, _ANCHOR = "starts", "dispatched", "whole", "anchor"
_DISPATCH_AT = 4
_NO_TOPICS: frozenset[int] = frozenset()


class _Key(tuple):  # type: ignore[type-arg]
    """An automaton value: (kind, length, term entries, anchored topics). Hashed by identity, as
    each key has one value object: collecting the distinct keys of an article then costs no
    hashing of the nested tuples (and compiled patterns) inside."""

    __slots__ = ()
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other


_VALUE = itemgetter(1)
_NOT_WORD = re.compile(r"[\W_]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
# ASCII bytes: letters and digits stay, everything else becomes the marker.
_ASCII_MARKS = bytes(code if chr(code).isalnum() else 1 for code in range(128)) + bytes(range(128, 256))


def boundary_marked(text: str) -> str:
    """`text` with every character that is not a letter or digit replaced by a marker, and a
    marker before and after it: a key written after the marker can only be found at the start of
    a word. marked[i + 1] stands for text[i]."""
    if text.isascii():
        return (" " + text + " ").encode("ascii").translate(_ASCII_MARKS).decode("ascii")
    pieces = [_MARK]
    position = 0
    for run in _NON_ASCII.finditer(text):
        pieces.append(text[position : run.start()].encode("ascii").translate(_ASCII_MARKS).decode("ascii"))
        pieces.append(_NOT_WORD.sub(_MARK, run.group()))
        position = run.end()
    pieces.append(text[position:].encode("ascii").translate(_ASCII_MARKS).decode("ascii"))
    pieces.append(_MARK)
    return "".join(pieces)


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


def build_verdict(
    topic: CompiledTopic,
    scanned: ScannedArticle,
    outcome: Outcome,
    weighed: tuple[list[Found], Substance] | None = None,
    known_clauses: Mapping[int, Clause] = MappingProxyType({}),
) -> Verdict:
    """The verdict with its explanation. `weighed`: the outcome's distinct positive hits and their
    substance, when the caller has worked them out already; `known_clauses`: clause trees built
    already, by id(outcome)."""
    if weighed is None:
        positive = distinct_hits(outcome.hits) if outcome.matched else []
        weight = scanned.substance(positive, topic.min_score)
    else:
        positive, weight = weighed
    topic_score = weight.score
    reasons = reasons_not_matched(outcome)
    if not reasons:
        reasons.extend(weight.reasons())
    evidence = _evidence(positive, scanned)
    explanation = Explanation(
        query=topic.tree.source,
        clauses=clause_tree(outcome, known_clauses),
        hits=evidence.ordered_hits,
        score=topic_score,
        min_score=topic.min_score,
        required_score=round(weight.required, 2),
        words=weight.words,
        paragraphs=weight.paragraphs,
        paragraphs_with_hits=weight.paragraphs_with_hits,
        reasons_not_matched=tuple(reasons),
        snippet=evidence.snippet,
    )
    return Verdict(
        topic=topic.name,
        matched=not reasons,
        score=topic_score,
        hits=list(evidence.hits),
        explanation=explanation,
        snippet=list(evidence.snippet),
    )


class Evidence(NamedTuple):
    """What a set of distinct hits shows of an article, whichever topic found them."""

    hits: tuple[Hit, ...]  # in the order of the distinct hits (body first)
    ordered_hits: tuple[Hit, ...]  # title first, each field's in text order
    snippet: tuple[SnippetSegment, ...]


def _evidence(positive: list[Found], scanned: ScannedArticle) -> Evidence:
    # The topics that match an article often share their distinct hits (a third of them at
    # 100,000 topics over real news): the Hits and the snippet are worked out once for each set.
    key = tuple(positive)
    known = scanned.evidence_made.get(key)
    if known is not None:
        return known
    hits = [_hit(found, scanned) for found in positive]
    # `positive` is in (field, start) order (`distinct_hits`), so the body's hits come first, each
    # field's in text order, and the explanation's order (title first) needs no sort.
    body_hits = [hit for hit in hits if hit.field == "body"]
    title_hits = hits[len(body_hits) :]
    snippet = build_snippet(scanned.article.body, body_hits) or build_snippet(
        scanned.article.title, title_hits
    )
    known = scanned.evidence_made[key] = Evidence(tuple(hits), (*title_hits, *body_hits), tuple(snippet))
    return known


def _hit(found: Found, scanned: ScannedArticle) -> Hit:
    made = scanned.hits_made
    hit = made.get(found)
    if hit is None:
        original = scanned.original(found.field)
        start, end = scanned.fields[found.field].original_span(found.start, found.end)
        hit = made[found] = Hit(found.field, start, end, found.label, original[start:end])
    return hit
