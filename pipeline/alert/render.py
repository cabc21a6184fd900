"""What an alert says: plain text, HTML and the webhook JSON payload, from one OutgoingAlert.

All article text is escaped in HTML: titles and bodies come from third parties.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from pipeline.models import MatchDetails, Notice, OutgoingAlert

WEBHOOK_PAYLOAD_VERSION = 1


def _date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "unknown"


def _match(alert: OutgoingAlert) -> MatchDetails:
    assert alert.match is not None, f"alert {alert.alert_id} has no match details"
    return alert.match


def _notice(alert: OutgoingAlert) -> Notice:
    assert alert.notice is not None, f"alert {alert.alert_id} has no notice"
    return alert.notice


def matched_terms(match: MatchDetails) -> list[str]:
    terms: list[str] = []
    for hit in match.explanation.get("hits", []):
        if hit["term"] not in terms:
            terms.append(hit["term"])
    return terms


def subject(alert: OutgoingAlert) -> str:
    if alert.notice is not None:
        return f"[newswatch] {' '.join(alert.notice.subject.split())}"[:250]
    match = _match(alert)
    title = " ".join(match.title.split()) or match.article_url
    return f"[newswatch] {match.topic}: {title}"[:250]


def plain_snippet(match: MatchDetails) -> str:
    return "".join(f"[{text}]" if flagged else text for text, flagged in match.snippet)


def html_snippet(match: MatchDetails) -> str:
    return "".join(
        f"<mark>{html.escape(text)}</mark>" if flagged else html.escape(text)
        for text, flagged in match.snippet
    )


def _also_in_lines(match: MatchDetails) -> list[str]:
    """The same story from other sources (near-duplicates and other feeds), one per line."""
    return [
        f"{'Also in:' if index == 0 else '':<10} {name} <{url}>"
        for index, (name, url) in enumerate(match.other_sources)
    ]


def render_text(alert: OutgoingAlert) -> str:
    if alert.notice is not None:
        notice = alert.notice
        lines = [notice.subject, "", notice.text, ""]
        lines += [f"{label}: {value}" for label, value in notice.details.items()]
    else:
        match = _match(alert)
        lines = [
            match.title,
            "",
            f"Topic:     {match.topic} (score {match.score:g})",
            f"Source:    {match.source}",
            f"Published: {_date(match.published)}",
            f"Link:      {match.article_url}",
            f"Matched:   {', '.join(matched_terms(match)) or '-'}",
            *_also_in_lines(match),
            "",
            plain_snippet(match),
        ]
    lines += ["", "-- ", f"newswatch alert {alert.idempotency_key}"]
    return "\n".join(lines) + "\n"


def _html_page(heading: str, rows: list[tuple[str, str]], quote: str, key: str) -> str:
    table = "\n".join(f"<tr><td>{label}</td><td>{value}</td></tr>" for label, value in rows)
    return f"""<!DOCTYPE html>
<html><body style="font-family: sans-serif; max-width: 40em">
<h2 style="margin-bottom: 0.2em">{heading}</h2>
<table style="color: #555; font-size: 0.9em">
{table}
</table>
<blockquote style="border-left: 3px solid #ccc; padding-left: 1em">{quote}</blockquote>
<p style="color: #999; font-size: 0.8em">newswatch alert {html.escape(key)}</p>
</body></html>
"""


def render_html(alert: OutgoingAlert) -> str:
    escape = html.escape
    if alert.notice is not None:
        notice = alert.notice
        rows = [(escape(label), escape(value)) for label, value in notice.details.items()]
        return _html_page(escape(notice.subject), rows, escape(notice.text), alert.idempotency_key)
    match = _match(alert)
    heading = f'<a href="{escape(match.article_url, quote=True)}">{escape(match.title)}</a>'
    rows = [
        ("Topic", f"<strong>{escape(match.topic)}</strong> (score {match.score:g})"),
        ("Source", escape(match.source)),
        ("Published", escape(_date(match.published))),
        ("Matched", ", ".join(escape(term) for term in matched_terms(match)) or "-"),
    ]
    if match.other_sources:
        links = "<br>".join(
            f'{escape(name)}: <a href="{escape(url, quote=True)}">{escape(url)}</a>'
            for name, url in match.other_sources
        )
        rows.append(("Also in", links))
    return _html_page(heading, rows, html_snippet(match), alert.idempotency_key)


def webhook_payload(alert: OutgoingAlert) -> dict[str, Any]:
    """The documented webhook body (schema: docs/webhook-payload.schema.json)."""
    if alert.notice is not None:
        notice = _notice(alert)
        return {
            "type": "newswatch.notice",
            "version": WEBHOOK_PAYLOAD_VERSION,
            "id": alert.idempotency_key,
            "created_at": alert.created_at.isoformat(),
            "subject": notice.subject,
            "text": notice.text,
            "details": notice.details,
        }
    match = _match(alert)
    return {
        "type": "newswatch.match",
        "version": WEBHOOK_PAYLOAD_VERSION,
        "id": alert.idempotency_key,
        "topic": match.topic,
        "score": match.score,
        "matched_at": match.matched_at.isoformat(),
        "article": {
            "url": match.article_url,
            "title": match.title,
            "source": match.source,
            "published": match.published.isoformat() if match.published else None,
            "author": match.author,
            "language": match.language,
        },
        "snippet": [{"text": text, "hit": flagged} for text, flagged in match.snippet],
        "matched_terms": matched_terms(match),
        "explanation": match.explanation,
        "other_sources": [{"source": name, "url": url} for name, url in match.other_sources],
    }
