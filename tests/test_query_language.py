"""The query language: every operator, every normalisation, parser errors with their column."""

from __future__ import annotations

import pytest

from pipeline.config import ConfigError, parse_config
from pipeline.match import Matcher, QueryError
from pipeline.match.query import parse_query
from pipeline.models import Verdict
from tests.support.articles import article

ALIASES = {
    "usfj": ["USFJ", "U.S. Forces Japan", "United States Forces Japan", "US Forces in Japan", "在日米軍"],
    "reorg": ["reorgani*", "joint force headquarters", "統合軍司令部"],
    "usfj-or-reorg": ["@usfj", "@reorg"],
}


def judge(query: str, title: str, body: str = "", **topic: object) -> Verdict:
    config = parse_config({"aliases": ALIASES, "topics": {"t": {"query": query, **topic}}})
    return Matcher.from_topics(config.topics, config.aliases).evaluate(article(title, body))[0]


def matches(query: str, title: str, body: str = "", **topic: object) -> bool:
    return judge(query, title, body, **topic).matched


# --- operators ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("USFJ AND headquarters", "USFJ plans a new headquarters", True),
        ("USFJ AND headquarters", "USFJ plans a new base", False),
        ("USFJ headquarters", "the headquarters of USFJ", True),  # neighbouring terms: implicit AND
        ("USFJ headquarters", "USFJ only", False),
        ("USFJ OR USFK", "USFK commander", True),
        ("USFJ OR USFK", "INDOPACOM commander", False),
        ("Japan NOT baseball", "Japan alliance", True),
        ("Japan NOT baseball", "Japan wins the baseball final", False),
        ("Japan AND NOT baseball", "Japan wins the baseball final", False),
        ("(USFJ OR USFK) AND reorganization", "USFK reorganization", True),
        ("(USFJ OR USFK) AND reorganization", "USFK exercise", False),
        ("USFJ OR USFK AND reorganization", "USFJ exercise", True),  # AND binds tighter than OR
        ('"joint force headquarters"', "a joint force headquarters", True),
        ('"joint force headquarters"', "joint headquarters of the force", False),
        ("joint force headquarters", "joint headquarters of the force", True),  # unquoted: three words
        ("reorgani*", "the Reorganisation plan", True),
        ("reorgani*", "they reorganized", True),
        ("reorgani*", "disorganised", False),
        ("@usfj", "U.S. Forces Japan said", True),
        ("@usfj", "U.S. Forces Korea said", False),
        ("@usfj-or-reorg", "a joint force headquarters", True),  # an alias made of aliases
    ],
)
def test_boolean_operators_phrases_prefixes_aliases(query: str, text: str, expected: bool) -> None:
    assert matches(query, text) is expected


@pytest.mark.parametrize(
    ("query", "body", "expected"),
    [
        ("USFJ NEAR/3 headquarters", "USFJ will become a headquarters", True),  # 3 words between
        ("USFJ NEAR/2 headquarters", "USFJ will become a headquarters", False),
        ("USFJ NEAR/3 headquarters", "the headquarters will absorb USFJ", True),  # either order
        ("USFJ NEAR/0 headquarters", "USFJ headquarters", True),
        ("USFJ NEAR headquarters", "USFJ " + "word " * 10 + "headquarters", True),  # NEAR = NEAR/10
        ("USFJ NEAR headquarters", "USFJ " + "word " * 11 + "headquarters", False),
        ("@usfj NEAR/5 (reorgani* OR upgrade)", "the planned upgrade of U.S. Forces Japan", True),
        ("USFJ NEAR/2 統合軍司令部", "在日米軍USFJは統合軍司令部に", True),  # each CJK character is a word
        ("USFJ NEAR/1 統合軍司令部", "USFJは来年統合軍司令部に", False),
    ],
)
def test_near_counts_words_between_in_either_order(query: str, body: str, expected: bool) -> None:
    assert matches(query, "headline", body) is expected


def test_near_requires_both_in_the_same_field() -> None:
    assert not matches("USFJ NEAR/5 headquarters", "USFJ news", "a new headquarters")


