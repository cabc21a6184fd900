"""The console over a real store (SQLite and PostgreSQL) through Starlette's TestClient: access on every
route, login, CSRF, feedback, precision, the playground, alerts, the API and the per-topic feeds."""

from __future__ import annotations

import io
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from pipeline.cli import main
from pipeline.console.app import Access, create_app, route_access
from pipeline.console.auth import feed_key
from pipeline.store.console import ConsoleStore
from pipeline.web import HealthProbes, daemon_app
from tests.support.console import PASSWORD, Seeded, csrf_of, login, seed

TOPIC = "usfj-reorganisation"


@pytest.fixture
def seeded(tmp_path: Path, database_url: str) -> Seeded:
    return seed(tmp_path, database_url)


def _concrete(path: str, seeded: Seeded, key: str) -> str:
    values = {
        "article_id": str(seeded.usfj_id),
        "alert_id": str(seeded.failed_alert_id),
        "feed_id": "1",
        "name": TOPIC,
        "key": key,
    }
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], path)


def _daemon_app(seeded: Seeded) -> Starlette:
    """The app the daemon serves on web.listen: the same console beside /healthz and /metrics."""
    probes = HealthProbes(lambda: True, lambda: None, lambda: None, 3600.0, time.time())
    return daemon_app(probes, lambda: seeded.config, seeded.engine, None)


@pytest.mark.parametrize("served_by", ["newswatch web", "the daemon"])
def test_every_route_refuses_strangers_and_read_only_users_where_operators_are_needed(
    seeded: Seeded, served_by: str
) -> None:
    app = seeded.app if served_by == "newswatch web" else _daemon_app(seeded)
    stranger = TestClient(app, follow_redirects=False)
    reader = TestClient(app, follow_redirects=False)
    login(reader, "rita")
    walked = 0
    for route in app.routes:
        access = route_access(route)
        if access is Access.PUBLIC and route.path in ("/healthz", "/metrics"):  # type: ignore[attr-defined]
            # The daemon's monitoring endpoints keep their behaviour: open to probes and Prometheus.
            assert stranger.get(route.path).status_code == 200  # type: ignore[attr-defined]
            walked += 1
            continue
        if access is None or access is Access.PUBLIC:
            continue  # the static mount (vendored htmx and CSS) and the login form
        assert isinstance(route, Route)
        path = _concrete(route.path, seeded, key="0" * 32)
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            walked += 1
            answer = stranger.request(method, path)
            if access is Access.FEED_KEY:
                assert answer.status_code == 404, path
                continue
            assert answer.status_code in (401, 303), (method, path, answer.status_code)
            if answer.status_code == 303:
                assert answer.headers["location"].startswith("/login")
            if path.startswith("/api/"):
                assert answer.json()["error"]["code"] == "unauthenticated"
            # A token that is not ours is no better than none.
            bogus = stranger.request(method, path, headers={"authorization": "Bearer nwt_bogus"})
            assert bogus.status_code in (401, 303), (method, path)
            if access is Access.OPERATOR:
                page = reader.get("/alerts")
                answer = reader.request(method, path, data={"csrf": csrf_of(page.text)})
                assert answer.status_code == 403, (method, path)
                by_token = stranger.request(
                    method, path, headers={"authorization": f"Bearer {seeded.reader_token}"}
                )
                assert by_token.status_code == 403, (method, path)
    assert walked >= (25 if served_by == "newswatch web" else 27)


def test_pages_render_with_a_strict_policy(seeded: Seeded) -> None:
    client = seeded.client("rita")
    key = feed_key(ConsoleStore(seeded.engine).secret("topic-feeds"), TOPIC)
    for path in (
        "/matches",
        f"/matches?topic={TOPIC}&language=en&feedback=none&since=2000-01-01",
        f"/articles/{seeded.usfj_id}",
        f"/articles/{seeded.quiet_id}",
        "/topics",
        f"/topics/{TOPIC}",
        f"/topics/{TOPIC}/near-misses",
        "/playground",
        f"/playground?topic={TOPIC}",
        "/playground/results?q=%40usfj",
        "/search",
        "/search?q=%40usfj&days=7",
        "/alerts",
        "/alerts?status=failed",
        "/feeds",
        "/feedback/labels.jsonl",
        f"/topics/feed/{TOPIC}/{key}.atom",
        f"/topics/feed/{TOPIC}/{key}.json",
        "/api/openapi.json",
        "/static/htmx.min.js",
    ):
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text[:300])
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
    article = client.get(f"/articles/{seeded.usfj_id}").text
    # The clause tree of the verdict and the highlighted hits are on the article page.
    assert "✔" in article and "<mark>U.S. Forces Japan</mark>" in article
    assert "HTTP 500 from the webhook" in article or "failed" in article


