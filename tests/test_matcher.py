"""Matcher v1: all/any/none lists, whole words, aliases, normalisation, explanations."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import parse_config
from pipeline.extract import article_from_text
from pipeline.match import Matcher
from pipeline.match.explanation import Clause
from tests.support.articles import article

FIXTURES = Path(__file__).parents[1] / "fixtures"


def matcher(topic: dict[str, object], aliases: dict[str, list[str]] | None = None) -> Matcher:
    config = parse_config({"aliases": aliases or {}, "topics": {"t": topic}})
    return Matcher.from_topics(config.topics, config.aliases)


def verdict(
    topic: dict[str, object], title: str, body: str = "", aliases: dict[str, list[str]] | None = None
):
    return matcher(topic, aliases).evaluate(article(title, body))[0]


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("USFJ announces changes", True),
        ("usfj announces changes", True),  # case-insensitive
        ("ＵＳＦＪ announces changes", True),  # full-width letters (NFKC)
        ("USFJX is a different thing", False),  # whole words only
        ("The XUSFJ unit", False),
        ("(USFJ)", True),
    ],
)
def test_whole_word_case_insensitive(text: str, matched: bool) -> None:
    assert verdict({"any": ["USFJ"]}, text).matched is matched


@pytest.mark.parametrize(
    "text",
    [
        "joint force headquarters",
        "Joint-Force Headquarters",
        "joint  force\nheadquarters",
        "joint‑force headquarters",
    ],
)
def test_phrases_tolerate_spacing_hyphens_and_case(text: str) -> None:
    assert verdict({"any": ["joint force headquarters"]}, text).matched


def test_phrase_words_must_be_adjacent() -> None:
    assert not verdict(
        {"any": ["joint force headquarters"]}, "joint exercises by the force headquarters"
    ).matched


def test_all_any_none() -> None:
    topic = {"all": ["Japan"], "any": ["alliance", "treaty"], "none": ["baseball"]}
    assert verdict(topic, "Japan alliance talks").matched
    assert not verdict(topic, "Japan talks").matched  # no 'any' term
    assert not verdict(topic, "alliance talks").matched  # missing 'all'
    outcome = verdict(topic, "Japan alliance of baseball leagues")
    assert not outcome.matched
    assert outcome.explanation.reasons_not_matched == ("excluded term present: baseball",)


def test_alias_is_any_of_its_terms() -> None:
    aliases = {"usfj": ["USFJ", "U.S. Forces Japan", "在日米軍"]}
    assert verdict({"all": ["@usfj"]}, "U.S. Forces Japan reorganises", aliases=aliases).matched
    assert verdict({"all": ["@usfj"]}, "防衛省は在日米軍の再編を発表した", aliases=aliases).matched
    assert not verdict({"all": ["@usfj"]}, "U.S. Forces Korea reorganises", aliases=aliases).matched


def test_japanese_terms_match_inside_unspaced_text() -> None:
    assert verdict({"any": ["統合軍司令部"]}, "在日米軍を統合軍司令部に改編する計画").matched


def test_prefix_wildcard() -> None:
    assert verdict({"any": ["reorgani*"]}, "a major reorganisation").matched
    assert verdict({"any": ["reorgani*"]}, "they reorganized").matched
    assert not verdict({"any": ["reorgani*"]}, "disorganised").matched


def test_dash_and_quote_variants_are_one_character() -> None:
    for text in ("U.S.-Japan alliance", "U.S.–Japan alliance", "U.S.—Japan alliance"):
        assert verdict({"any": ["U.S.-Japan alliance"]}, text).matched, text
    assert verdict({"any": ["China's navy"]}, "China’s navy").matched


def test_score_weighs_title_hits_and_min_score() -> None:
    outcome = verdict({"any": ["USFJ"]}, "USFJ news", "USFJ said. USFJ added.")
    assert outcome.score == 3 + 1 + 1
    # min_score is what a story of 300 words needs; this one has 300 words and two mentions.
    body = "USFJ said. USFJ added. " + "Other words follow here. " * 74
    assert not verdict({"any": ["USFJ"], "min_score": 4}, "Other news", body).matched


def test_explanation_offsets_point_into_the_original_text() -> None:
    body = "Ｔｏｋｙｏ — the ＵＳＦＪ command said the USFJ plan is ready."
    outcome = verdict({"any": ["USFJ"]}, "headline", body)
    spans = [(hit.start, hit.end) for hit in outcome.explanation.hits]
    assert [body[start:end] for start, end in spans] == ["ＵＳＦＪ", "USFJ"]
    assert ("ＵＳＦＪ", True) in outcome.snippet
    assert outcome.explanation.clauses == Clause("USFJ", "term", True, ("USFJ",), 2)


def test_seed_article_matches_the_shipped_topic_and_the_unrelated_one_does_not() -> None:
    from tests.support.configs import shipped_document

    config = parse_config(shipped_document())
    shipped = Matcher.from_topics(config.topics, config.aliases)
    seed = article_from_text((FIXTURES / "articles" / "usfj-joint-force-hq.txt").read_text(), "seed")
    ramen = article_from_text((FIXTURES / "articles" / "tokyo-ramen-michelin.txt").read_text(), "ramen")
    # The seed is also squarely about the alliance ("strengthening the U.S.-Japan military alliance"),
    # and two of its paragraphs are on Japan's own build-up (the defence budget, missile defences on
    # the southwestern islands): a paragraph of real content is what the topic definitions ask for.
    assert [v.topic for v in shipped.match(seed)] == [
        "usfj-reorganisation",
        "us-japan-alliance",
        "japan-defence-buildup",
    ]
    assert shipped.match(ramen) == []


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("防衛省は「統合作戦司令部」が発足したと発表した", True),
        ("『統合作戦司令部』が発足", True),
        ("統合作戦司令部が発足", True),
        ("「統合作戦司令部」「発足」の二つ", False),  # two quotations side by side stay apart
    ],
)
def test_japanese_phrases_read_through_corner_brackets(text: str, matched: bool) -> None:
    assert verdict({"any": ["統合作戦司令部が発足"]}, text).matched is matched


def test_corner_brackets_keep_latin_words_apart_and_hits_point_at_the_original() -> None:
    body = "The「USFJ」plan: 政府は「USFJ」の再編を決めた"
    outcome = verdict({"any": ["USFJ"]}, "headline", body)
    assert [body[hit.start : hit.end] for hit in outcome.explanation.hits] == ["USFJ", "USFJ"]
    assert not verdict({"any": ["theusfj"]}, "headline", body).matched


@pytest.mark.parametrize(
    ("term", "text", "matched"),
    [
        ("F-35", "Japan to buy 105 more F-35s", True),
        ("SM-3", "two destroyers fired SM-3s off Hawaii", True),
        ("F-35A", "the first F-35As arrived at Misawa", True),
        ("MQ-9", "MQ-9s moved to Kadena", True),
        ("F-35 fighters", "F-35s fighters", True),  # inside a phrase too
        ("F-35", "F-35ss", False),
        ("F-35", "F-350 trucks", False),
    ],
)
def test_a_model_number_matches_its_plural(term: str, text: str, matched: bool) -> None:
    assert verdict({"any": [term]}, text).matched is matched


def test_a_terms_regex_is_compiled_when_first_tried_not_when_the_matcher_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Building the shipped watchlists' matcher compiled some 1,800 regexes, most never tried.
    import re

    from pipeline.match import terms

    compiled: list[str] = []

    def counting_compile(source: str) -> re.Pattern[str]:
        compiled.append(source)
        return re.compile(source)

    monkeypatch.setattr(terms, "_regex", counting_compile)
    built = matcher({"any": ["joint force headquarters", "zebra crossings", "orbital tether"]})
    assert compiled == []
    (found,) = built.match(article("A joint force headquarters opens", ""))
    assert [hit.text for hit in found.hits] == ["joint force headquarters"]
    assert len(compiled) == 1  # only the phrase whose first word occurs was tried
    built.match(article("The joint force headquarters again", ""))
    assert len(compiled) == 1  # and once only