def test_near_counts_only_the_hits_that_are_near() -> None:
    outcome = judge("USFJ NEAR/2 headquarters", "x", "USFJ headquarters. " + "filler " * 30 + "USFJ again.")
    assert outcome.matched
    assert [hit.text for hit in outcome.explanation.hits] == ["USFJ", "headquarters"]


@pytest.mark.parametrize(
    ("query", "title", "body", "expected"),
    [
        ("title:USFJ", "USFJ news", "nothing", True),
        ("title:USFJ NEAR/2 upgrade", "USFJ upgrade", "nothing", True),
        ("title:USFJ NEAR/2 upgrade", "USFJ news", "upgrade USFJ", False),
        ("title:USFJ", "news", "USFJ in the body", False),
        ("body:USFJ", "USFJ news", "nothing", False),
        ("body:USFJ", "news", "USFJ in the body", True),
        ('title:(USFJ OR "U.S. Forces Japan") AND body:reorgani*', "U.S. Forces Japan", "reorganised", True),
        ('title:(USFJ OR "U.S. Forces Japan") AND body:reorgani*', "reorganised", "U.S. Forces Japan", False),
        ("Japan NOT title:baseball", "Japan team", "baseball later in the body", True),
    ],
)
def test_field_scope(query: str, title: str, body: str, expected: bool) -> None:
    assert matches(query, title, body) is expected


# --- normalisation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("USFJ", "ＵＳＦＪ commander"),  # full-width letters (NFKC)
        ("ＵＳＦＪ", "USFJ commander"),  # ...in the query too
        ("usfj", "USFJ commander"),  # case folded
        ("トウキョウ", "ﾄｳｷｮｳの天気"),  # half-width katakana (NFKC)
        ("US", "U.S. troops"),  # acronyms with or without dots, both ways
        ("U.S.", "US troops"),
        ('"U.S.-Japan alliance"', "the US-Japan alliance"),
        ('"U.S.-Japan alliance"', "the U.S.–Japan alliance"),  # en dash
        ('"U.S.-Japan alliance"', "the U.S.—Japan alliance"),  # em dash
        ('"U.S.-Japan alliance"', "the U.S. Japan alliance"),
        ('"Japan-U.S. alliance"', "the Japan–U.S. alliance"),
        ('"Japan-U.S."', "Japan‐U.S. ties"),  # U+2010 hyphen
        ('"China\'s navy"', "China’s navy"),  # curly apostrophe
        ('"joint force headquarters"', "joint\u00a0force\u2009headquarters"),  # odd spaces
        ("defence", "defense spending"),  # British and American spellings, both ways
        ("defense", "defence spending"),
        ("reorganisation", "the reorganization"),
        ("reorganization", "the reorganisation"),
        ("programme", "a new program"),
        ("program", "a new programme"),
        ("centre", "a command center"),
        ("armoured", "armored vehicles"),
        ("travelled", "he traveled"),
        ("modernise", "to modernize"),
        ("reorganis*", "the reorganization"),  # prefixes too
        ('"defence budget"', "Japan's defense budget"),  # and inside phrases
        ("force", "U.S. forces"),  # a single word matches its plural...
        ("forces", "the force"),  # ...and singular
        ("ally", "allies said"),
        ("alliance", "alliances"),
        ("Japan", "Japan's navy"),  # possessives
        ("在日米軍", "防衛省は在日米軍の再編を発表した"),  # CJK inside unspaced text
        ("統合軍司令部", "在日米軍を統合軍司令部に改編"),
        ('"Japanese, American"', "Japanese, American and Philippine ships"),  # a comma as written
        ('"U.S., Japan"', "the U.S., Japan and Australia"),
    ],
)
def test_normalisation_matches(query: str, text: str) -> None:
    assert matches(query, text), (query, text)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ('"U.S. Forces Japan"', "U.S. Force Japan"),  # a phrase requires its words as written
        ('"forces"', "the force"),  # a quoted word too
        ("=US", "let us go"),  # case-sensitive: the pronoun is not the country
        ("=US", "Us and them"),
        ("US", "USA"),  # whole words only
        ("US", "U.S.A. travel"),
        ("USFJ", "USFJX"),
        ("news", "new ships"),  # not every final s is a plural
        ("reorgani*", "reorg"),
        ('"Japanese, American"', "Japanese American community"),  # the comma is part of the phrase
        ("2+2", "after a 2-2 draw"),  # so is the plus sign: a score is not the ministers' talks
        ("2+2", "won 2 2"),
    ],
)
def test_normalisation_does_not_overreach(query: str, text: str) -> None:
    assert not matches(query, text), (query, text)


