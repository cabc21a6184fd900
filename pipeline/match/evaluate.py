"""Evaluating a topic's tree over the term occurrences found in an article, and explaining it.

Pure functions over plain values: the occurrences come from the compiled matcher
(or from the naive reference scan, in tests and the benchmark), so both share
one definition of what AND, OR, NOT, NEAR and field scopes mean.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import islice
from types import MappingProxyType
from typing import NamedTuple

from pipeline.match.explanation import Clause
from pipeline.match.japanese import Words
from pipeline.match.normalize import CJK_RANGES, SPACED_WORD_CHAR
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
)

FIELD_WEIGHTS = {"title": 3.0, "body": 1.0}
ALL_FIELDS = frozenset(FIELD_WEIGHTS)
_ORDER = tuple(FIELD_WEIGHTS)
# What NEAR counts: words of spaced scripts here, and Japanese words as the analyser cuts them.
_SPACED_WORD = re.compile(rf"{SPACED_WORD_CHAR}+")


class Found(NamedTuple):
    """One occurrence of a term, in folded-text offsets of its field (a tuple: made by the thousand)."""

    field: str
    start: int
    end: int
    label: str  # the term as the operator wrote it


# `Found(*values)` without the Python-level `__new__` a NamedTuple has: hits are made by the thousand.
_found: Callable[[tuple[str, int, int, str]], Found] = partial(tuple.__new__, Found)

# field -> term id -> the term's (start, end) spans in that field, sorted, non-overlapping
Occurrences = Mapping[str, Mapping[int, Sequence[tuple[int, int]]]]
# id(term node) -> the term's id in the matcher's table of compiled terms (node identity, not the
# spec's value: hashing a spec costs more than the rest of a term's evaluation)
TermIds = Mapping[int, int]


class AliasMembers(NamedTuple):
    """An alias's members by term id, so that evaluating it touches only the members present: the
    shipped aliases hold up to hundreds of terms, and an article a handful of them."""

    term_ids: frozenset[int]
    positions: Mapping[int, tuple[int, ...]]  # term id -> where its members stand in the alias


class NodeIndex:
    """What evaluating a node needs that no article changes, worked out when the node is first
    evaluated and kept by the matcher from one article to the next (nodes by identity: a topic's
    tree lives as long as its matcher)."""

    def __init__(self, term_ids: TermIds) -> None:
        self.term_ids = term_ids
        self.aliases: dict[int, AliasMembers] = {}
        # A composite node's terms, and its outcome in an article holding none of them: most
        # clauses of a long watchlist find nothing in a given article, and their outcome is then
        # the same in every article (the empty evaluation below).
        self.absent: dict[int, tuple[frozenset[int], Outcome]] = {}
        # Those outcomes' clause trees, by id(outcome) (the outcomes live here as long as this).
        self.absent_clauses: dict[int, Clause] = {}

    def members(self, node: AliasNode) -> AliasMembers:
        members = self.aliases.get(id(node))
        if members is None:
            positions: dict[int, tuple[int, ...]] = {}
            for position, member in enumerate(node.members):
                term_id = self.term_ids[id(member)]
                positions[term_id] = (*positions.get(term_id, ()), position)
            members = self.aliases[id(node)] = AliasMembers(frozenset(positions), positions)
        return members

    def absent_outcome(self, node: Node) -> tuple[frozenset[int], Outcome]:
        """For a composite node: its terms, and its outcome in an article holding none of them."""
        known = self.absent.get(id(node))
        if known is None:
            terms = frozenset(self.term_ids[id(term)] for term in iter_terms(node))
            # The node's own level evaluated over no occurrences; its children through this index,
            # so that their outcomes and clause trees are the ones kept for them, not copies.
            nothing: dict[int, Sequence[tuple[int, int]]] = {}
            texts = dict.fromkeys(_ORDER, "")
            empty = Evaluator(self.term_ids, dict.fromkeys(_ORDER, nothing), texts, index=self)
            outcome = empty._composite(node, type(node), ALL_FIELDS)
            self.absent_clauses[id(outcome)] = clause_tree(outcome, self.absent_clauses)
            known = self.absent[id(node)] = (terms, outcome)
        return known


class Outcome(NamedTuple):
    """A clause's truth for one article (a tuple: one is made for every node of every topic
    evaluated, over a hundred an article at 100,000 topics, and a dataclass's `__init__` is
    Python code)."""

    node: Node
    matched: bool
    hits: list[Found]  # the occurrences that make the clause true (none for NOT)
    children: Sequence[Outcome] = ()


# `Outcome(*values)` without the Python-level `__new__`, as for `Found`; children always given.
_outcome: Callable[[tuple[Node, bool, list[Found], Sequence[Outcome]]], Outcome] = partial(
    tuple.__new__, Outcome
)


class Evaluator:
    """Evaluates trees for one article: its occurrences and folded field texts (for NEAR)."""

    def __init__(
        self,
        term_ids: TermIds,
        occurrences: Occurrences,
        texts: Mapping[str, str],
        words: Mapping[str, Words | None] | None = None,
        index: NodeIndex | None = None,
    ):
        self.term_ids = term_ids
        self.index = index
        self.occurrences = occurrences
        self.texts = texts
        self.words = words or {}
        # The terms present, per field scope (see `presence_test`); the compiled matcher's
        # occurrences carry their `present` set already, plain mappings are read once.
        title, body = (
            getattr(occurrences[name], "present", None) or set(occurrences[name]) for name in _ORDER
        )
        self.present = {"all": title | body, "title": title, "body": body, "none": set()}
        self._present_in = {fields: self.present[_scope(fields)] for fields in _FIELD_SCOPES}
        # NEAR outcomes by (node, fields): a topic's presence test works one out, and evaluating
        # the topic that then holds would work it out again.
        self._near: dict[tuple[int, frozenset[str]], Outcome] = {}
        # A term's hits by (term, label, fields): many topics share a term (and its label).
        self._term_cache: dict[tuple[int, str, frozenset[str]], list[Found]] = {}
        # Per field: how many gaps NEAR has counted words in, and then the field's word runs.
        self._counts: dict[str, int] = {}
        self._word_runs: dict[str, tuple[list[int], list[int]]] = {}

    def holds(self, node: Node, fields: frozenset[str] = ALL_FIELDS) -> bool:
        """Is the clause true? The same answer as `evaluate(...).matched`, without collecting hits
        (only NEAR needs positions): most candidate topics are settled by this alone."""
        if isinstance(node, TermNode):
            term_id = self.term_ids[id(node)]
            return any(term_id in self.occurrences[field_name] for field_name in fields)
        if isinstance(node, AliasNode):
            return any(self.holds(member, fields) for member in node.members)
        if isinstance(node, AndNode):
            return all(self.holds(child, fields) for child in node.children)
        if isinstance(node, OrNode):
            return any(self.holds(child, fields) for child in node.children)
        if isinstance(node, NotNode):
            return not self.holds(node.child, fields)
        if isinstance(node, FieldNode):
            return self.holds(node.child, fields & {node.field})
        if isinstance(node, NearNode):
            return (
                self.holds(node.left, fields)
                and self.holds(node.right, fields)
                and self.evaluate(node, fields).matched
            )
        raise TypeError(f"unknown node {node!r}")

    def evaluate(self, node: Node, fields: frozenset[str] = ALL_FIELDS) -> Outcome:
        """The clause's truth with the hits that make it true, and its children's outcomes."""
        # (Exact type tests, most frequent first: the nodes are final dataclasses, and this runs
        # for every node of every topic that holds.)
        kind = type(node)
        if kind is TermNode:
            hits = self._term_hits(node, fields)
            return _outcome((node, bool(hits), hits, ()))
        index = self.index
        if kind is AliasNode:
            if index is not None:
                hits = self._alias_hits(index.members(node), node, fields)
            else:
                hits = [hit for member in node.members for hit in self._term_hits(member, fields)]
            return _outcome((node, bool(hits), hits, ()))
        if index is not None:
            terms, absent = index.absent_outcome(node)
            if terms.isdisjoint(self.present["all"]):
                return absent
        return self._composite(node, kind, fields)

    def _composite(self, node: Node, kind: type, fields: frozenset[str]) -> Outcome:
        """`evaluate` for AND, OR, NOT, a field scope and NEAR: their children's outcomes combined."""
        if kind is AndNode or kind is OrNode:
            children = [self.evaluate(child, fields) for child in node.children]
            either = kind is OrNode
            hits = []
            matched = not either
            for child in children:
                if child.matched:
                    hits += child.hits
                    matched = matched or either
                elif not either:
                    matched = False
            return _outcome((node, matched, hits if matched or either else [], children))
        if isinstance(node, NotNode):
            child = self.evaluate(node.child, fields)
            return _outcome((node, not child.matched, [], (child,)))
        if isinstance(node, FieldNode):
            child = self.evaluate(node.child, fields & {node.field})
            return _outcome((node, child.matched, child.hits, (child,)))
        if isinstance(node, NearNode):
            key = (id(node), fields)
            known = self._near.get(key)
            if known is None:
                left, right = self.evaluate(node.left, fields), self.evaluate(node.right, fields)
                hits = (
                    self._near_hits(left.hits, right.hits, node.distance)
                    if left.matched and right.matched
                    else []
                )
                known = self._near[key] = _outcome((node, bool(hits), hits, (left, right)))
            return known
        raise TypeError(f"unknown node {node!r}")

    def _alias_hits(self, members: AliasMembers, node: AliasNode, fields: frozenset[str]) -> list[Found]:
        """The hits of the alias's members present in `fields`, in the alias's order: what every
        member's `_term_hits` in turn gives, without visiting the members that are absent."""
        present = members.term_ids & self._present_in[fields]
        if not present:
            return []
        positions = members.positions
        if len(present) == 1:
            (term_id,) = present
            order: Iterable[int] = positions[term_id]
        else:
            order = sorted(position for term_id in present for position in positions[term_id])
        return [hit for position in order for hit in self._term_hits(node.members[position], fields)]

    def _term_hits(self, node: TermNode, fields: frozenset[str]) -> list[Found]:
        # (The lists are shared between outcomes: nothing appends to an outcome's hits.)
        key = (self.term_ids[id(node)], node.label, fields)
        known = self._term_cache.get(key)
        if known is None:
            term_id, label, _ = key
            known = self._term_cache[key] = [
                _found((field_name, start, end, label))
                for field_name in _ORDER
                if field_name in fields
                for start, end in self.occurrences[field_name].get(term_id, ())
            ]
        return known

    def _within(self, field_name: str, start: int, end: int, distance: int) -> bool:
        """At most `distance` words in text[start:end]? Stops counting at distance + 1 words."""
        if end <= start:
            return True
        japanese = self.words.get(field_name)
        allowed = distance - (japanese.cjk_words_between(start, end) if japanese is not None else 0)
        if allowed < 0:
            return False
        runs = self._word_runs.get(field_name)
        if runs is None:
            # Counting the gap's words costs at most distance + 1 steps, and finding all the field's
            # word runs once costs more than a few counts (0.5 ms for a 5 KB body): the runs are
            # only found for a field asked about often (many NEARs of many topics).
            self._counts[field_name] = counted = self._counts.get(field_name, 0) + 1
            if counted <= _COUNTS_BEFORE_RUNS:
                words = _SPACED_WORD.finditer(self.texts[field_name], start, end)
                return sum(1 for _ in islice(words, allowed + 1)) <= allowed
            runs = self._word_runs[field_name] = word_runs(self.texts[field_name])
        # The runs that text[start:end] holds a part of: each is one match of the count above.
        run_starts, run_ends = runs
        return bisect_left(run_starts, end) - bisect_right(run_ends, start) <= allowed

    def _near_hits(self, left: list[Found], right: list[Found], distance: int) -> list[Found]:
        """The hits of either side that have a hit of the other side within `distance` words."""
        kept: list[Found] = []
        for field_name in _ORDER:
            ours = sorted((hit for hit in left if hit.field == field_name), key=lambda hit: hit.start)
            theirs = sorted((hit for hit in right if hit.field == field_name), key=lambda hit: hit.start)
            if not ours or not theirs:
                continue
            kept.extend(self._near_side(field_name, ours, theirs, distance))
            kept.extend(self._near_side(field_name, theirs, ours, distance))
        return kept

    def _near_side(
        self, field_name: str, ours: list[Found], theirs: list[Found], distance: int
    ) -> list[Found]:
        starts = [hit.start for hit in theirs]
        ends = sorted(hit.end for hit in theirs)
        return [hit for hit in ours if self._near_one(field_name, hit.start, hit.end, starts, ends, distance)]

    def _near_one(
        self, field_name: str, start: int, end: int, starts: list[int], ends: list[int], distance: int
    ) -> bool:
        """Is the hit at start:end within `distance` words of one of the others (their sorted starts
        and sorted ends)? Only the nearest other hit on each side needs checking: a farther one has
        at least as many words in between. Others that overlap ours are at distance 0."""
        after = bisect_left(starts, end)  # others starting before our end: theirs[:after]
        before = bisect_right(ends, start)  # others ending at or before our start
        if after > before:
            return True
        if after < len(starts) and self._within(field_name, end, starts[after], distance):
            return True
        return before > 0 and self._within(field_name, ends[before - 1], start, distance)

    def near_holds(self, node: NearNode, fields: frozenset[str], sides: NearSides) -> bool:
        """`evaluate(node, fields).matched` for a NEAR whose two sides' hits are all their terms'
        occurrences (`near_sides`), from the spans alone: the presence test of a topic asks this of
        many NEARs that fail, and needs neither hits nor outcomes for them."""
        known = self._near.get((id(node), fields))
        if known is not None:
            return known.matched
        for field_name, left_ids, right_ids in sides:
            occurrences = self.occurrences[field_name]
            ours = [span for term_id in left_ids for span in occurrences.get(term_id, ())]
            if not ours:
                continue
            theirs = [span for term_id in right_ids for span in occurrences.get(term_id, ())]
            if not theirs:
                continue
            # One direction is enough: `_near_hits` keeps the hits of either side that are near,
            # but being near is symmetric (the same gap, or an overlap), so either side has such a
            # hit exactly when the other has.
            starts = sorted(start for start, _ in theirs)
            ends = sorted(end for _, end in theirs)
            for start, end in ours:
                if self._near_one(field_name, start, end, starts, ends, node.distance):
                    return True
        return False


