"""The HTML pages. Handlers are plain functions of a `Ctx`; `app.guarded` has already checked who asks."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from pipeline.console.app import DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS, Access, Ctx, route
from pipeline.console.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    feed_key,
    same_token,
    verify_password,
)
from pipeline.console.labels import labels_lines
from pipeline.console.near_misses import find_near_misses
from pipeline.console.playground import run_playground
from pipeline.console.search import run_search
from pipeline.console.views import decode_cursor, encode_cursor, highlighted, hit_spans, paragraphs
from pipeline.store.console import MatchFilters
from pipeline.store.repository import Store

PAGE_SIZE = 50
# How far back a topic page looks for near misses (within the window the playground keeps folded).
NEAR_MISS_DAYS = 7
FEEDBACK_CHOICES = ("relevant", "not-relevant", "none")


def _local_path(target: str | None, default: str = "/matches") -> str:
    """Only a path on this site: `next=//evil.example` or `next=https://...` would be an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def _secure(ctx: Ctx) -> bool:
    # Behind a TLS proxy uvicorn sets the scheme from X-Forwarded-Proto (trusted proxies only).
    return ctx.request.url.scheme == "https"


# --- login ------------------------------------------------------------------------


def login_form(ctx: Ctx, status: int = 200, message: str | None = None) -> Response:
    token = ctx.request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = ctx.page(
        "login.html",
        status=status,
        login_csrf=token,
        message=message,
        next=_local_path(ctx.request.query_params.get("next") or ctx.form.get("next")),
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="lax",
        secure=_secure(ctx),
        path="/login",
    )
    return response


