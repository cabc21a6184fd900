"""Near misses from the typed explanation: which unmatched verdicts came close, and why. The
explanations come from the real matcher on real topics, never built by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import TopicConfig
from pipeline.console.near_misses import near_miss
from pipeline.match.matcher import Matcher
from pipeline.store import Store
from tests.support.articles import article
from tests.support.console import Seeded, _article, seed

LONG_BODY = "\n\n".join(["The council met on Tuesday to discuss the harbour budget and the railway."] * 12)


@pytest.mark.parametrize(
    ("query", "min_score", "title", "body", "expected"),
    [
        # Part of an AND held.
        (
            "Kyoto AND blossom*",
            1.0,
            "Kyoto rain",
            "Rain fell in Kyoto all week.",
            (False, "found Kyoto, not found blossom*"),
        ),
        # Both sides of a NEAR, too far apart.
        (
            "Kyoto NEAR/3 blossom*",
            1.0,
            "Kyoto",
            "Kyoto " + "is a city with many temples and gardens " * 3 + "and blossoms.",
            (False, "Kyoto and blossom* both occur, but never within 3 words"),
        ),
        # Through an OR: the alternative that came close is the one named.
        (
            "(Osaka AND castle) OR (Kyoto AND blossom*)",
            1.0,
            "Kyoto rain",
            "Rain fell in Kyoto.",
            (False, "found Kyoto, not found blossom*"),
        ),
        # The query held, but a single mention deep in a long article is a passing mention.
        (
            "Kyoto AND blossom*",
            1.0,
            "Council budget",
            LONG_BODY + "\n\nKyoto blossoms were mentioned in passing.\n\n" + LONG_BODY,
            (True, None),
        ),
        # A NOT that holds because its terms are absent proves nothing.
        ("(Kyoto AND blossom*) AND NOT Osaka", 1.0, "Harbour budget", "The council met.", None),
        # Nothing held.
        ("Kyoto AND blossom*", 1.0, "Harbour budget", "The council met.", None),
        # A match is no near miss.
        ("Kyoto AND blossom*", 1.0, "Kyoto blossoms", "Kyoto blossoms came early this year in Kyoto.", None),
    ],
)
def test_near_miss_reads_the_explanation(
    query: str, min_score: float, title: str, body: str, expected: tuple[bool, str | None] | None
) -> None:
    matcher = Matcher.from_topics({"t": TopicConfig(query=query, min_score=min_score)}, {})
    verdict = matcher.evaluate(article(title, body), ["t"])[0]
    found = near_miss(verdict.explanation)
    if expected is None:
        assert found is None, found
        return
    assert found is not None
    query_held, reason = expected
    assert found[0] is query_held
    if reason is None:
        # The query held: the reason is the matcher's own (score or passing mention).
        assert found[1] == "; ".join(verdict.explanation.reasons_not_matched) and found[1]
    else:
        assert found[1] == reason


@pytest.fixture
def seeded(tmp_path: Path, database_url: str) -> Seeded:
    return seed(tmp_path, database_url)


def test_the_topic_page_shows_near_misses(seeded: Seeded) -> None:
    store = Store(seeded.engine)
    feed = store.feed_state("https://feeds.example.org/desk.xml", "Pacific Security Desk").feed_id
    visit = _article(
        10,
        "USFJ commander visits Osaka",
        "The commander of U.S. Forces Japan visited Osaka to meet the governor.",
    )
    miss_id = store.save_article(visit, feed, [], []).article_id
    client = seeded.client("rita")
    # The page asks for its near misses once shown (htmx), from their own route.
    assert (
        'hx-get="/topics/usfj-reorganisation/near-misses"' in client.get("/topics/usfj-reorganisation").text
    )
    section = client.get("/topics/usfj-reorganisation/near-misses").text
    assert f'href="/articles/{miss_id}"' in section and "USFJ commander visits Osaka" in section
    assert "found USFJ, U.S. Forces Japan, not found (@new-command OR" in section
    # Matched articles and ones with nothing of the query are not near misses.
    assert f"/articles/{seeded.usfj_id}" not in section and f"/articles/{seeded.quiet_id}" not in section