# Per field: the terms whose occurrences are the hits of a NEAR's left side and of its right side.
NearSides = tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...]


def _side_terms(node: Node, term_ids: TermIds, fields: frozenset[str]) -> list[tuple[str, int]] | None:
    """The (field, term) pairs whose occurrences are exactly the hits `Evaluator.evaluate` gives the
    node, for a node made of terms, aliases, OR and field scopes; None for any other node (an AND's
    hits depend on every child holding, a NOT has none)."""
    if isinstance(node, TermNode):
        return [(name, term_ids[id(node)]) for name in _ORDER if name in fields]
    if isinstance(node, AliasNode):
        return [(name, term_ids[id(member)]) for member in node.members for name in _ORDER if name in fields]
    if isinstance(node, OrNode):
        pairs: list[tuple[str, int]] = []
        for child in node.children:
            found = _side_terms(child, term_ids, fields)
            if found is None:
                return None
            pairs += found
        return pairs
    if isinstance(node, FieldNode):
        return _side_terms(node.child, term_ids, fields & {node.field})
    return None


def near_sides(node: NearNode, term_ids: TermIds, fields: frozenset[str]) -> NearSides | None:
    """What `Evaluator.near_holds` reads for this NEAR, or None when a side's hits are not simply
    its terms' occurrences."""
    left, right = _side_terms(node.left, term_ids, fields), _side_terms(node.right, term_ids, fields)
    if left is None or right is None:
        return None
    return tuple(
        (
            name,
            tuple(dict.fromkeys(term_id for field_name, term_id in left if field_name == name)),
            tuple(dict.fromkeys(term_id for field_name, term_id in right if field_name == name)),
        )
        for name in _ORDER
        if name in fields
    )


