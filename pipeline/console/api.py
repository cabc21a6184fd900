"""The JSON API under /api: the same reads as the pages, cursor pagination, one error shape.

Lists answer {"items": [...], "next_cursor": str | null}; pass `cursor` back for the next page.
Errors answer {"error": {"status": int, "code": str, "message": str}}.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pipeline.console.app import MAX_ID, MAX_WINDOW_DAYS, Access, Ctx, api_error, route
from pipeline.console.pages import match_filters, window_days
from pipeline.console.search import run_search
from pipeline.console.views import decode_cursor, encode_cursor, safe_url
from pipeline.store.console import AlertItem, FeedbackItem, MatchItem
from pipeline.store.repository import Store

MAX_LIMIT = 200


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    return value


def _page(ctx: Ctx) -> tuple[int, int | None] | Response:
    params = ctx.request.query_params
    try:
        limit = int(params.get("limit", "50"))
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError
    except ValueError:
        return api_error(400, "invalid_limit", f"limit must be an integer from 1 to {MAX_LIMIT}")
    try:
        return limit, decode_cursor(params.get("cursor"))
    except ValueError:
        return api_error(400, "invalid_cursor", "cursor must be a value from a previous answer's next_cursor")


def _listing(items: list[Any], limit: int, last_id: Any) -> JSONResponse:
    # As dicts first: `last_id` reads a dict, and alert and feedback items arrive as dataclasses.
    rows = _dicts(items)
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(last_id(rows[-1])) if more and rows else None
    return JSONResponse({"items": [_json(row) for row in rows], "next_cursor": cursor})


def _dicts(items: list[Any]) -> list[dict[str, Any]]:
    return [item if isinstance(item, dict) else asdict(item) for item in items]


def _match(item: MatchItem) -> dict[str, Any]:
    data = asdict(item)
    data["url"] = safe_url(item.url)
    data["snippet"] = [[str(piece[0]), bool(piece[1])] for piece in item.snippet]
    return data


def matches(ctx: Ctx) -> Response:
    page = _page(ctx)
    if isinstance(page, Response):
        return page
    limit, before = page
    items = ctx.console.store.matches(match_filters(dict(ctx.request.query_params)), limit + 1, before)
    response = _listing([_match(item) for item in items], limit, lambda item: item["match_id"])
    return response


def _article_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "url": safe_url(row.url),
        "canonical_url": safe_url(row.canonical_url),
        "author": row.author,
        "language": row.language,
        "source": row.source,
        "published_at": row.published_at,
        "first_seen_at": row.first_seen_at,
        "story_id": row.story_id,
    }


def articles(ctx: Ctx) -> Response:
    page = _page(ctx)
    if isinstance(page, Response):
        return page
    limit, before = page
    rows = ctx.console.store.articles(limit + 1, before)
    return _listing([_article_dict(row) for row in rows], limit, lambda item: item["id"])


def article(ctx: Ctx) -> Response:
    view = ctx.console.store.article(int(ctx.request.path_params["article_id"]))
    if view is None:
        return api_error(404, "not_found", "no such article")
    data = _article_dict(view.article)
    data["body"] = view.article.body
    data["matches"] = [
        {
            "id": m.id,
            "topic": m.topic,
            "score": m.score,
            "matched_at": m.matched_at,
            "explanation": m.explanation,
        }
        for m in view.matches
    ]
    data["alerts"] = [asdict(alert) for alert in view.alerts]
    data["feedback"] = [asdict(item) for item in view.feedback]
    data["story"] = [
        {"title": t, "source": s, "url": safe_url(u), "article_id": i} for t, s, u, i in view.story
    ]
    return JSONResponse(_json(data))


def topics(ctx: Ctx) -> Response:
    config = ctx.console.config
    stats = ctx.console.store.topic_stats(list(config.topics), ctx.console.clock())
    items = []
    for name, topic in config.topics.items():
        found = stats[name]
        items.append(
            {
                "name": name,
                "query": topic.query,
                "description": topic.description,
                "matches": found.matches,
                "matches_per_day": [[day.isoformat(), count] for day, count in found.per_day],
                "relevant": found.relevant,
                "not_relevant": found.not_relevant,
                "precision": found.precision,
            }
        )
    return JSONResponse({"items": items, "next_cursor": None})


def feeds(ctx: Ctx) -> Response:
    fields = (
        "id", "name", "url", "health_state", "last_polled_at", "last_success_at", "last_status",
        "consecutive_failures", "last_error", "last_error_kind", "items_seen", "next_poll_at", "disabled_at",
        "disabled_reason",
    )  # fmt: skip
    items = [{name: getattr(row, name) for name in fields} for row in ctx.console.store.feeds()]
    for item in items:
        item["url"] = safe_url(item["url"])
    return JSONResponse(_json({"items": items, "next_cursor": None}))


def alerts(ctx: Ctx) -> Response:
    page = _page(ctx)
    if isinstance(page, Response):
        return page
    limit, before = page
    items = ctx.console.store.alerts(ctx.request.query_params.get("status") or None, limit + 1, before)
    return _listing(items, limit, lambda item: item["id"])


def retry_alert(ctx: Ctx) -> Response:
    from pipeline.store.outbox import Outbox

    alert_id = int(ctx.request.path_params["alert_id"])
    found: AlertItem | None = ctx.console.store.alert(alert_id)
    if found is None:
        return api_error(404, "not_found", "no such alert")
    outcome = Outbox(Store(ctx.console.store.engine)).requeue(ctx.console.clock(), ids=[alert_id])[0]
    if not outcome.ok:
        return api_error(409, "not_retryable", outcome.message)
    return JSONResponse({"id": alert_id, "message": outcome.message})


def poll_feed_now(ctx: Ctx) -> Response:
    feed = ctx.console.store.feed(int(ctx.request.path_params["feed_id"]))
    if feed is None or not Store(ctx.console.store.engine).request_poll_now(feed.url, ctx.console.clock()):
        return api_error(404, "not_found", "no such feed")
    return JSONResponse({"id": feed.id, "message": "due now: the daemon's next tick polls it"})


def feedback_list(ctx: Ctx) -> Response:
    page = _page(ctx)
    if isinstance(page, Response):
        return page
    limit, before = page
    items: list[FeedbackItem] = ctx.console.store.feedback(limit + 1, before)
    return _listing(items, limit, lambda item: item["id"])


def feedback_add(ctx: Ctx) -> Response:
    try:
        body = json.loads(ctx.request.state.body or b"null")
    except (ValueError, AttributeError):
        body = None
    if not isinstance(body, dict):
        return api_error(400, "invalid_body", 'expected a JSON object: {"article_id", "topic", "relevant"}')
    article_id, topic, relevant = body.get("article_id"), body.get("topic"), body.get("relevant")
    if not isinstance(article_id, int) or isinstance(article_id, bool):
        return api_error(400, "invalid_body", "article_id must be an integer")
    if not 0 <= article_id <= MAX_ID:
        return api_error(404, "not_found", "no such article")
    if topic not in ctx.console.config.topics:
        return api_error(400, "unknown_topic", "topic must be one of the configured topics")
    if not isinstance(relevant, bool):
        return api_error(400, "invalid_body", "relevant must be true or false")
    assert ctx.user is not None
    try:
        item = ctx.console.store.set_feedback(article_id, topic, relevant, ctx.user)
    except LookupError:
        return api_error(404, "not_found", "no such article")
    return JSONResponse(_json(asdict(item)), status_code=201)


def search(ctx: Ctx) -> Response:
    page = _page(ctx)
    if isinstance(page, Response):
        return page
    limit, before = page
    params = ctx.request.query_params
    query = params.get("q", "")
    if not query.strip():
        return api_error(400, "invalid_query", "q: give a query in the watchlist language")
    days = window_days(params.get("days"))
    if days is None:
        return api_error(400, "invalid_days", f"days must be an integer from 1 to {MAX_WINDOW_DAYS}")
    config = ctx.console.config
    window = ctx.console.window.articles(ctx.console.clock(), days)
    result = run_search(
        query, days, config.topics, config.aliases, window, ctx.console.store.articles_by_id, limit, before
    )
    if result.error is not None:
        return api_error(400, "invalid_query", f"q: {result.error}", column=result.column)
    items = [
        {
            "article_id": hit.article_id,
            "title": hit.title,
            "url": safe_url(hit.url),
            "source": hit.source,
            "published_at": hit.published,
            "score": hit.score,
            "terms": list(hit.terms),
            "snippet": [[str(text), bool(marked)] for text, marked in hit.snippet],
        }
        for hit in result.hits
    ]
    cursor = encode_cursor(result.next_before) if result.next_before is not None else None
    return JSONResponse(
        _json({"items": items, "next_cursor": cursor, "total": result.total, "articles": result.articles})
    )


def openapi(ctx: Ctx) -> Response:
    from pipeline.console.openapi import document

    return JSONResponse(document(list(ctx.console.config.topics)))


def routes() -> list[Route]:
    return [
        route("/api/openapi.json", openapi, Access.USER),
        route("/api/matches", matches, Access.USER),
        route("/api/articles", articles, Access.USER),
        route("/api/articles/{article_id:int}", article, Access.USER),
        route("/api/topics", topics, Access.USER),
        route("/api/feeds", feeds, Access.USER),
        route("/api/feeds/{feed_id:int}/poll", poll_feed_now, Access.OPERATOR, ["POST"]),
        route("/api/alerts", alerts, Access.USER),
        route("/api/alerts/{alert_id:int}/retry", retry_alert, Access.OPERATOR, ["POST"]),
        route("/api/search", search, Access.USER),
        route("/api/feedback", feedback_list, Access.USER),
        route("/api/feedback", feedback_add, Access.USER, ["POST"]),
    ]
