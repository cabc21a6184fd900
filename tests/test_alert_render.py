"""Alert rendering and operator notices through the real outbox."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import jsonschema

from pipeline.alert.render import render_html, render_text, subject, webhook_payload
from pipeline.match.explanation import Explanation
from pipeline.models import AlertKind, MatchDetails, Notice, OutgoingAlert
from pipeline.store import Store, create_db_engine, upgrade_schema
from pipeline.store.outbox import Outbox
from tests.support.alerts import article, verdict

SCHEMA = json.loads((Path(__file__).parents[1] / "docs" / "webhook-payload.schema.json").read_text())
WHEN = datetime(2025, 10, 29, 14, 20, tzinfo=UTC)


def hostile_match_alert() -> OutgoingAlert:
    title = "<img src=x onerror=alert(1)> USFJ news"
    found = verdict("usfj", article(1, title=title, body="<script>x</script> USFJ reorganisation & more"))
    details = MatchDetails(
        topic="usfj-reorganisation",
        score=found.score,
        explanation=found.explanation,
        snippet=found.snippet,
        article_url='https://example.org/a?x="1"',
        title=title,
        source="Feed & Co",
        published=WHEN,
        author=None,
        language="en",
        matched_at=WHEN,
    )
    return OutgoingAlert(1, "nw-key", "ops", 0, AlertKind.MATCH, WHEN, match=details)


def test_match_alert_html_escapes_third_party_text() -> None:
    page = render_html(hostile_match_alert())
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;x&lt;/script&gt; <mark>USFJ</mark>" in page
    assert "&lt;img src=x onerror=alert(1)&gt; USFJ news" in page
    assert "<mark>USFJ</mark>" in page and "Feed &amp; Co" in page
    assert 'href="https://example.org/a?x=&quot;1&quot;"' in page
    assert "[USFJ]" in render_text(hostile_match_alert())
    jsonschema.validate(webhook_payload(hostile_match_alert()), SCHEMA)


def test_notice_renders_in_every_format() -> None:
    notice = Notice("Feed 'X' is failing", "5 polls in a row failed.", {"Last error": "HTTP 500 <b>"})
    alert = OutgoingAlert(2, "nw-notice", "ops", 0, AlertKind.NOTICE, WHEN, notice=notice)
    assert subject(alert) == "[newswatch] Feed 'X' is failing"
    assert "Last error: HTTP 500 <b>" in render_text(alert)
    assert "HTTP 500 &lt;b&gt;" in render_html(alert)
    payload = webhook_payload(alert)
    jsonschema.validate(payload, SCHEMA)
    assert payload["type"] == "newswatch.notice" and payload["details"] == {"Last error": "HTTP 500 <b>"}


def test_notices_are_queued_once_per_key(database_url: str) -> None:
    engine = create_db_engine(database_url)
    upgrade_schema(engine)
    store = Store(engine)
    notice = Notice("Feed 'X' is failing", "text", {"Feed": "X"})
    assert Outbox(store).queue_notice("ops", "nw-feed-x-failing-1", notice)
    assert not Outbox(store).queue_notice("ops", "nw-feed-x-failing-1", notice)
    (due,) = Outbox(store).due_alerts(datetime.now(UTC))
    assert due.kind is AlertKind.NOTICE and due.notice == notice and due.match is None
    engine.dispose()


def test_an_alert_stored_with_the_oldest_explanation_still_renders_its_clauses() -> None:
    # Rows written before clause trees were kept hold all/any/none lists; the store hands them over
    # through Explanation.from_json, and the alert shows what they say.
    stored = {
        "all": [{"clause": "@usfj", "matched": True, "terms": ["USFJ"], "count": 2}],
        "none": [{"clause": "<b>USFK</b>", "matched": False, "terms": [], "count": 0}],
        "hits": [{"field": "body", "term": "USFJ", "start": 0, "end": 4, "text": "USFJ"}],
        "min_score": 1.0,
    }
    details = replace(hostile_match_alert().match, explanation=Explanation.from_json(stored), score=4)
    alert = replace(hostile_match_alert(), match=details)
    text, page = render_text(alert), render_html(alert)
    assert "    yes @usfj: USFJ (2 mentions)" in text
    assert "    yes NOT <b>USFK</b>: absent, as required" in text
    assert "  score 4 (minimum 1)" in text
    assert "yes NOT &lt;b&gt;USFK&lt;/b&gt;: absent, as required" in page and "<b>USFK" not in page
    assert webhook_payload(alert)["explanation"]["format_version"] == 0
    jsonschema.validate(webhook_payload(alert), SCHEMA)
