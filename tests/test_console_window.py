"""The console's window of prepared articles, and the playground over it: new articles are picked up,
pruned ones dropped, and presearch never changes an answer (checked against the matcher run over
every stored article)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.console.article_window import ArticleWindow
from pipeline.console.playground import PLAYGROUND, compile_query, run_playground
from pipeline.console.windowscan import holding_any
from pipeline.console.word_index import WordIndex
from pipeline.match.presearch import could_match
from pipeline.store import Store
from pipeline.store.console import ConsoleStore
from tests.support.console import Seeded, _article, seed

TOPIC = "usfj-reorganisation"
TYPHOON = ("Typhoon closes Naha port", "The port of Naha closed as a typhoon neared Okinawa.")
RAIN = ("Heavy rain in Osaka", "Rain fell all week in Osaka; the rainy season began early.")


@pytest.fixture
def seeded(tmp_path: Path, database_url: str) -> Seeded:
    return seed(tmp_path, database_url)


def _save(seeded: Seeded, number: int, title: str, body: str) -> int:
    store = Store(seeded.engine)
    feed = store.feed_state("https://feeds.example.org/desk.xml", "Pacific Security Desk").feed_id
    return store.save_article(_article(number, title, body), feed, [], []).article_id


def test_the_window_follows_what_is_stored(seeded: Seeded) -> None:
    console = ConsoleStore(seeded.engine)
    window = ArticleWindow(console)
    now = datetime.now(UTC) + timedelta(seconds=1)
    first = window.articles(now, 30).articles
    assert {article.article_id for article in first} == {seeded.usfj_id, seeded.hostile_id, seeded.quiet_id}
    # Folded once: presearch reads the lower-cased words of the title and the body, each once.
    usfj = next(article for article in first if article.article_id == seeded.usfj_id)
    words = usfj.words.split()
    assert {"usfj", "headquarters", "tokyo"} <= set(words) and len(words) == len(set(words))

    added = _save(seeded, 10, *TYPHOON)
    second = window.articles(now + timedelta(seconds=5), 30).articles
    assert second[0].article_id == added  # newest first
    assert len(second) == 4

    # The daemon's retention prunes unmatched articles: the window lets them go.
    Store(seeded.engine).prune_unmatched_articles(now + timedelta(minutes=1))
    later = window.articles(now + timedelta(seconds=10), 30)
    assert {article.article_id for article in later.articles} == {seeded.usfj_id, seeded.hostile_id}
    # The word index still names the pruned one; the playground keeps only ids inside the window.
    assert added in later.holding("naha")
    # A narrower window is answered from the same prepared articles.
    assert window.articles(now + timedelta(days=40), 7).articles == []


def test_the_word_index_answers_as_could_match(seeded: Seeded) -> None:
    """holding_any over the word index picks exactly the articles presearch's could_match accepts."""
    _save(seeded, 10, *TYPHOON)
    _save(seeded, 11, *RAIN)
    window = ArticleWindow(ConsoleStore(seeded.engine)).articles(datetime.now(UTC) + timedelta(seconds=1), 30)
    for anchors in (
        frozenset({"usfj"}),
        frozenset({"rain", "typhoon"}),
        frozenset({"quarters", "osa"}),  # parts of words
        frozenset({"u.s"}),
        frozenset({"nothing-like-this"}),
    ):
        expected = [article.article_id for article in window.articles if could_match(anchors, article.words)]
        assert holding_any(window, [anchors]) == expected, anchors
    # A set presearch cannot give, or an anchor that spans words: every article stays a candidate.
    everything = [article.article_id for article in window.articles]
    assert holding_any(window, [None]) == holding_any(window, [frozenset({"joint force"})]) == everything


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("usfj", {1, 2}),  # a whole word
        ("reorgani", {1}),  # a prefix
        ("quarter", {2}),  # inside a word
        ("u.s.f.j", {3}),  # punctuation inside a word
        ("ters", {2}),  # at the end of a word
        ("usfjreorganisation", set()),  # never across two words
        ("tokyo", set()),
    ],
)
def test_the_word_index_finds_words_containing_a_string(fragment: str, expected: set[int]) -> None:
    index = WordIndex()
    index.add(1, ["usfj", "reorganisation"])
    index.add(2, ["usfj", "headquarters"])
    assert index.containing("usfj") == {1, 2}  # joined on the first lookup ...
    index.add(3, ["u.s.f.j", "upgrade"])  # ... and again after a new word
    assert index.containing(fragment) == expected


@pytest.mark.parametrize(
    "query",
    [
        "Osaka",
        "@usfj",
        "#usfj-reorganisation OR typhoon",
        "(Osaka OR typhoon OR USFJ) AND NOT rain*",
        '"joint force headquarters" NEAR/10 Tokyo',
        "title:(USFJ OR Naha)",
        "rain* AND NOT typhoon",
    ],
)
def test_presearch_never_changes_the_playground_answer(seeded: Seeded, query: str) -> None:
    _save(seeded, 10, *TYPHOON)
    _save(seeded, 11, *RAIN)
    config = seeded.config
    console = ConsoleStore(seeded.engine)
    window = ArticleWindow(console).articles(datetime.now(UTC) + timedelta(seconds=1), 30)
    assert len(window.articles) == 5
    for topic in (None, TOPIC):
        result = run_playground(query, topic, config.topics, config.aliases, window, console.articles_by_id)
        assert result.error is None, result.error
        # The same query, matched by the matcher alone against every stored article.
        matcher = compile_query(query, config.topics, config.aliases, 1.0, topic)
        expected, current = set(), set()
        for stored in Store(seeded.engine).stored_articles():
            verdicts = {verdict.topic for verdict in matcher.match(stored.article)}
            if PLAYGROUND in verdicts:
                expected.add(stored.article_id)
            if topic in verdicts:
                current.add(stored.article_id)
        assert {hit.article_id for hit in result.hits} == expected, (query, topic)
        assert result.matches == len(expected) and result.articles == 5
        if topic:
            assert result.current_matches == len(current)
            assert result.lost_count == len(current - expected)
