"""Dedup: canonical URLs, content fingerprints and story clusters, pure and end to end.

End to end: the same article through two feeds and through a URL with utm_ parameters is stored
once; the same page under another URL is stored once; three lightly edited copies of one wire
story by three outlets are one story and one alert that lists the other two sources.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import event, select
from standardwebhooks import Webhook

from pipeline.clock import ManualClock
from pipeline.config import DedupConfig
from pipeline.dedup import (
    canonical_url,
    content_fingerprint,
    fingerprint_article,
    similarity,
    similarity_signature,
)
from pipeline.models import Article, ArticleFingerprint, ExtractionMethod, PlannedAlert
from pipeline.store import Store, create_db_engine, upgrade_schema
from pipeline.store.tables import AlertRow, ArticleRow, ArticleSourceRow, MatchRow
from pipeline.stories import Filing, NewArticle, Stories
from tests.support.configs import WEBHOOK_SECRET
from tests.support.feeds import RSS_HEADERS, Item, open_pipeline, rss
from tests.support.servers import FIXTURES, LocalHTTPServer, Response, SmtpSink, WebhookReceiver

SEED_PAGE = (FIXTURES / "pages" / "usfj-joint-force-hq.html").read_text(encoding="utf-8")
SEED_TEXT = (FIXTURES / "articles" / "usfj-joint-force-hq.txt").read_text(encoding="utf-8")
SEED_TITLE, _, SEED_BODY = SEED_TEXT.partition("\n")
UNRELATED_TEXT = (FIXTURES / "articles" / "tokyo-ramen-michelin.txt").read_text(encoding="utf-8")
WEBHOOK_SCHEMA = json.loads((Path(__file__).parents[1] / "docs" / "webhook-payload.schema.json").read_text())
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://Example.org:443/a/b?utm_source=rss&utm_medium=feed#comments", "https://example.org/a/b"),
        ("https://example.org/a?b=2&a=1&fbclid=xyz", "https://example.org/a?a=1&b=2"),
        ("http://example.org", "http://example.org/"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_content_fingerprint_ignores_layout_but_not_words() -> None:
    reflowed = SEED_BODY.upper().replace(". ", ".\n\n").replace("—", " - ")
    assert content_fingerprint(SEED_BODY) == content_fingerprint(reflowed)
    assert content_fingerprint(SEED_BODY) != content_fingerprint(SEED_BODY.replace("Wednesday", "Thursday"))
    assert content_fingerprint("Read more on our website.") is None  # too short to identify anything


def light_edit(text: str, outlet: str) -> str:
    """What a republishing outlet does to wire copy: a dateline, a few words, a trimmed ending."""
    paragraphs = [paragraph for paragraph in text.split("\n") if paragraph.strip()]
    edited = [f"TOKYO ({outlet}) — " + paragraphs[0].replace("announced on Wednesday", "said Wednesday")]
    edited += [
        paragraph.replace("Beijing", "China").replace("roughly", "about") for paragraph in paragraphs[1:-1]
    ]
    return "\n".join([*edited, f"Additional reporting by the {outlet} desk."])


def test_similarity_signature_clusters_edits_and_separates_stories() -> None:
    original = fingerprint_article(SEED_TITLE, SEED_BODY)
    edited = fingerprint_article(SEED_TITLE + " | Harbour Times", light_edit(SEED_BODY, "Harbour Times"))
    unrelated = fingerprint_article(*UNRELATED_TEXT.partition("\n")[::2])
    assert original.signature and edited.signature and unrelated.signature
    assert similarity(original.signature, edited.signature) >= DedupConfig().story_similarity
    assert set(original.bands) & set(edited.bands)  # the index finds the candidate
    assert similarity(original.signature, unrelated.signature) < 0.1
    assert original.content != edited.content
    assert similarity_signature("Short", "Too short to judge.") is None


def page(title: str, body: str) -> bytes:
    paragraphs = "".join(f"<p>{paragraph}</p>\n" for paragraph in body.split("\n") if paragraph.strip())
    return (
        f'<!DOCTYPE html><html lang="en"><head><title>{title}</title></head><body>'
        f"<nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<article><h1>{title}</h1>\n{paragraphs}</article><footer>© Outlet</footer></body></html>"
    ).encode()


def test_same_article_via_two_feeds_utm_link_and_mirror_url_is_stored_and_alerted_once(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer, smtp_sink: SmtpSink
) -> None:
    html = {"Content-Type": "text/html; charset=utf-8"}
    http_server.add("/news/usfj", Response(200, SEED_PAGE.encode(), html))
    http_server.add("/amp/news/usfj", Response(200, SEED_PAGE.encode(), html))  # same page, other URL
    link = http_server.url("/news/usfj")
    summary = "U.S. Forces Japan (USFJ) completes the first phase of its transformation."
    feeds = {
        "/desk.xml": [Item(SEED_TITLE, link + "?utm_source=rss&utm_medium=feed", summary, NOW)],
        "/aggregator.xml": [Item(SEED_TITLE, link + "#top", summary, NOW)],
        "/mirror.xml": [Item(SEED_TITLE, http_server.url("/amp/news/usfj?utm_campaign=x"), summary, NOW)],
    }
    for path, feed_items in feeds.items():
        http_server.add(path, Response(200, rss(feed_items), RSS_HEADERS))
    config_feeds = [
        {"name": "Desk", "url": http_server.url("/desk.xml")},
        {"name": "Aggregator", "url": http_server.url("/aggregator.xml")},
        {"name": "Mirror", "url": http_server.url("/mirror.xml")},
    ]
    with open_pipeline(
        tmp_path, config_feeds, database_url=database_url, smtp_port=smtp_sink.port
    ) as pipeline:
        pipeline.run_cycle()
        pipeline.run_cycle()  # nothing new the second time
        with pipeline.store.session() as session:
            articles = session.scalars(select(ArticleRow)).all()
            sources = session.execute(select(ArticleSourceRow.url)).scalars().all()
            alerted_topics = session.scalars(
                select(MatchRow.topic).join(AlertRow, AlertRow.match_id == MatchRow.id)
            ).all()
    assert len(articles) == 1
    # The feeds are polled in parallel, so which copy is stored first (and gives the canonical URL)
    # is a race; either way it is a clean URL, without tracking parameters or fragment.
    assert articles[0].canonical_url in (link, http_server.url("/amp/news/usfj"))
    assert len(sources) == 3
    assert http_server.url("/amp/news/usfj?utm_campaign=x") in sources
    # One alert per matched topic (the seed is on the USFJ reorganisation and on the alliance), not per copy.
    assert "usfj-reorganisation" in alerted_topics
    assert sorted(alerted_topics) == sorted(set(alerted_topics))
    assert len(smtp_sink.messages) == len(alerted_topics)


def test_three_lightly_edited_copies_are_one_story_and_one_alert_listing_the_other_sources(
    tmp_path: Path,
    database_url: str,
    http_server: LocalHTTPServer,
    smtp_sink: SmtpSink,
    webhook_receiver: WebhookReceiver,
) -> None:
    outlets = ["Wire Daily", "Harbour Times", "Pacific Observer"]
    config_feeds = []
    for index, outlet in enumerate(outlets):
        slug = outlet.lower().replace(" ", "-")
        body = SEED_BODY if index == 0 else light_edit(SEED_BODY, outlet)
        title = SEED_TITLE if index == 0 else f"{SEED_TITLE} | {outlet}"
        html = {"Content-Type": "text/html; charset=utf-8"}
        page_url = http_server.add(f"/{slug}/2025/10/29/usfj", Response(200, page(title, body), html))
        item = Item(title, page_url, "U.S. Forces Japan moves ahead with its joint force headquarters.", NOW)
        http_server.add(f"/{slug}.xml", Response(200, rss([item], title=outlet), RSS_HEADERS))
        config_feeds.append({"name": outlet, "url": http_server.url(f"/{slug}.xml")})

    with open_pipeline(
        tmp_path,
        config_feeds,
        database_url=database_url,
        smtp_port=smtp_sink.port,
        webhook_url=webhook_receiver.hook_url,
        # One thread: the first outlet's copy is stored first, so it is the story's founder.
        fetch={"max_connections": 1},
    ) as pipeline:
        report = pipeline.run_cycle()
        with pipeline.store.session() as session:
            articles = session.scalars(select(ArticleRow).order_by(ArticleRow.id)).all()
    assert sum(feed.new for feed in report.feeds) == 3
    assert sum(feed.clustered for feed in report.feeds) == 2
    assert len(articles) == 3
    assert {article.story_id for article in articles} == {articles[0].id}

    # One alert per story and topic (the seed story is on two shipped topics), each listing the others.
    subjects = [mail.subject for mail in smtp_sink.messages]
    assert any("usfj-reorganisation" in subject for subject in subjects)
    assert len(subjects) == len({subject.split(":")[0] for subject in subjects})
    for mail in smtp_sink.messages:
        text, html_part = mail.part("text/plain"), mail.part("text/html")
        for outlet in outlets[1:]:
            slug = outlet.lower().replace(" ", "-")
            assert f"{outlet} <{http_server.url(f'/{slug}/2025/10/29/usfj')}>" in text
            assert outlet in html_part
        assert "Also in:" in text

    assert len(webhook_receiver.deliveries) == len(subjects)
    for delivery in webhook_receiver.deliveries:
        payload = Webhook(WEBHOOK_SECRET).verify(delivery.body, delivery.headers)
        jsonschema.validate(payload, WEBHOOK_SCHEMA)
        assert payload["article"]["source"] == "Wire Daily"
        assert [source["source"] for source in payload["other_sources"]] == outlets[1:]


def test_story_window_keeps_old_lookalikes_apart(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer
) -> None:
    """An article first seen outside the window is not a candidate: a new story starts."""
    html = {"Content-Type": "text/html; charset=utf-8"}
    first = http_server.add("/a", Response(200, page(SEED_TITLE, SEED_BODY), html))
    second = http_server.add("/b", Response(200, page(SEED_TITLE, light_edit(SEED_BODY, "Later")), html))
    http_server.add("/one.xml", Response(200, rss([Item(SEED_TITLE, first, "s", NOW)]), RSS_HEADERS))
    http_server.add("/two.xml", Response(200, rss([Item(SEED_TITLE, second, "s", NOW)]), RSS_HEADERS))
    feeds = [{"name": "One", "url": http_server.url("/one.xml")}]
    with open_pipeline(tmp_path, feeds, database_url=database_url) as pipeline:
        pipeline.run_cycle()
        with pipeline.store.session() as session, session.begin():
            session.get(ArticleRow, 1).first_seen_at = NOW - timedelta(days=10)  # type: ignore[union-attr]
    feeds.append({"name": "Two", "url": http_server.url("/two.xml")})
    with open_pipeline(tmp_path, feeds, database_url=database_url, name="two.yaml") as pipeline:
        pipeline.run_cycle()
        with pipeline.store.session() as session:
            story_ids = session.scalars(select(ArticleRow.story_id).order_by(ArticleRow.id)).all()
    assert story_ids == [1, 2]


def no_alerts(_story: str) -> list[PlannedAlert]:
    return []


def test_a_copy_another_thread_stored_first_becomes_a_source_not_a_second_article(database_url: str) -> None:
    """Two threads may both find an item new; the one whose transaction loses is recorded as a source."""
    engine = create_db_engine(database_url)
    upgrade_schema(engine)
    store = Store(engine)
    stories = Stories(store, DedupConfig(), ManualClock())
    one, two = (store.feed_state(f"https://{name}.example/feed", name) for name in ("one", "two"))
    url = "https://news.example.org/usfj"
    article = Article(url, url, SEED_TITLE, SEED_BODY, NOW, None, "en", "One", ExtractionMethod.PAGE)
    fingerprint = fingerprint_article(SEED_TITLE, SEED_BODY)
    first = stories.file(url, article, fingerprint, one.feed_id, [], no_alerts, "One")
    # The second thread checked before the first committed, so it files the same URL again (with no
    # fingerprint, the same-text check cannot catch it first: the database's constraint must).
    late = stories.file(url, article, ArticleFingerprint(None), two.feed_id, [], no_alerts, "Two")
    assert (first.outcome, late.outcome, late.new_to_feed) == (Filing.CREATED, Filing.RACED, 1)
    assert store.known_article_sources([url], two.feed_id) == {url: (1, True)}
    engine.dispose()


def _new_article(url: str, title: str, body: str, feed_id: int) -> NewArticle:
    article = Article(url, canonical_url(url), title, body, NOW, None, "en", "One", ExtractionMethod.PAGE)
    return NewArticle(
        canonical_url(url), article, fingerprint_article(title, body), feed_id, [], no_alerts, "One"
    )


def test_one_batch_sees_its_own_earlier_articles_and_asks_the_store_once(database_url: str) -> None:
    """A poll's items are filed together: a copy, a same-text mirror and a repeated URL within the
    batch are decided against the batch's earlier articles as if those were stored, and the store
    is asked the batch's lookups once, not once per item."""
    engine = create_db_engine(database_url)
    upgrade_schema(engine)
    store = Store(engine)
    stories = Stories(store, DedupConfig(), ManualClock(NOW))
    feed = store.feed_state("https://one.example/feed", "one").feed_id
    stored = _new_article("https://stored.example/ramen", *UNRELATED_TEXT.partition("\n")[::2], feed)
    assert stories.file_all([stored])[0].outcome is Filing.CREATED
    batch = [
        _new_article("https://wire.example/usfj", SEED_TITLE, SEED_BODY, feed),
        _new_article("https://mirror.example/usfj", SEED_TITLE, SEED_BODY, feed),
        _new_article("https://harbour.example/usfj", SEED_TITLE, light_edit(SEED_BODY, "Harbour"), feed),
        _new_article(
            "https://wire.example/usfj?utm_source=rss", SEED_TITLE, light_edit(SEED_BODY, "W"), feed
        ),
        _new_article("https://mirror.example/ramen", *UNRELATED_TEXT.partition("\n")[::2], feed),
    ]
    selects: list[str] = []

    def count_selects(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(engine, "before_cursor_execute", count_selects)
    filed = stories.file_all(batch)
    event.remove(engine, "before_cursor_execute", count_selects)

    assert [(one.outcome, one.clustered) for one in filed] == [
        (Filing.CREATED, False),
        (Filing.SAME_TEXT, False),  # the same feed already carries it: no second source
        (Filing.CREATED, True),
        (Filing.RACED, True),  # the URL the batch stored first
        (Filing.SAME_TEXT, False),
    ]
    assert [one.new_to_feed for one in filed] == [1, 0, 1, 1, 0]
    # Fingerprints, URLs, story candidates; then whether the feed already carries the article stored
    # before the batch (the batch's own sources are known without asking).
    assert len(selects) == 3 + 1
    with store.session() as session:
        articles = session.execute(
            select(ArticleRow.id, ArticleRow.canonical_url, ArticleRow.story_id).order_by(ArticleRow.id)
        ).all()
        sources = session.execute(select(ArticleSourceRow.article_id, ArticleSourceRow.url)).all()
    ramen, wire, harbour = articles
    assert (wire.story_id, harbour.story_id) == (wire.id, wire.id)
    assert ramen.story_id == ramen.id
    assert sorted(sources) == sorted(
        [
            (ramen.id, "https://stored.example/ramen"),
            (wire.id, "https://wire.example/usfj"),
            (harbour.id, "https://harbour.example/usfj"),
        ]
    )
    engine.dispose()


def test_written_out_permutations_are_the_seeded_draws() -> None:
    import numpy as np

    from pipeline.dedup import MINHASH_SEED, NUM_PERM, _permutations

    generator = np.random.RandomState(MINHASH_SEED)
    multipliers = generator.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    offsets = generator.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    written_multipliers, written_offsets = _permutations()
    assert written_multipliers.dtype == written_offsets.dtype == np.uint32
    assert np.array_equal(written_multipliers, multipliers)
    assert np.array_equal(written_offsets, offsets)


def test_signatures_are_datasketchs_affine32_minhash() -> None:
    # Signatures already stored stay comparable with new ones only if the scheme never drifts.
    from datasketch import MinHash

    from pipeline.dedup import MINHASH_SEED, NUM_PERM, SHINGLE_WORDS, similarity, similarity_signature, words

    texts = [
        ("U.S. Forces Japan to become a joint force headquarters", "The reorganisation of USFJ " * 30),
        ("在日米軍の統合軍司令部への改編", "在日米軍は統合軍司令部に改編される。日米同盟の強化。" * 10),
        ("Council budget", " ".join(f"word{number % 97} item{number % 13}" for number in range(400))),
    ]
    signatures = []
    for title, body in texts:
        tokens = words(f"{title}\n{body}")
        shingles = {" ".join(tokens[i : i + SHINGLE_WORDS]) for i in range(len(tokens) - SHINGLE_WORDS + 1)}
        reference = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, scheme="affine32")
        reference.update_batch([shingle.encode() for shingle in shingles])
        signature = similarity_signature(title, body)
        assert signature is not None
        assert signature[0] == reference.hashvalues.astype("<u4").tobytes()
        signatures.append((signature[0], reference))
    for first, first_reference in signatures:
        for second, second_reference in signatures:
            assert similarity(first, second) == first_reference.jaccard(second_reference)