def test_login_cookie_csrf_and_rate_limit(seeded: Seeded) -> None:
    client = seeded.client()
    page = client.get("/login")
    answer = client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "name": "rita", "password": PASSWORD, "next": "//evil.example"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/matches"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax") and "Secure" not in cookie

    # Behind TLS the session cookie is Secure.
    secure = seeded.client()
    secure.base_url = "https://testserver"  # type: ignore[assignment]
    page = secure.get("/login")
    answer = secure.post("/login", data={"csrf": csrf_of(page.text), "name": "rita", "password": PASSWORD})
    assert "Secure" in answer.headers["set-cookie"]

    # A form posted without the session's CSRF token is refused, even with the cookie.
    answer = client.post(f"/articles/{seeded.usfj_id}/feedback", data={"topic": TOPIC, "relevant": "no"})
    assert answer.status_code == 403
    # And without the login form's token, the login itself is refused.
    assert seeded.client().post("/login", data={"name": "rita", "password": PASSWORD}).status_code == 403

    guesser = seeded.client()
    statuses = []
    for _ in range(7):
        page = guesser.get("/login")
        statuses.append(
            guesser.post(
                "/login", data={"csrf": csrf_of(page.text), "name": "olive", "password": "guess"}
            ).status_code
        )
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]
    # Blocked for this name, even with the right password, until the window passes.
    page = guesser.get("/login")
    blocked = guesser.post("/login", data={"csrf": csrf_of(page.text), "name": "olive", "password": PASSWORD})
    assert blocked.status_code == 429


def test_the_login_limit_is_shared_by_every_console_on_the_database(seeded: Seeded) -> None:
    """The daemon's console and `newswatch web` are two processes on one database: failures counted
    by one block sign-ins at the other (here two apps, each with its own memory)."""
    other = TestClient(create_app(seeded.config, seeded.engine), follow_redirects=False)
    first = seeded.client()
    for _ in range(5):
        page = first.get("/login")
        answer = first.post("/login", data={"csrf": csrf_of(page.text), "name": "rita", "password": "guess"})
        assert answer.status_code == 401
    page = other.get("/login")
    blocked = other.post("/login", data={"csrf": csrf_of(page.text), "name": "rita", "password": PASSWORD})
    assert blocked.status_code == 429


def test_feedback_changes_precision_and_operators_retry(seeded: Seeded) -> None:
    client = seeded.client("rita")
    page = client.get(f"/articles/{seeded.hostile_id}")
    answer = client.post(
        f"/articles/{seeded.hostile_id}/feedback",
        data={
            "csrf": csrf_of(page.text),
            "topic": TOPIC,
            "relevant": "no",
            "next": f"/articles/{seeded.hostile_id}",
        },
    )
    assert answer.status_code == 303
    topics = client.get("/topics").text
    assert re.search(rf'data-testid="precision-{TOPIC}">0%<', topics)
    article = client.get(f"/articles/{seeded.hostile_id}").text
    assert "rita: not relevant for usfj-reorganisation" in article
    # Unknown topic: refused, nothing stored.
    bad = client.post(
        f"/articles/{seeded.usfj_id}/feedback",
        data={"csrf": csrf_of(article), "topic": "nope", "relevant": "no"},
    )
    assert bad.status_code == 400

    operator = seeded.client("olive")
    alerts = operator.get("/alerts?status=failed").text
    assert f'action="/alerts/{seeded.failed_alert_id}/retry"' in alerts
    answer = operator.post(f"/alerts/{seeded.failed_alert_id}/retry", data={"csrf": csrf_of(alerts)})
    assert answer.status_code == 303
    assert ConsoleStore(seeded.engine).alert(seeded.failed_alert_id).status == "pending"  # type: ignore[union-attr]
    # Read-only users see no retry buttons.
    assert "/retry" not in client.get("/alerts").text


