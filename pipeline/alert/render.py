"""What an alert says: plain text, HTML and the webhook JSON payload, from one OutgoingAlert.

All article text is escaped in HTML: titles and bodies come from third parties.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from pipeline.models import OutgoingAlert

WEBHOOK_PAYLOAD_VERSION = 1


def _date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "unknown"


def matched_terms(alert: OutgoingAlert) -> list[str]:
    terms: list[str] = []
    for hit in alert.explanation.get("hits", []):
        if hit["term"] not in terms:
            terms.append(hit["term"])
    return terms


def subject(alert: OutgoingAlert) -> str:
    title = " ".join(alert.title.split()) or alert.article_url
    return f"[newswatch] {alert.topic}: {title}"[:250]


def plain_snippet(alert: OutgoingAlert) -> str:
    return "".join(f"[{text}]" if flagged else text for text, flagged in alert.snippet)


def html_snippet(alert: OutgoingAlert) -> str:
    return "".join(
        f"<mark>{html.escape(text)}</mark>" if flagged else html.escape(text)
        for text, flagged in alert.snippet
    )


def render_text(alert: OutgoingAlert) -> str:
    lines = [
        alert.title,
        "",
        f"Topic:     {alert.topic} (score {alert.score:g})",
        f"Source:    {alert.source}",
        f"Published: {_date(alert.published)}",
        f"Link:      {alert.article_url}",
        f"Matched:   {', '.join(matched_terms(alert)) or '-'}",
        "",
        plain_snippet(alert),
        "",
        "-- ",
        f"newswatch alert {alert.idempotency_key}",
    ]
    return "\n".join(lines) + "\n"


def render_html(alert: OutgoingAlert) -> str:
    escape = html.escape
    terms = ", ".join(escape(term) for term in matched_terms(alert)) or "-"
    return f"""<!DOCTYPE html>
<html><body style="font-family: sans-serif; max-width: 40em">
<h2 style="margin-bottom: 0.2em">
<a href="{escape(alert.article_url, quote=True)}">{escape(alert.title)}</a></h2>
<table style="color: #555; font-size: 0.9em">
<tr><td>Topic</td><td><strong>{escape(alert.topic)}</strong> (score {alert.score:g})</td></tr>
<tr><td>Source</td><td>{escape(alert.source)}</td></tr>
<tr><td>Published</td><td>{escape(_date(alert.published))}</td></tr>
<tr><td>Matched</td><td>{terms}</td></tr>
</table>
<blockquote style="border-left: 3px solid #ccc; padding-left: 1em">{html_snippet(alert)}</blockquote>
<p style="color: #999; font-size: 0.8em">newswatch alert {escape(alert.idempotency_key)}</p>
</body></html>
"""


def webhook_payload(alert: OutgoingAlert) -> dict[str, Any]:
    """The documented webhook body (schema: docs/webhook-payload.schema.json)."""
    return {
        "type": "newswatch.match",
        "version": WEBHOOK_PAYLOAD_VERSION,
        "id": alert.idempotency_key,
        "topic": alert.topic,
        "score": alert.score,
        "matched_at": alert.matched_at.isoformat(),
        "article": {
            "url": alert.article_url,
            "title": alert.title,
            "source": alert.source,
            "published": alert.published.isoformat() if alert.published else None,
            "author": alert.author,
            "language": alert.language,
        },
        "snippet": [{"text": text, "hit": flagged} for text, flagged in alert.snippet],
        "matched_terms": matched_terms(alert),
        "explanation": alert.explanation,
    }