PresenceTest = Callable[[Evaluator], bool]
# After this many word counts in one field, NEAR bisects the field's word runs instead.
_COUNTS_BEFORE_RUNS = 16


def word_runs(text: str) -> tuple[list[int], list[int]]:
    """The starts and the ends of `_SPACED_WORD`'s matches in `text` (both sorted: the runs are
    disjoint): the matches in text[start:end] are one per run that starts before `end` and ends
    after `start`."""
    spans = [found.span() for found in _SPACED_WORD.finditer(text)]
    return [start for start, _ in spans], [end for _, end in spans]


def _scope(fields: frozenset[str]) -> str:
    return "all" if fields == ALL_FIELDS else next(iter(fields)) if fields else "none"


# Every field scope a clause can be evaluated in: all fields, one of them, or none.
_FIELD_SCOPES = (ALL_FIELDS, *(frozenset({name}) for name in _ORDER), frozenset())


def presence_test(node: Node, term_ids: TermIds, fields: frozenset[str] = ALL_FIELDS) -> PresenceTest:
    """`Evaluator.holds` for one tree, compiled once into closures: a topic's test is then a few
    set lookups per article (an alias is one `isdisjoint`), with positions only for NEAR."""
    scope = _scope(fields)
    if isinstance(node, TermNode):
        term_id = term_ids[id(node)]
        return lambda evaluator: term_id in evaluator.present[scope]
    if isinstance(node, AliasNode):
        members = frozenset(term_ids[id(member)] for member in node.members)
        return lambda evaluator: not members.isdisjoint(evaluator.present[scope])
    if isinstance(node, AndNode | OrNode):
        tests = tuple(presence_test(child, term_ids, fields) for child in node.children)
        # Two or three children (the usual case) without a generator per call.
        if isinstance(node, AndNode):
            if len(tests) == 2:
                first, second = tests
                return lambda evaluator: first(evaluator) and second(evaluator)
            if len(tests) == 3:
                first, second, third = tests
                return lambda evaluator: first(evaluator) and second(evaluator) and third(evaluator)
            return lambda evaluator: all(test(evaluator) for test in tests)
        if len(tests) == 2:
            first, second = tests
            return lambda evaluator: first(evaluator) or second(evaluator)
        if len(tests) == 3:
            first, second, third = tests
            return lambda evaluator: first(evaluator) or second(evaluator) or third(evaluator)
        return lambda evaluator: any(test(evaluator) for test in tests)
    if isinstance(node, NotNode):
        inner = presence_test(node.child, term_ids, fields)
        return lambda evaluator: not inner(evaluator)
    if isinstance(node, FieldNode):
        return presence_test(node.child, term_ids, fields & {node.field})
    if isinstance(node, NearNode):
        # Both sides must be present in one same field before positions are worth working out.
        in_field = [
            (
                presence_test(node.left, term_ids, frozenset({name})),
                presence_test(node.right, term_ids, frozenset({name})),
            )
            for name in _ORDER
            if name in fields
        ]
        both_present = _either_pair(in_field)
        sides = near_sides(node, term_ids, fields)
        if sides is not None:
            return lambda evaluator: both_present(evaluator) and evaluator.near_holds(node, fields, sides)
        return lambda evaluator: both_present(evaluator) and evaluator.evaluate(node, fields).matched
    raise TypeError(f"unknown node {node!r}")