def test_playground_runs_a_typed_query_against_the_current_one(seeded: Seeded) -> None:
    client = seeded.client("rita")
    answer = client.get("/playground/results", params={"q": "Osaka", "topic": TOPIC, "days": "30"})
    assert answer.status_code == 200
    assert "<strong>1</strong> of 3 articles match" in answer.text
    assert "(1 new here, 2 no longer)" in answer.text
    assert "Rainy season starts early in Osaka" in answer.text
    assert "query: Osaka" in answer.text  # the YAML to paste
    # The config's aliases work in the playground.
    assert "<strong>2</strong> of 3" in client.get("/playground/results", params={"q": "@usfj"}).text
    broken = client.get("/playground/results", params={"q": "(USFJ AND"})
    assert 'data-testid="playground-error"' in broken.text


def test_operators_ask_for_a_poll_now(seeded: Seeded) -> None:
    store = ConsoleStore(seeded.engine)
    desk = next(feed for feed in store.feeds() if feed.name == "Pacific Security Desk")
    assert "Poll now" not in seeded.client("rita").get("/feeds").text
    operator = seeded.client("olive")
    page = operator.get("/feeds").text
    assert f'action="/feeds/{desk.id}/poll"' in page
    before = datetime.now(UTC)
    answer = operator.post(f"/feeds/{desk.id}/poll", data={"csrf": csrf_of(page)})
    assert answer.status_code == 303 and answer.headers["location"] == f"/feeds?asked={desk.id}"
    asked = store.feed(desk.id)
    assert asked is not None and asked.next_poll_reason == "requested"
    assert asked.next_poll_at is not None and asked.next_poll_at >= before - timedelta(seconds=1)
    shown = operator.get(answer.headers["location"]).text
    assert "Pacific Security Desk will be polled at the daemon's next tick" in shown
    assert operator.post("/feeds/999999/poll", data={"csrf": csrf_of(page)}).status_code == 404
    api = seeded.client()
    operator_token = {"authorization": f"Bearer {seeded.operator_token}"}
    assert api.post(f"/api/feeds/{desk.id}/poll", headers=operator_token).status_code == 200
    missing = api.post("/api/feeds/999999/poll", headers=operator_token)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_search_pages_and_api(seeded: Seeded) -> None:
    client = seeded.client("rita")
    assert '<a href="/search">Search</a>' in client.get("/matches").text
    page = client.get("/search", params={"q": "@usfj"}).text
    assert "<strong>2</strong> of 3 articles of the last 30 days match" in page
    assert "<mark>U.S. Forces Japan</mark>" in page and "USFJ to become a joint force headquarters" in page
    assert "Rainy season" not in page
    broken = client.get("/search", params={"q": "(USFJ AND"}).text
    assert 'data-testid="search-error"' in broken and "column" in broken

    headers = {"authorization": f"Bearer {seeded.reader_token}"}
    first = client.get("/api/search", params={"q": "@usfj OR Osaka", "limit": 2}, headers=headers).json()
    assert first["total"] == 3 and first["articles"] == 3 and len(first["items"]) == 2
    rest = client.get(
        "/api/search",
        params={"q": "@usfj OR Osaka", "limit": 2, "cursor": first["next_cursor"]},
        headers=headers,
    ).json()
    assert rest["next_cursor"] is None and rest["total"] == 3
    ids = [item["article_id"] for item in first["items"] + rest["items"]]
    # Newest first, every match once over the pages.
    assert ids == sorted({seeded.usfj_id, seeded.hostile_id, seeded.quiet_id}, reverse=True)
    usfj = next(item for item in first["items"] + rest["items"] if item["article_id"] == seeded.usfj_id)
    assert "U.S. Forces Japan" in usfj["terms"] and ["U.S. Forces Japan", True] in usfj["snippet"]
    hostile = next(item for item in first["items"] + rest["items"] if item["article_id"] == seeded.hostile_id)
    assert hostile["url"] is None  # a javascript: link is never handed out as a link

    # A query that does not parse: a 400 in the one error shape, saying where.
    bad = client.get("/api/search", params={"q": "USFJ AND (upgrade OR"}, headers=headers)
    assert bad.status_code == 400
    error = bad.json()["error"]
    assert error["code"] == "invalid_query" and error["status"] == 400
    assert error["message"].startswith("q: ") and error["column"] == 21
    assert client.get("/api/search", headers=headers).json()["error"]["code"] == "invalid_query"
    days = client.get("/api/search", params={"q": "USFJ", "days": "0"}, headers=headers)
    assert days.status_code == 400 and days.json()["error"]["code"] == "invalid_days"