@pytest.mark.parametrize("text", ["US troops", "U.S. troops", "U.S.-Japan talks", "(US)", "Ｕ．Ｓ． troops"])
def test_case_sensitive_terms_match_the_written_case(text: str) -> None:
    assert matches("=US", text), text


@pytest.mark.parametrize("text", ["the 2+2 talks", "the 2 + 2 talks", "the ２＋２ talks", "economic '2+2'"])
def test_a_plus_sign_in_a_term_matches_however_it_is_spaced(text: str) -> None:
    assert matches("2+2", text), text


def test_case_sensitive_phrase() -> None:
    assert matches('="Joint Staff"', "the Joint Staff said")
    assert not matches('="Joint Staff"', "a joint staff meeting")


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ('"economic 2+2"', "Japan, U.S. launch economic '2+2'"),
        ('"economic 2+2"', "the first economic “2+2” dialogue"),
        ('"counterstrike capability"', 'its so-called "counterstrike" capability'),
    ],
)
def test_a_phrase_reads_through_quotation_marks_round_one_of_its_words(query: str, text: str) -> None:
    assert matches(query, text)
    # ...which are not a word: "Japan's" is still one word, not "Japan" and "s".
    assert not matches('"Japan defense"', "Japan's defense policy")


def test_hits_point_into_the_original_text_whatever_its_characters() -> None:
    body = "Ｔｏｋｙｏ … ﬁne — the U.S.–Japan alliance’s ＵＳＦＪ"
    outcome = judge('"U.S.-Japan alliance" OR USFJ', "x", body)
    assert [hit.text for hit in outcome.explanation.hits] == ["U.S.–Japan alliance", "ＵＳＦＪ"]
    for hit in outcome.explanation.hits:
        assert body[hit.start : hit.end] == hit.text


# --- scoring and explanation ---------------------------------------------------------


def test_title_hits_weigh_three_and_repeated_mentions_count() -> None:
    outcome = judge("USFJ", "USFJ news", "USFJ said. USFJ added.")
    assert outcome.score == 3 + 1 + 1


def test_a_passing_mention_falls_below_the_minimum_score() -> None:
    query = "USFJ AND reorgani*"
    long_unrelated = (
        "Rice prices rose again. " * 80 + "Elsewhere, USFJ noted its reorganization. " + "Rain. " * 50
    )
    outcome = judge(query, "Rice prices climb for a third month", long_unrelated, min_score=4)
    assert not outcome.matched
    assert outcome.explanation.reasons_not_matched == ("score 2 is below the 4.48 needed for 375 words",)
    assert judge(query, "USFJ reorganization enters phase two", "USFJ said.", min_score=4).matched


def test_overlapping_hits_count_once() -> None:
    outcome = judge('"joint force headquarters" OR headquarters', "x", "a joint force headquarters")
    assert outcome.score == 1
    assert [hit.text for hit in outcome.explanation.hits] == ["joint force headquarters"]


def test_explanation_lists_clauses_and_reasons() -> None:
    outcome = judge("@usfj AND (reorgani* OR upgrade) NOT USFK", "x", "USFJ and USFK upgrade plans")
    assert not outcome.matched
    clauses = outcome.explanation.clauses
    assert clauses is not None and clauses.op == "and" and clauses.matched is False
    assert [child.clause for child in clauses.children] == [
        "@usfj",
        "(reorgani* OR upgrade)",
        "NOT USFK",
    ]
    assert clauses.children[0].terms == ("USFJ",)
    assert clauses.children[1].matched is True
    excluded = clauses.children[2]
    assert (excluded.clause, excluded.op, excluded.matched, excluded.terms, excluded.count) == (
        "NOT USFK",
        "not",
        False,
        ("USFK",),
        1,
    )
    assert outcome.explanation.reasons_not_matched == ("excluded term present: USFK",)
    assert outcome.explanation.query == "@usfj AND (reorgani* OR upgrade) NOT USFK"


