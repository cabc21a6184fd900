"""What an alert says: plain text, HTML and the webhook JSON payload, from one OutgoingAlert.

Three kinds: a match (one article), a notice (about newswatch itself) and a digest (many
matches gathered for a schedule). All article text is escaped in HTML: titles and bodies
come from third parties.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.match.explanation import Clause, Explanation, clause_line, explanation_lines, shown_parts
from pipeline.models import DigestDetails, MatchDetails, Notice, OutgoingAlert

# 2: `explanation` is the typed explanation's JSON (format_version, clause tree, snippet, ...).
WEBHOOK_PAYLOAD_VERSION = 2
_SUBJECT_LIMIT = 250


def _date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "unknown"


def _local(value: datetime | None, timezone: str) -> str:
    if value is None:
        return "the start"
    return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")


def _match(alert: OutgoingAlert) -> MatchDetails:
    assert alert.match is not None, f"alert {alert.alert_id} has no match details"
    return alert.match


def _notice(alert: OutgoingAlert) -> Notice:
    assert alert.notice is not None, f"alert {alert.alert_id} has no notice"
    return alert.notice


def _digest(alert: OutgoingAlert) -> DigestDetails:
    assert alert.digest is not None, f"alert {alert.alert_id} has no digest"
    return alert.digest


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _explanation(match: MatchDetails) -> Explanation:
    explanation = match.explanation
    if not explanation.score and match.score:
        # Explanations stored by the first releases carried no score; the match row always has it.
        return replace(explanation, score=match.score)
    return explanation


def why_matched(match: MatchDetails) -> list[str]:
    """The matcher's explanation as plain-text lines (the one rendering `newswatch match` also prints):
    the query, each clause with yes/no and the terms it found, the score, and the passage."""
    return explanation_lines(_explanation(match), snippet=match.snippet)


def _clause_html(clause: Clause) -> str:
    children = ""
    parts, left_out = shown_parts(clause)
    if parts or left_out:
        items = [_clause_html(child) for child in parts]
        if left_out is not None:
            items.append(f'<li style="color: #999">{html.escape(left_out)}</li>')
        children = "<ul>" + "".join(items) + "</ul>"
    colour = "#1a7f37" if clause.matched else "#999"
    return f'<li style="color: {colour}">{html.escape(clause_line(clause))}{children}</li>'


def explanation_html(match: MatchDetails) -> str:
    """The explanation for an HTML email: the same lines as the plain text, the clause tree as nested
    lists. Every piece is escaped: clause text is the operator's, hit text the article's."""
    explanation = _explanation(match)
    escape = html.escape
    parts = [f"<p>Query: <code>{escape(explanation.query)}</code></p>"] if explanation.query else []
    if explanation.clauses is not None:
        parts.append(f'<ul style="font-family: monospace">{_clause_html(explanation.clauses)}</ul>')
    parts.append(f"<p>score {explanation.score:g} (minimum {explanation.min_score:g})</p>")
    parts += [f"<p>why not: {escape(reason)}</p>" for reason in explanation.reasons_not_matched]
    return "\n".join(parts)


def subject(alert: OutgoingAlert) -> str:
    if alert.notice is not None:
        text = f"[newswatch] {_one_line(alert.notice.subject)}"
    elif alert.digest is not None:
        digest = alert.digest
        topics = _topic_counts(digest.items)
        summary = ", ".join(f"{topic} {count}" for topic, count in topics.items())
        noun = "match" if len(digest.items) == 1 else "matches"
        text = f"[newswatch] digest: {len(digest.items)} {noun} ({summary})"
    else:
        match = _match(alert)
        text = f"[newswatch] {match.topic}: {_one_line(match.title) or match.article_url}"
    return text[:_SUBJECT_LIMIT]


def _topic_counts(items: Iterable[OutgoingAlert]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        if item.match is not None:
            counts[item.match.topic] = counts.get(item.match.topic, 0) + 1
    return counts


def html_snippet(match: MatchDetails) -> str:
    return "".join(
        f"<mark>{html.escape(text)}</mark>" if flagged else html.escape(text)
        for text, flagged in (match.explanation.snippet or match.snippet)
    )


# --- plain text -------------------------------------------------------------------------


def _also_in_lines(match: MatchDetails) -> list[str]:
    """The same story from other sources (near-duplicates and other feeds), one per line."""
    return [
        f"{'Also in:' if index == 0 else '':<10} {name} <{url}>"
        for index, (name, url) in enumerate(match.other_sources)
    ]


def _match_text(match: MatchDetails) -> list[str]:
    return [
        _one_line(match.title),
        "",
        f"Topic:     {match.topic}",
        f"Source:    {match.source}",
        f"Published: {_date(match.published)}",
        f"Link:      {match.article_url}",
        *_also_in_lines(match),
        "",
        "Why:",
        *(f"  {line}" for line in why_matched(match)),
    ]


def render_text(alert: OutgoingAlert) -> str:
    if alert.notice is not None:
        notice = alert.notice
        lines = [notice.subject, "", notice.text, ""]
        lines += [f"{label}: {value}" for label, value in notice.details.items()]
    elif alert.digest is not None:
        digest = alert.digest
        lines = [
            f"newswatch digest: {len(digest.items)} matches from {_local(digest.since, digest.timezone)} "
            f"to {_local(digest.tick, digest.timezone)} (schedule '{digest.schedule}')",
        ]
        for number, item in enumerate(digest.items, 1):
            if item.match is not None:
                lines += ["", f"{number}. " + "\n".join(_match_text(item.match))]
    else:
        lines = _match_text(_match(alert))
    lines += ["", "-- ", f"newswatch alert {alert.idempotency_key}"]
    return "\n".join(lines) + "\n"


# --- HTML -------------------------------------------------------------------------------

_QUOTE_STYLE = "border-left: 3px solid #ccc; padding-left: 1em"
_PAGE = """<!DOCTYPE html>
<html><body style="font-family: sans-serif; max-width: 44em">
{content}
<p style="color: #999; font-size: 0.8em">newswatch alert {key}</p>
</body></html>
"""


def _rows(rows: list[tuple[str, str]]) -> str:
    cells = "\n".join(
        f'<tr><td style="vertical-align: top; padding-right: 1em">{label}</td><td>{value}</td></tr>'
        for label, value in rows
    )
    return f'<table style="color: #555; font-size: 0.9em">\n{cells}\n</table>'


def _match_html(match: MatchDetails, level: str = "h2") -> str:
    escape = html.escape
    heading = f'<a href="{escape(match.article_url, quote=True)}">{escape(_one_line(match.title))}</a>'
    rows = [
        ("Topic", f"<strong>{escape(match.topic)}</strong>"),
        ("Source", escape(match.source)),
        ("Published", escape(_date(match.published))),
        ("Link", f'<a href="{escape(match.article_url, quote=True)}">{escape(match.article_url)}</a>'),
    ]
    if match.other_sources:
        links = "<br>".join(
            f'{escape(name)}: <a href="{escape(url, quote=True)}">{escape(url)}</a>'
            for name, url in match.other_sources
        )
        rows.append(("Also in", links))
    return (
        f'<{level} style="margin-bottom: 0.2em">{heading}</{level}>\n{_rows(rows)}\n'
        f'<blockquote style="{_QUOTE_STYLE}">{html_snippet(match)}</blockquote>\n'
        f"<p><strong>Why</strong></p>\n{explanation_html(match)}"
    )


def render_html(alert: OutgoingAlert) -> str:
    escape = html.escape
    if alert.notice is not None:
        notice = alert.notice
        rows = [(escape(label), escape(value)) for label, value in notice.details.items()]
        content = f"<h2>{escape(notice.subject)}</h2>\n{_rows(rows)}\n<p>{escape(notice.text)}</p>"
    elif alert.digest is not None:
        digest = alert.digest
        since, until = _local(digest.since, digest.timezone), _local(digest.tick, digest.timezone)
        header = (
            f"<h2>newswatch digest: {len(digest.items)} matches</h2>\n"
            f"<p>{escape(since)} to {escape(until)} (schedule <code>{escape(digest.schedule)}</code>)</p>"
        )
        items = [_match_html(item.match, "h3") for item in digest.items if item.match is not None]
        content = header + "\n<hr>\n" + "\n<hr>\n".join(items)
    else:
        content = _match_html(_match(alert))
    return _PAGE.format(content=content, key=escape(alert.idempotency_key))


# --- webhook JSON -----------------------------------------------------------------------


def _envelope(kind: str, alert: OutgoingAlert) -> dict[str, Any]:
    """What every payload starts with: its type, the schema version and the idempotency key."""
    return {"type": f"newswatch.{kind}", "version": WEBHOOK_PAYLOAD_VERSION, "id": alert.idempotency_key}


def _match_payload(alert: OutgoingAlert) -> dict[str, Any]:
    match = _match(alert)
    return {
        **_envelope("match", alert),
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
        "matched_terms": match.explanation.matched_terms,
        "explanation": match.explanation.to_json(),
        "other_sources": [{"source": name, "url": url} for name, url in match.other_sources],
    }


def webhook_payload(alert: OutgoingAlert) -> dict[str, Any]:
    """The documented webhook body (schema: docs/webhook-payload.schema.json)."""
    if alert.notice is not None:
        notice = _notice(alert)
        return {
            **_envelope("notice", alert),
            "created_at": alert.created_at.isoformat(),
            "subject": notice.subject,
            "text": notice.text,
            "details": notice.details,
        }
    if alert.digest is not None:
        digest = _digest(alert)
        return {
            **_envelope("digest", alert),
            "created_at": alert.created_at.isoformat(),
            "schedule": digest.schedule,
            "timezone": digest.timezone,
            "since": digest.since.isoformat() if digest.since else None,
            "until": digest.tick.isoformat(),
            "count": len(digest.items),
            "items": [_match_payload(item) for item in digest.items if item.match is not None],
        }
    return _match_payload(alert)