def login(ctx: Ctx) -> Response:
    console = ctx.console
    if not same_token(ctx.request.cookies.get(LOGIN_CSRF_COOKIE), ctx.form.get("csrf")):
        return login_form(ctx, 403, "The form expired; please try again.")
    name = ctx.form.get("name", "").strip()
    client = ctx.request.client.host if ctx.request.client else "?"
    if console.limiter.blocked(client, name, console.clock()):
        return login_form(ctx, 429, "Too many failed sign-ins; wait a few minutes and try again.")
    user = console.store.user_by_name(name)
    if (
        not verify_password(user.password_hash if user else None, ctx.form.get("password", ""))
        or user is None
    ):
        console.limiter.failed(client, name, console.clock())
        return login_form(ctx, 401, "Unknown user or wrong password.")
    cookie, _ = console.signer.issue(user.id)
    response = RedirectResponse(_local_path(ctx.form.get("next")), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, cookie, max_age=SESSION_SECONDS, httponly=True, samesite="lax", secure=_secure(ctx)
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def logout(ctx: Ctx) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def home(ctx: Ctx) -> Response:
    return RedirectResponse("/matches", status_code=303)


# --- matches and articles ---------------------------------------------------------------


def _date(value: str | None, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.fromisoformat(value)
    except ValueError:
        return None
    if day.tzinfo is None:
        day = day.replace(tzinfo=UTC)
    return day + timedelta(days=1) if end and len(value) <= 10 else day


def match_filters(params: dict[str, str]) -> MatchFilters:
    feed = params.get("feed") or ""
    feedback = params.get("feedback") or None
    return MatchFilters(
        topic=params.get("topic") or None,
        feed_id=int(feed) if feed.isdigit() else None,
        since=_date(params.get("since")),
        until=_date(params.get("until"), end=True),
        language=params.get("language") or None,
        feedback=feedback if feedback in FEEDBACK_CHOICES else None,
    )


def matches(ctx: Ctx) -> Response:
    params = dict(ctx.request.query_params)
    try:
        before = decode_cursor(params.get("cursor"))
    except ValueError:
        before = None
    items = ctx.console.store.matches(match_filters(params), PAGE_SIZE + 1, before)
    more = len(items) > PAGE_SIZE
    items = items[:PAGE_SIZE]
    next_url = None
    if more:
        next_url = "/matches?" + urlencode({**params, "cursor": encode_cursor(items[-1].match_id)})
    return ctx.page(
        "matches.html",
        items=items,
        params=params,
        feeds=ctx.console.store.feeds(),
        languages=ctx.console.store.languages(),
        next_url=next_url,
    )


def article(ctx: Ctx) -> Response:
    article_id = int(ctx.request.path_params["article_id"])
    view = ctx.console.store.article(article_id)
    if view is None:
        return ctx.page("error.html", status=404, message="No such article.")
    explanations = [match.explanation for match in view.matches]
    mine = {(f.topic): f.relevant for f in view.feedback if ctx.user and f.user_name == ctx.user.name}
    return ctx.page(
        "article.html",
        view=view,
        row=view.article,
        title_segments=highlighted(view.article.title, hit_spans(explanations, "title")),
        body_paragraphs=paragraphs(highlighted(view.article.body, hit_spans(explanations, "body"))),
        matched_topics=[match.topic for match in view.matches],
        mine=mine,
    )


def feedback(ctx: Ctx) -> Response:
    article_id = int(ctx.request.path_params["article_id"])
    topic = ctx.form.get("topic", "")
    verdict = ctx.form.get("relevant", "")
    if topic not in ctx.console.config.topics or verdict not in ("yes", "no"):
        return ctx.page("error.html", status=400, message="Choose a configured topic and relevant or not.")
    assert ctx.user is not None
    try:
        ctx.console.store.set_feedback(article_id, topic, verdict == "yes", ctx.user)
    except LookupError:
        return ctx.page("error.html", status=404, message="No such article.")
    return RedirectResponse(_local_path(ctx.form.get("next"), f"/articles/{article_id}"), status_code=303)


# --- topics ---------------------------------------------------------------------------


def topics(ctx: Ctx) -> Response:
    config = ctx.console.config
    stats = ctx.console.store.topic_stats(list(config.topics), ctx.console.clock())
    return ctx.page("topics.html", configs=config.topics, stats=stats)


def topic(ctx: Ctx) -> Response:
    name = ctx.request.path_params["name"]
    config = ctx.console.config
    if name not in config.topics:
        return ctx.page("error.html", status=404, message="No such topic.")
    stats = ctx.console.store.topic_stats([name], ctx.console.clock())[name]
    recent = ctx.console.store.matches(MatchFilters(topic=name), 20)
    key = feed_key(ctx.console.feed_secret, name)
    peak = max((count for _, count in stats.per_day), default=0)
    return ctx.page(
        "topic.html",
        name=name,
        config=config.topics[name],
        stats=stats,
        peak=max(peak, 1),
        recent=recent,
        near_miss_days=NEAR_MISS_DAYS,
        examples=ctx.console.examples().get(name, []),
        atom_url=f"/topics/feed/{name}/{key}.atom",
        json_url=f"/topics/feed/{name}/{key}.json",
    )


def topic_near_misses(ctx: Ctx) -> Response:
    """The topic page's near misses, fetched by htmx once the page is shown: evaluating a week's
    candidates takes longer than the rest of the page, which need not wait for it."""
    name = ctx.request.path_params["name"]
    config = ctx.console.config
    if name not in config.topics:
        return ctx.page("error.html", status=404, message="No such topic.")
    window = ctx.console.window.articles(ctx.console.clock(), NEAR_MISS_DAYS)
    misses = find_near_misses(name, config.topics, config.aliases, window, ctx.console.store.articles_by_id)
    return ctx.page("_near_misses.html", near_misses=misses)


# --- the query playground ---------------------------------------------------------------


def _playground(ctx: Ctx) -> dict[str, object]:
    params = ctx.request.query_params
    config = ctx.console.config
    query = params.get("q", "")
    topic_name = params.get("topic") or None
    if not query and topic_name in config.topics:
        query = config.topics[topic_name].query or ""
    days = window_days(params.get("days")) or DEFAULT_WINDOW_DAYS
    window = ctx.console.window.articles(ctx.console.clock(), days)
    result = run_playground(
        query, topic_name, config.topics, config.aliases, window, ctx.console.store.articles_by_id
    )
    return {"result": result, "query": query, "days": days, "topic": topic_name}


def playground(ctx: Ctx) -> Response:
    return ctx.page("playground.html", **_playground(ctx))


def playground_results(ctx: Ctx) -> Response:
    return ctx.page("_playground_results.html", **_playground(ctx))


# --- search ----------------------------------------------------------------------------


def window_days(value: str | None) -> int | None:
    """The `days` parameter of the playground and the search: 1 to 365, the default when absent."""
    if not value:
        return DEFAULT_WINDOW_DAYS
    return int(value) if value.isdigit() and 1 <= int(value) <= MAX_WINDOW_DAYS else None


def search(ctx: Ctx) -> Response:
    params = ctx.request.query_params
    query = params.get("q", "")
    days = window_days(params.get("days")) or DEFAULT_WINDOW_DAYS
    try:
        before = decode_cursor(params.get("cursor"))
    except ValueError:
        before = None
    result = None
    next_url = None
    if query.strip():
        config = ctx.console.config
        window = ctx.console.window.articles(ctx.console.clock(), days)
        result = run_search(
            query,
            days,
            config.topics,
            config.aliases,
            window,
            ctx.console.store.articles_by_id,
            PAGE_SIZE,
            before,
        )
        if result.next_before is not None:
            cursor = encode_cursor(result.next_before)
            next_url = "/search?" + urlencode({"q": query, "days": days, "cursor": cursor})
    return ctx.page("search.html", result=result, query=query, days=days, next_url=next_url)


# --- operations ------------------------------------------------------------------------


def alerts(ctx: Ctx) -> Response:
    status = ctx.request.query_params.get("status") or None
    return ctx.page("alerts.html", items=ctx.console.store.alerts(status, 200), chosen=status)


def retry_alert(ctx: Ctx) -> Response:
    from pipeline.store.outbox import Outbox

    alert_id = int(ctx.request.path_params["alert_id"])
    outcome = Outbox(Store(ctx.console.store.engine)).requeue(ctx.console.clock(), ids=[alert_id])[0]
    return RedirectResponse("/alerts?" + urlencode({"done": outcome.message}), status_code=303)


def feeds(ctx: Ctx) -> Response:
    items = ctx.console.store.feeds()
    # Which feed a "poll now" was just asked for: named from the store, never from the URL's text.
    asked = ctx.request.query_params.get("asked", "")
    asked_for = next((feed for feed in items if asked.isdigit() and feed.id == int(asked)), None)
    return ctx.page("feeds.html", items=items, now=ctx.console.clock(), asked_for=asked_for)


def poll_feed_now(ctx: Ctx) -> Response:
    """Make the feed due at once: the daemon's next tick (every few seconds) polls it."""
    feed = ctx.console.store.feed(int(ctx.request.path_params["feed_id"]))
    if feed is None or not Store(ctx.console.store.engine).request_poll_now(feed.url, ctx.console.clock()):
        return ctx.page("error.html", status=404, message="No such feed.")
    return RedirectResponse(f"/feeds?asked={feed.id}", status_code=303)


def enable_feed(ctx: Ctx) -> Response:
    feed = ctx.console.store.feed(int(ctx.request.path_params["feed_id"]))
    if feed is None:
        return ctx.page("error.html", status=404, message="No such feed.")
    Store(ctx.console.store.engine).enable_feed(feed.url)
    return RedirectResponse("/feeds", status_code=303)


def labels(ctx: Ctx) -> Response:
    lines = labels_lines(ctx.console.store, ctx.console.config.topics)
    return PlainTextResponse(
        "".join(line + "\n" for line in lines),
        media_type="application/x-ndjson; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="labels.jsonl"'},
    )


def routes() -> list[Route]:
    return [
        route("/login", login_form, Access.PUBLIC),
        route("/login", login, Access.PUBLIC, ["POST"]),
        route("/logout", logout, Access.USER, ["POST"]),
        route("/", home, Access.USER),
        route("/matches", matches, Access.USER),
        route("/articles/{article_id:int}", article, Access.USER),
        route("/articles/{article_id:int}/feedback", feedback, Access.USER, ["POST"]),
        route("/topics", topics, Access.USER),
        route("/topics/{name}", topic, Access.USER),
        route("/topics/{name}/near-misses", topic_near_misses, Access.USER),
        route("/playground", playground, Access.USER),
        route("/playground/results", playground_results, Access.USER),
        route("/search", search, Access.USER),
        route("/alerts", alerts, Access.USER),
        route("/alerts/{alert_id:int}/retry", retry_alert, Access.OPERATOR, ["POST"]),
        route("/feeds", feeds, Access.USER),
        route("/feeds/{feed_id:int}/enable", enable_feed, Access.OPERATOR, ["POST"]),
        route("/feeds/{feed_id:int}/poll", poll_feed_now, Access.OPERATOR, ["POST"]),
        route("/feedback/labels.jsonl", labels, Access.USER),
    ]


__all__ = ["routes"]