def _either_pair(pairs: list[tuple[PresenceTest, PresenceTest]]) -> PresenceTest:
    """A test that holds when both tests of one of the pairs hold (one pair per field: the usual
    two without a generator per call, as this runs for every NEAR of every candidate)."""
    if len(pairs) == 2:
        (title_left, title_right), (body_left, body_right) = pairs
        return lambda evaluator: (
            (title_left(evaluator) and title_right(evaluator))
            or (body_left(evaluator) and body_right(evaluator))
        )
    if len(pairs) == 1:
        ((left, right),) = pairs
        return lambda evaluator: left(evaluator) and right(evaluator)
    return lambda evaluator: any(left(evaluator) and right(evaluator) for left, right in pairs)


def distinct_hits(hits: Iterable[Found]) -> list[Found]:
    """Each mention once: overlapping hits (the phrase and a word inside it) count as one, the longest."""
    ordered = sorted(hits, key=lambda hit: (hit.field, hit.start, -hit.end))
    kept: list[Found] = []
    for hit in ordered:
        if kept and kept[-1].field == hit.field and hit.start < kept[-1].end:
            continue
        kept.append(hit)
    return kept


def score(hits: Sequence[Found]) -> float:
    return sum(FIELD_WEIGHTS[hit.field] for hit in hits)


