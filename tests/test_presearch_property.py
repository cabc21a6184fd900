"""Presearch never changes a verdict: for random queries of the whole grammar (aliases, phrases,
prefixes, case-sensitive acronyms, Japanese, NOT, NEAR, field scopes, #topic references) over random
English and Japanese text, `match` (presearch, then only the candidates) gives exactly the matched
verdicts of full evaluation, explanations included, and every topic whose query holds has one of
its anchors in the text."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from pipeline.match import Matcher
from pipeline.match.normalize import normalise
from pipeline.match.presearch import anchor_terms, could_match
from pipeline.models import Verdict
from tests.support.articles import article

QUERY_TERMS = [
    "force",
    "headquarters",
    "upgrade",
    "Kadena",
    "reorganisation",
    "defence",
    "alliance",
    "baseball",
    '"joint force headquarters"',
    '"U.S. Forces Japan"',
    "reorgani*",
    "base*",
    "=US",
    "USFJ",
    "U.S.",
    "在日米軍",
    "統合軍司令部",
    "司令部",
    "再編",
]
ALIASES = {"usfj": ["USFJ", "U.S. Forces Japan", "在日米軍"], "bases": ["Kadena", "Okinawa base*"]}
TEXT_TOKENS = [
    "force",
    "forces",
    "Force",
    "headquarters",
    "upgrade",
    "upgrades",
    "Kadena",
    "Okinawa",
    "reorganisation",
    "reorganization",
    "reorganized",
    "defense",
    "defence",
    "alliance",
    "bases",
    "base",
    "baseball",
    "US",
    "us",
    "U.S.",
    "u.s.",
    "USFJ",
    "U.S.F.J.",
    "joint",
    "Forces",
    "Japan",
    "在日米軍",
    "統合軍司令部",
    "司令部",
    "再編",
    "は",
    "を",
    "。",
    "the",
    "a",
    "—",
    ",",
    "\n",
]


@dataclass
class _Topic:
    query: str
    min_score: float
    all: list[str] = field(default_factory=list)
    any: list[str] = field(default_factory=list)
    none: list[str] = field(default_factory=list)


@st.composite
def _operand(draw: st.DrawFn, topics: int) -> str:
    """A term, an alias or another topic: what NEAR and field scopes take (no topic for NEAR)."""
    roll = draw(st.integers(0, 9))
    if roll < 7:
        return draw(st.sampled_from(QUERY_TERMS))
    if roll < 9 or topics == 0:
        return "@" + draw(st.sampled_from(sorted(ALIASES)))
    return f"(#topic{draw(st.integers(0, topics - 1))})"


@st.composite
def _positive(draw: st.DrawFn, topics: int, depth: int = 0) -> str:
    """A clause that needs some term to be true (the parser refuses anything else at the top)."""
    roll = draw(st.integers(0, 9 if depth < 3 else 2))
    if roll <= 2:
        return draw(_operand(topics))
    if roll == 3:
        scope = draw(st.sampled_from(["title:", "body:"]))
        return scope + draw(st.sampled_from([*QUERY_TERMS, "@usfj"]))
    if roll == 4:
        left = draw(st.sampled_from([*QUERY_TERMS, "@bases"]))
        right = draw(st.sampled_from([*QUERY_TERMS, "@usfj"]))
        return f"({left} NEAR/{draw(st.integers(0, 6))} {right})"
    if roll <= 6:
        parts = draw(st.lists(_positive(topics, depth + 1), min_size=2, max_size=3))
        return "(" + " OR ".join(parts) + ")"
    first = draw(_positive(topics, depth + 1))
    second = draw(_positive(topics, depth + 1))
    if roll == 7:
        return f"({first} AND NOT {second})"
    return f"({first} AND {second})"


@st.composite
def _topics(draw: st.DrawFn) -> dict[str, _Topic]:
    count = draw(st.integers(1, 5))
    return {
        f"topic{index}": _Topic(draw(_positive(index)), draw(st.sampled_from([0.0, 1.0, 2.0])))
        for index in range(count)
    }


@st.composite
def _text(draw: st.DrawFn, most: int) -> str:
    tokens = draw(st.lists(st.sampled_from(TEXT_TOKENS), max_size=most))
    joints = draw(st.lists(st.sampled_from([" ", " ", " ", ""]), min_size=len(tokens), max_size=len(tokens)))
    return "".join(token + joint for token, joint in zip(tokens, joints, strict=True))


def _summary(verdicts: list[Verdict]) -> list[tuple[object, ...]]:
    return [
        (verdict.topic, verdict.score, [(hit.field, hit.start, hit.end, hit.term) for hit in verdict.hits])
        for verdict in verdicts
    ]


@settings(max_examples=250, deadline=None)
@given(topics=_topics(), title=_text(8), body=_text(60))
@example(
    topics={"topic0": _Topic("@usfj AND (reorgani* OR 再編) NOT baseball", 1.0)},
    title="USFJ reorganization",
    body="在日米軍の再編 the U.S. Forces Japan headquarters",
)
def test_presearch_then_evaluate_gives_the_verdicts_of_full_evaluation(
    topics: dict[str, _Topic], title: str, body: str
) -> None:
    matcher = Matcher(topics, ALIASES)
    item = article(title, body)
    full = [verdict for verdict in matcher.evaluate(item) if verdict.matched]
    fast = matcher.match(item)
    assert _summary(fast) == _summary(full)
    # The whole verdicts too: explanation, clauses, substance and snippet, not only the hits.
    assert fast == full
    event("some topic matched" if full else "nothing matched")  # --hypothesis-show-statistics
    texts = [normalise(title).text, normalise(body).text]
    for verdict in matcher.evaluate(item):
        if verdict.explanation.clauses.matched:
            anchors = anchor_terms(matcher.topics[verdict.topic].tree)
            assert any(could_match(anchors, text) for text in texts), verdict.topic


def test_the_example_above_matches_so_the_property_is_not_vacuous() -> None:
    matcher = Matcher({"topic0": _Topic("@usfj AND (reorgani* OR 再編) NOT baseball", 1.0)}, ALIASES)
    item = article("USFJ reorganization", "在日米軍の再編 the U.S. Forces Japan headquarters")
    verdicts = matcher.match(item)
    assert [verdict.topic for verdict in verdicts] == ["topic0"]