def test_near_failure_is_explained() -> None:
    outcome = judge("USFJ NEAR/2 headquarters", "x", "USFJ " + "word " * 5 + "headquarters")
    assert outcome.explanation.reasons_not_matched == (
        "USFJ and headquarters both occur, but never within 2 words of each other",
    )


def test_lists_and_query_compile_to_one_tree() -> None:
    topic = {"query": "Japan", "all": ["alliance"], "any": ["treaty", "pact"], "none": ["baseball"]}
    assert matches(**topic, title="Japan alliance pact")  # type: ignore[arg-type]
    assert not matches(**topic, title="Japan alliance")  # type: ignore[arg-type]
    assert not matches(**topic, title="Japan alliance pact baseball")  # type: ignore[arg-type]
    assert judge(**topic, title="x").explanation.query == (  # type: ignore[arg-type]
        "Japan AND alliance AND (treaty OR pact) AND NOT baseball"
    )


# --- parser errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("@usfj AND (reorg OR", "column 20: expected a term after OR"),
        ("@usfj AND (reorgani* OR upgrade", "column 32: expected ')'"),
        ("USFJ)", "column 5: unexpected ')' with no matching '('"),
        ('"joint force', "column 1: unterminated phrase: missing closing '\"'"),
        ("", "column 1: the query is empty"),
        ("USFJ AND", "column 9: expected a term after AND"),
        ("NOT", "column 4: expected a term after NOT"),
        ("USFJ and headquarters", "column 6: operators are written in capitals: AND"),
        ("@nope", "column 1: unknown alias '@nope'"),
        ("headline:USFJ", "column 1: unknown field 'headline'; fields are title, body"),
        ("USFJ NEAR/x HQ", "column 6: NEAR takes a number of words, e.g. NEAR/10"),
        ("re*org", "column 3: '*' is only allowed at the end of a word (prefix search)"),
        ("re*", "column 3: a prefix needs at least 3 letters before '*'"),
        ("NOT baseball", "column 1: the query must require at least one term outside NOT"),
        ("USFJ OR NOT baseball", "column 1: the query must require at least one term outside NOT"),
        ("(USFJ AND HQ) NEAR/5 upgrade", "column 15: NEAR works on terms, phrases, @aliases and OR-groups"),
        ('USFJ ""', "column 6: empty phrase"),
        ("title:(body:USFJ)", "column 1: a field scope cannot contain another field scope"),
        ("()", "column 2: empty parentheses"),
    ],
)
def test_parser_errors_name_the_column(query: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query, {"usfj": ()})
    assert str(caught.value).startswith(message)


def test_malformed_query_is_a_config_error_with_key_and_column() -> None:
    document = {
        "aliases": {"usfj": ["USFJ"], "loop": ["@loop2"], "loop2": ["@loop"], "bad": ["re*org"]},
        "topics": {
            "usfj": {"query": "@usfj AND (reorgani* OR upgrade"},
            "lists": {"all": ["@ghost"], "any": ["x*y"]},
            "empty": {"channels": []},
        },
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(document)
    problems = [str(problem) for problem in caught.value.problems]
    assert "topics.usfj.query: column 32: expected ')'" in problems
    assert "topics.lists.all[0]: unknown alias '@ghost'" in problems
    assert "topics.empty: a topic needs a 'query' or terms in 'all' or 'any'" in problems
    assert "aliases.bad[0]: '*' is only allowed at the end of a word (prefix search)" in problems
    assert any(problem.startswith("aliases.loop2[0]: '@loop' refers back") for problem in problems)


def test_the_score_needed_is_shown_rounded_up_so_it_never_reads_as_met() -> None:
    # 3 x sqrt(35 / 300) = 1.02: shown to one decimal it read "score 1 is below the 1.0 needed".
    body = (
        "Officials said USFJ would "
        + "keep working on the plan with local leaders and residents " * 3
        + "soon."
    )
    outcome = judge("USFJ", "Local news", body, min_score=3)
    assert not outcome.matched
    assert outcome.explanation.reasons_not_matched == ("score 1 is below the 1.03 needed for 35 words",)