# --- substance: is the article about the topic, or does it only mention it? -----------------------

# The length at which a topic needs exactly its `min_score`: a typical news story.
REFERENCE_WORDS = 300


def required_score(min_score: float, words: int) -> float:
    """The score an article of `words` words needs: `min_score` at REFERENCE_WORDS, growing with the
    square root of the length. A two-sentence feed summary needs about a third of it (never less
    than one mention), a 1,200-word feature twice it: mentions are expected to grow with length,
    but a long story about the topic does not repeat every term in every paragraph."""
    if min_score <= 0:
        return 0.0
    return max(min(1.0, min_score), min_score * math.sqrt(max(words, 1) / REFERENCE_WORDS))


def needed_for_display(required: float) -> str:
    """The score a topic needs, rounded up to hundredths: rounded to the nearest, 1.04 would read
    "score 1 is below the 1.0 needed"."""
    return f"{math.ceil(required * 100 - 1e-9) / 100:g}"


@dataclass(frozen=True, slots=True)
class Substance:
    """What the decision between "about the topic" and "a passing mention" rests on."""

    score: float
    required: float
    words: int
    paragraphs: int  # paragraphs of the body
    paragraphs_with_hits: int
    title_hits: int
    lead_hits: int  # hits in the first paragraph, where news states its subject
    # Of the one paragraph that holds every body hit (0 when hits are spread wider or absent):
    sentences_in_paragraph: int = 0
    sentences_with_hits: int = 0
    hits_in_paragraph: int = 0  # distinct body hits, all in that one paragraph

    @property
    def topic_runs_through_paragraph(self) -> bool:
        """Hits in three sentences of the paragraph, or in both of a two-sentence paragraph with
        two mentions a sentence between them: the paragraph is about the topic (the definitions
        count one paragraph of real content). One mention in each of two sentences is the shape of
        a closing reaction ("the prime minister hopes to strengthen the alliance; officials fear
        calls to spend more on defence") or of a place named twice, each sentence carrying one
        word of the topic's context, not a paragraph about it."""
        spread = self.sentences_with_hits
        return spread >= 3 or (spread == 2 == self.sentences_in_paragraph and self.hits_in_paragraph >= 4)

    @property
    def passing_mention(self) -> bool:
        """Every hit in one paragraph of several, and that not the lead, none in the title, and
        the topic not running through that paragraph: a clause in a story about something else."""
        confined = self.paragraphs > 1 and self.paragraphs_with_hits < 2
        return (
            confined
            and self.title_hits == 0
            and self.lead_hits == 0
            and not self.topic_runs_through_paragraph
        )

    @property
    def enough(self) -> bool:
        return self.score >= self.required and not self.passing_mention

    def reasons(self) -> list[str]:
        reasons = []
        if self.score < self.required:
            reasons.append(
                f"score {self.score:g} is below the {needed_for_display(self.required)} "
                f"needed for {self.words} words"
            )
        if self.passing_mention:
            reasons.append(
                f"a passing mention: every hit is in one paragraph of {self.paragraphs}, "
                f"in {self.sentences_with_hits} of its {self.sentences_in_paragraph} sentences, "
                "none in the title or the lead"
            )
        return reasons