def test_api_tokens_pagination_errors_and_feedback(seeded: Seeded) -> None:
    api = seeded.client()
    headers = {"authorization": f"Bearer {seeded.reader_token}"}
    first = api.get("/api/matches?limit=2", headers=headers).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = api.get(f"/api/matches?limit=2&cursor={first['next_cursor']}", headers=headers).json()
    seen = [item["match_id"] for item in first["items"] + rest["items"]]
    assert len(seen) == len(set(seen)) == 4 and rest["next_cursor"] is None
    assert api.get("/api/matches?cursor=garbage", headers=headers).json() == {
        "error": {
            "status": 400,
            "code": "invalid_cursor",
            "message": api.get("/api/matches?cursor=garbage", headers=headers).json()["error"]["message"],
        }
    }
    missing = api.get("/api/articles/999999", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    detail = api.get(f"/api/articles/{seeded.usfj_id}", headers=headers).json()
    assert {m["topic"] for m in detail["matches"]} == {TOPIC, "us-japan-alliance"}
    assert detail["matches"][0]["explanation"]["clauses"]["matched"] is True
    hostile = api.get(f"/api/articles/{seeded.hostile_id}", headers=headers).json()
    assert hostile["url"] is None  # a javascript: link is never handed out as a link

    made = api.post(
        "/api/feedback",
        headers=headers,
        json={"article_id": seeded.usfj_id, "topic": TOPIC, "relevant": False},
    )
    assert made.status_code == 201 and made.json()["user_name"] == "rita"
    topics = {t["name"]: t for t in api.get("/api/topics", headers=headers).json()["items"]}
    assert topics[TOPIC]["precision"] == 0.0
    assert (
        api.post("/api/feedback", headers=headers, json={"topic": TOPIC}).json()["error"]["code"]
        == "invalid_body"
    )
    assert len(api.get("/api/feedback", headers=headers).json()["items"]) == 1
    assert api.get("/api/feeds", headers=headers).json()["items"]
    assert (
        api.get("/api/alerts?status=failed", headers=headers).json()["items"][0]["id"]
        == seeded.failed_alert_id
    )
    # Pages of alerts and feedback (dataclass items) carry a cursor like the others.
    alerts_page = api.get("/api/alerts?limit=1", headers=headers)
    assert alerts_page.status_code == 200 and alerts_page.json()["next_cursor"]
    older = api.get(f"/api/alerts?limit=1&cursor={alerts_page.json()['next_cursor']}", headers=headers).json()
    assert older["items"][0]["id"] < alerts_page.json()["items"][0]["id"]

    operator = {"authorization": f"Bearer {seeded.operator_token}"}
    assert api.post(f"/api/alerts/{seeded.failed_alert_id}/retry", headers=operator).status_code == 200
    again = api.post(f"/api/alerts/{seeded.failed_alert_id}/retry", headers=operator)
    assert again.status_code in (200, 409)

    # A browser session may use the API, but a write needs the page's CSRF token in a header.
    browser = seeded.client("rita")
    body = {"article_id": seeded.quiet_id, "topic": TOPIC, "relevant": True}
    assert browser.post("/api/feedback", json=body).status_code == 403
    token = csrf_of(browser.get("/matches").text)
    assert browser.post("/api/feedback", json=body, headers={"x-csrf-token": token}).status_code == 201

    document = api.get("/api/openapi.json", headers=headers).json()
    assert document["openapi"].startswith("3.1")
    api_paths = {
        re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        for route in seeded.app.routes
        if isinstance(route, Route) and route.path.startswith("/api/") and route.path != "/api/openapi.json"
    }
    assert api_paths == set(document["paths"])


def test_topic_feeds_read_by_feedparser(seeded: Seeded) -> None:
    key = feed_key(ConsoleStore(seeded.engine).secret("topic-feeds"), TOPIC)
    client = seeded.client()  # no session: the key in the URL is the credential
    answer = client.get(f"/topics/feed/{TOPIC}/{key}.atom")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(answer.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    titles = [entry.title for entry in parsed.entries]
    assert "USFJ to become a joint force headquarters" in titles
    assert len(parsed.entries) == 2
    # Another topic's key does not open this topic.
    other = feed_key(ConsoleStore(seeded.engine).secret("topic-feeds"), "us-japan-alliance")
    assert client.get(f"/topics/feed/{TOPIC}/{other}.atom").status_code == 404
    feed = client.get(f"/topics/feed/{TOPIC}/{key}.json").json()
    assert len(feed["items"]) == 2


def test_users_commands_and_feedback_export(
    seeded: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = str(tmp_path / "newswatch.yaml")
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    out = io.StringIO()
    assert (
        main(["users", "add", "nora", "--role", "operator", "--password-stdin", "--config", config], out) == 0
    )
    out = io.StringIO()
    assert main(["users", "list", "--config", config], out) == 0
    assert "nora\toperator" in out.getvalue() and "rita\tread-only" in out.getvalue()
    client = seeded.client()
    login(client, "nora", "a long enough password")
    assert client.get("/matches").status_code == 200
    out = io.StringIO()
    assert main(["users", "token", "nora", "--config", config], out) == 0
    token = out.getvalue().strip()
    assert seeded.client().get("/api/topics", headers={"authorization": f"Bearer {token}"}).status_code == 200
    assert main(["users", "remove", "nora", "--config", config], io.StringIO()) == 0
    assert client.get("/matches").status_code == 303  # the session ends with the user

    reader = seeded.client("rita")
    page = reader.get(f"/articles/{seeded.hostile_id}")
    reader.post(
        f"/articles/{seeded.hostile_id}/feedback",
        data={"csrf": csrf_of(page.text), "topic": TOPIC, "relevant": "no"},
    )
    labels = tmp_path / "labels.jsonl"
    out = io.StringIO()
    assert main(["feedback", "export", "--config", config], out) == 0
    labels.write_text(out.getvalue(), encoding="utf-8")
    assert out.getvalue() == reader.get("/feedback/labels.jsonl").text
    out = io.StringIO()
    # The stored judgement is the measure: the topic matched an article judged not relevant.
    main(["eval", str(labels), "--topic", TOPIC, "--json", "--config", config], out)
    import json

    scores = json.loads(out.getvalue())["scores"]
    overall = next(score for score in scores if score["language"] == "all")
    assert overall["fp"] == 1


def test_playground_topic_references_reach_the_named_topics(seeded: Seeded) -> None:
    client = seeded.client("rita")
    # #topic in a typed query: everything that topic matches (only the topics named are compiled).
    answer = client.get("/playground/results", params={"q": "#usfj-reorganisation OR Osaka"})
    assert "<strong>3</strong> of 3 articles match" in answer.text
    unknown = client.get("/playground/results", params={"q": "#no-such-topic"})
    assert 'data-testid="playground-error"' in unknown.text


def test_topic_page_runs_the_golden_examples(seeded: Seeded) -> None:
    page = seeded.client("rita").get(f"/topics/{TOPIC}").text
    examples = len(seeded.config.topics[TOPIC].examples.match) + len(
        seeded.config.topics[TOPIC].examples.no_match
    )
    assert examples and f"{examples} of {examples} as expected." in page


def test_the_daemon_prepares_the_playground_window_at_the_first_query_not_while_it_starts(
    seeded: Seeded,
) -> None:
    # A daemon serving only /metrics would otherwise hold a month of folded articles for good
    # (issue 16: 70-105 MB at 100,000 stored); `newswatch web` prepares it while starting.
    served: dict[str, Starlette] = {"newswatch web": seeded.app, "the daemon": _daemon_app(seeded)}
    prepared: dict[str, int] = {}
    for name, app in served.items():
        with TestClient(app):  # runs the app's start-up
            window = app.state.console.window
            deadline = time.monotonic() + 10
            while not window._prepared and time.monotonic() < deadline and name == "newswatch web":
                time.sleep(0.05)
            time.sleep(0.2)
            prepared[name] = len(window._prepared)
    assert prepared["newswatch web"] > 0
    assert prepared["the daemon"] == 0
