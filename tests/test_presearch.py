"""Presearch anchor sets: what each operator requires, and that a topic which matches always has one
of its anchors in the article (checked on the shipped watchlists over real and tricky text)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.match import Matcher
from pipeline.match.normalize import normalise
from pipeline.match.presearch import anchor_terms, could_match, length_rank
from pipeline.match.query import AndNode, NotNode, TopicTrees, parse_query, resolve_aliases
from tests.support.articles import article
from tests.support.configs import SHIPPED_CONFIG

ALIASES, _ = resolve_aliases(
    {"usfj": ["USFJ", "U.S. Forces Japan", "在日米軍"], "bases": ["Okinawa base*", "Kadena"]}
)


@pytest.mark.parametrize(
    ("query", "anchors"),
    [
        ("headquarters", {"headquarters"}),
        # A plain word also matches its plural: "force" is inside "forces".
        ("forces", {"force"}),
        # British and American spellings both count.
        ("defence", {"defence", "defense"}),
        # An acronym may be written with dots: "u.s" is inside "U.S." as folded.
        ("=US", {"us", "u.s"}),
        # A prefix: its literal part (and its other-side spellings).
        ("reorganis*", {"reorganis", "reorganiz"}),
        # A phrase: its longest word (every match contains each of its words).
        ('"joint force headquarters"', {"headquarters"}),
        ("統合軍司令部", {"統合軍司令部"}),
        # OR: any branch may be the one that matches.
        ("USFJ OR Kadena", {"usfj", "u.s.f.j", "kadena"}),
        # AND: one child's set suffices; the more telling one is kept.
        ("US AND headquarters", {"headquarters"}),
        ("USFJ AND (reorgani* OR upgrade)", {"reorgani", "upgrade"}),
        # NOT contributes nothing: the other child decides.
        ("USFJ NOT baseball", {"usfj", "u.s.f.j"}),
        ("Kadena NEAR/5 US", {"kadena"}),
        ("title:Kadena", {"kadena"}),
        ("@usfj", {"usfj", "u.s.f.j", "forces", "在日米軍"}),
        ("@usfj OR @bases", {"usfj", "u.s.f.j", "forces", "在日米軍", "okinawa", "kadena"}),
        ("(US OR USA) AND headquarters", {"headquarters"}),
        # A string that contains another adds nothing, in either script.
        ("司令部 OR 在日米軍司令部 OR Yokota OR Yokota-based", {"司令部", "yokota"}),
        ('"在日 USFJ" OR 在日USFJ司令部 OR USFJ', {"usfj", "u.s.f.j"}),
    ],
)
def test_anchor_sets_by_operator(query: str, anchors: set[str]) -> None:
    assert anchor_terms(parse_query(query, ALIASES)) == frozenset(anchors)


def test_a_not_alone_has_no_anchor_set_and_an_or_with_such_a_branch_has_none_either() -> None:
    tree = parse_query("Kadena AND NOT baseball", ALIASES)
    assert isinstance(tree, AndNode) and isinstance(tree.children[1], NotNode)
    assert anchor_terms(tree.children[1]) is None
    # An OR whose branch could hold through NOT alone: nothing is necessary.
    branch = tree.children[1]
    assert anchor_terms(AndNode((branch, branch), "NOT baseball NOT baseball")) is None


def test_the_rank_decides_which_child_of_an_and_anchors_it() -> None:
    tree = parse_query("headquarters AND Kadena", ALIASES)
    assert anchor_terms(tree) == {"headquarters"}
    # With word frequencies (here: "headquarters" common) the rarer child wins.
    common = {"headquarters": 0.5}

    def by_frequency(anchors: frozenset[str]) -> tuple[float, ...]:
        return (sum(common.get(anchor, 0.001) for anchor in anchors), *length_rank(anchors))

    assert anchor_terms(tree, by_frequency) == {"kadena"}


@dataclass
class _Topic:
    query: str | None
    all: list[str] = field(default_factory=list)
    any: list[str] = field(default_factory=list)
    none: list[str] = field(default_factory=list)


def test_a_topic_reference_brings_the_referenced_topics_set() -> None:
    trees = TopicTrees(
        {
            "usfj": _Topic('@usfj AND "joint force headquarters"'),
            "wider": _Topic("#usfj OR Kadena"),
            "narrower": _Topic("#usfj AND US"),
        },
        ALIASES,
    )
    assert anchor_terms(trees.tree("wider")) == {"headquarters", "kadena"}
    assert anchor_terms(trees.tree("narrower")) == {"headquarters"}


def test_could_match_is_a_substring_test_over_folded_text() -> None:
    text = normalise("The U.S.-Japan alliance and ＵＳＦＪ’s reorganisation").text
    assert could_match(frozenset({"usfj"}), text)
    assert could_match(frozenset({"u.s"}), text)
    assert not could_match(frozenset({"kadena", "okinawa"}), text)
    assert could_match(None, text)


TEXTS = [
    article("U.S.–Japan alliance: USFJ upgrade", "The U.S.-Japan alliance… USFJ’s reorganisation into a HQ."),
    article("Ｕ．Ｓ． forces", "在日米軍USFJ司令部を統合軍司令部に再編。US troops, us, Us, U.S.A., u.s."),
    article("forces force forces'", "joint force headquarters joint force headquarters headquarters"),
    article("", "defence defense defences programme programs armoured armored travelled traveled"),
    article("e\u0301te\u0301 ﬁne ﾄｳｷｮｳ", "café USFJ—reorganization… “USFJ” (USFJ) [USFJ] USFJ's USFJs"),
] + [
    article(path.stem.replace("-", " "), path.read_text(encoding="utf-8"))
    for path in sorted((Path(__file__).resolve().parents[1] / "fixtures" / "articles").glob("*.txt"))
]


def test_every_shipped_topic_that_holds_has_an_anchor_in_the_article() -> None:
    config = load_config(SHIPPED_CONFIG)
    matcher = Matcher(config.topics, config.aliases)
    held = 0
    for item in TEXTS:
        texts = [normalise(item.title).text, normalise(item.body).text]
        for verdict in matcher.evaluate(item):
            anchors = anchor_terms(matcher.topics[verdict.topic].tree)
            assert anchors is not None, verdict.topic
            if verdict.explanation.clauses.matched:
                held += 1
                assert any(could_match(anchors, text) for text in texts), (verdict.topic, item.title)
    assert held > 0  # the check above was exercised