def paragraph_starts(text: str) -> list[int]:
    """Where each non-empty line (a paragraph, as extraction and feeds deliver text) starts."""
    starts = []
    position = 0
    for line in text.split("\n"):
        if line.strip():
            starts.append(position)
        position += len(line) + 1
    return starts


_SENTENCE_END = re.compile(r"[。！？]|(?P<stop>[.!?])[\"')」]*(?=\s)")
_NEXT_TEXT = re.compile(r"\S")
_WORD_BEFORE = re.compile(r"([^\s\"'(]+)$")
# What ends the word before a full stop, with whitespace (`\s` is `str.isspace`).
_WORD_STOPS = frozenset("\"'(")
# Words a full stop follows without ending the sentence (titles, months, initials).
_ABBREVIATIONS = frozenset(
    {"mr", "ms", "mrs", "dr", "st", "no", "gen", "adm", "col", "lt", "sgt", "maj", "capt", "rep", "sen"}
    | {"gov", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
    | {"vs", "etc", "inc", "corp", "co", "jr", "sr"}
)


def _word_before(text: str, end: int) -> str:
    """The run of characters other than spaces, quotes and "(" that ends at `end` (what
    `_WORD_BEFORE` finds searching from the start). `re` cannot search backwards, and searching
    from the start of the text for every full stop made a long body quadratic (a third of the
    matcher's time at 100,000 topics); a word is a few characters, so walk back over it."""
    if end > 0 and text[end - 1] == "\n":
        end -= 1  # (as `$` matches before a string's final newline)
    start = end
    while start > 0 and not (text[start - 1] in _WORD_STOPS or text[start - 1].isspace()):
        start -= 1
    return text[start:end]


def sentence_starts(text: str, paragraphs: Sequence[int]) -> list[int]:
    """Where each sentence of folded (lower-case) text starts: each paragraph, and the first
    character after 。！？ or after a full stop, ! or ? and a space, unless the word before the stop
    is an abbreviation or an initial (u.s., gen., nov.)."""
    starts = set(paragraphs)
    for end in _SENTENCE_END.finditer(text):
        if end.group("stop") == ".":
            word = _word_before(text, end.start())
            if word in _ABBREVIATIONS or "." in word or (len(word) <= 1 and word.isalpha()):
                continue
        following = _NEXT_TEXT.search(text, end.end())
        if following is not None and "\n" not in text[end.end() : following.start()]:
            starts.add(following.start())
    return sorted(starts)


def substance(
    hits: Sequence[Found], min_score: float, words: int, paragraphs: Sequence[int], sentences: Sequence[int]
) -> Substance:
    """`hits` are the distinct positive hits of a topic; `paragraphs` and `sentences` the starts of
    the body's paragraphs and sentences (`sentence_starts`)."""
    body_hits = [hit.start for hit in hits if hit.field == "body"]
    with_hits = [bisect_right(paragraphs, start) for start in body_hits]
    # (bisect_right gives 1 for the first paragraph, 0 for text before it: both are the lead.)
    lead = sum(1 for index in with_hits if index <= 1)
    in_paragraph = with_hit = 0
    distinct_paragraphs = len(set(with_hits))
    if distinct_paragraphs == 1:
        index = with_hits[0]
        opening = paragraphs[index - 1] if index >= 1 else 0
        closing = paragraphs[index] if index < len(paragraphs) else math.inf
        in_paragraph = sum(1 for start in sentences if opening <= start < closing)
        with_hit = len({bisect_right(sentences, start) for start in body_hits})
    return Substance(
        score=score(hits),
        required=required_score(min_score, words),
        words=words,
        paragraphs=len(paragraphs),
        paragraphs_with_hits=distinct_paragraphs,
        title_hits=len(hits) - len(body_hits),  # (a hit is in the title or the body)
        lead_hits=lead,
        sentences_in_paragraph=in_paragraph,
        sentences_with_hits=with_hit,
        hits_in_paragraph=len(body_hits) if distinct_paragraphs == 1 else 0,
    )


def count_words(text: str, japanese: Words | None) -> int:
    """Words of spaced scripts plus Japanese words as the analyser cut them."""
    return spaced_words(text) + (len(japanese.cjk_starts) if japanese is not None else 0)


# ASCII bytes: letters and digits stay, everything else (the underscore too) becomes a space.
_ASCII_WORD_BYTES = bytes(code if chr(code).isalnum() else 32 for code in range(128)) + bytes(range(128, 256))
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_NOT_WORD_CHAR = re.compile(r"[\W_]")
_CJK = re.compile(f"[{CJK_RANGES}]")


def spaced_words(text: str) -> int:
    """How many runs of spaced-script word characters `text` holds: `_SPACED_WORD`'s matches.

    Iterating the regex's matches cost 0.5 ms for a 5 KB body, more than matching it against
    1,000 topics; splitting bytes costs a tenth of that. Without Japanese (or other CJK) text, a
    word is a run of letters and digits, so every other character can become a space: ASCII ones
    by one translation, the few non-ASCII runs (quotes, dashes, accented words) by a regex each,
    and non-ASCII letters left as bytes of 0x80 and above, which are never spaces."""
    if text.isascii():
        return len(text.encode("ascii").translate(_ASCII_WORD_BYTES).split())
    if _CJK.search(text) is not None:
        return sum(1 for _ in _SPACED_WORD.finditer(text))
    spaced = _NON_ASCII_RUN.sub(lambda run: _NOT_WORD_CHAR.sub(" ", run.group()), text)
    return len(spaced.encode("utf-8").translate(_ASCII_WORD_BYTES).split())


# --- explanation -------------------------------------------------------------------


_OPS: dict[type, str] = {
    TermNode: "term",
    AliasNode: "alias",
    AndNode: "and",
    OrNode: "or",
    NotNode: "not",
    NearNode: "near",
    FieldNode: "field",
}


def _labels(hits: Iterable[Found]) -> list[str]:
    labels: list[str] = []
    for hit in hits:
        if hit.label not in labels:
            labels.append(hit.label)
    return labels


@lru_cache(maxsize=65_536)
def _term_clause(source: str, label: str, count: int) -> Clause:
    # A term's clause depends on these alone, and many topics share a term: a frozen Clause is made
    # once for each, not for every match (a clause tree is built for every match of every article).
    return Clause(source, "term", count > 0, (label,) if count else (), count, None, None, ())


def clause_tree(outcome: Outcome, known: Mapping[int, Clause] = MappingProxyType({})) -> Clause:
    """The outcome as nested clauses: what each part of the query found. `known`: clauses already
    built, by id(outcome) (`NodeIndex.absent_clauses`)."""
    settled = known.get(id(outcome))
    if settled is not None:
        return settled
    node = outcome.node
    kind = type(node)
    counted = outcome.hits
    terms: tuple[str, ...] = ()
    if kind is TermNode:
        # Every hit of a term carries its label (`Evaluator._term_hits`), and it holds if it has hits.
        return _term_clause(node.source, node.label, len(counted))
    if kind is AliasNode:
        terms = tuple(_labels(counted))
    elif kind is NotNode:
        counted = outcome.children[0].hits
        terms = tuple(_labels(counted))
    # (Positional, and the children as a list first: this runs for every node of every match.)
    return Clause(
        node.source,
        _OPS[kind],
        outcome.matched,
        terms,
        len(counted),
        node.distance if kind is NearNode else None,
        node.field if kind is FieldNode else None,
        tuple([clause_tree(child, known) for child in outcome.children]),
    )


def reasons_not_matched(outcome: Outcome) -> list[str]:
    """Why a clause is false, in the operator's words (empty if it is true)."""
    if outcome.matched:
        return []
    node = outcome.node
    if isinstance(node, TermNode | AliasNode):
        return [f"not found: {node.source}"]
    if isinstance(node, AndNode):
        return [reason for child in outcome.children for reason in reasons_not_matched(child)]
    if isinstance(node, OrNode):
        inner = [reason for child in outcome.children for reason in reasons_not_matched(child)]
        return ["none of the alternatives holds: " + "; ".join(inner)]
    if isinstance(node, NotNode):
        found = _labels(outcome.children[0].hits)
        if found == [node.child.source]:
            return [f"excluded term present: {node.child.source}"]
        return [f"excluded term present: {node.child.source} ({', '.join(found)})"]
    if isinstance(node, FieldNode):
        return [f"in the {node.field}: {reason}" for reason in reasons_not_matched(outcome.children[0])]
    if isinstance(node, NearNode):
        left, right = outcome.children
        if not (left.matched and right.matched):
            return reasons_not_matched(left) + reasons_not_matched(right)
        return [
            f"{node.left.source} and {node.right.source} both occur, "
            f"but never within {node.distance} words of each other"
        ]
    raise TypeError(f"unknown node {node!r}")
