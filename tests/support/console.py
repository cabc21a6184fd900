"""A console over a real store: the shipped topics, articles matched by the real Matcher and stored
through Store.save_article with their planned alerts, one hostile article, users made through the
real password hashing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

from pipeline.alert import plan_alerts
from pipeline.config import Config, load_config
from pipeline.console.app import create_app
from pipeline.console.auth import hash_password, new_api_token
from pipeline.match.matcher import Matcher
from pipeline.models import Article, ExtractionMethod
from pipeline.store import Store, create_db_engine, upgrade_schema
from pipeline.store.console import ConsoleStore
from pipeline.store.outbox import Outbox
from tests.support.configs import write_test_config

PASSWORD = "correct horse battery"
NOW = datetime.now(UTC)

USFJ_BODY = (
    "U.S. Forces Japan will be upgraded to a joint force headquarters, the Pentagon said on Tuesday. "
    "The new command in Tokyo will work with Japan's Joint Operations Command.\n\n"
    "Officials said the reorganisation of USFJ would take several years, and the alliance partners "
    "agreed the upgrade at a meeting of defence ministers."
)
HOSTILE_TITLE = '<script>alert("title")</script> USFJ upgrade <img src=x onerror=alert(2)>'
HOSTILE_BODY = (
    'Before <img src=x onerror="alert(3)"> U.S. Forces Japan will be upgraded to a joint force '
    "headquarters <script>alert(4)</script>, officials said. The new command in Tokyo works with "
    'Japan\'s Joint Operations Command. <a href="javascript:alert(5)">click</a>'
)
HOSTILE_AUTHOR = "<script>alert('author')</script>"
HOSTILE_LINK = "javascript:alert(document.cookie)//https://example.org/"
HOSTILE_FEED = "<script>alert('feed')</script> Desk"


@dataclass
class Seeded:
    config: Config
    engine: Engine
    app: Starlette
    usfj_id: int
    hostile_id: int
    quiet_id: int
    failed_alert_id: int
    operator_token: str
    reader_token: str

    def client(self, user: str | None = None) -> TestClient:
        client = TestClient(self.app, follow_redirects=False)
        if user:
            login(client, user)
        return client


def login(client: TestClient, name: str, password: str = PASSWORD) -> None:
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    answer = client.post(
        "/login", data={"csrf": csrf, "name": name, "password": password, "next": "/matches"}
    )
    assert answer.status_code == 303, answer.text


def csrf_of(html: str) -> str:
    return html.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def _article(number: int, title: str, body: str, **fields: object) -> Article:
    url = f"https://news.example.org/2026/12/story-{number}"
    values: dict[str, object] = {
        "url": url,
        "canonical_url": url,
        "title": title,
        "body": body,
        "published": NOW - timedelta(hours=number),
        "author": "Desk staff",
        "language": "en",
        "source": "Pacific Security Desk",
        "method": ExtractionMethod.PAGE,
    }
    values.update(fields)
    return Article(**values)  # type: ignore[arg-type]


def seed(tmp_path: Path, database_url: str) -> Seeded:
    config = load_config(
        write_test_config(
            tmp_path / "newswatch.yaml",
            database_url=database_url,
            feeds=[],
            webhook_url="https://hooks.example.org/x",
        )
    )
    engine = create_db_engine(database_url)
    upgrade_schema(engine)
    store = Store(engine)
    matcher = Matcher.from_topics(config.topics, config.aliases)
    desk = store.feed_state("https://feeds.example.org/desk.xml", "Pacific Security Desk").feed_id
    hostile_feed = store.feed_state("https://feeds.example.org/hostile.xml", HOSTILE_FEED).feed_id
    ids = []
    for number, article, feed in (
        (1, _article(1, "USFJ to become a joint force headquarters", USFJ_BODY), desk),
        (
            2,
            _article(
                2, HOSTILE_TITLE, HOSTILE_BODY, author=HOSTILE_AUTHOR, url=HOSTILE_LINK, source=HOSTILE_FEED
            ),
            hostile_feed,
        ),
        (
            3,
            _article(3, "Rainy season starts early in Osaka", "Forecasters expect heavy rain this week."),
            desk,
        ),
    ):
        verdicts = matcher.match(article)
        assert bool(verdicts) == (number != 3), (number, verdicts)
        planned = plan_alerts(verdicts, config.topics, story=article.canonical_url)
        ids.append(store.save_article(article, feed, verdicts, planned).article_id)
    # One alert fails for real: claimed by a dispatcher, then given up on.
    outbox = Outbox(store)
    now = datetime.now(UTC) + timedelta(seconds=1)
    claim = outbox.claim("test-dispatcher", now, now + timedelta(minutes=1), limit=1, max_attempts=5)
    failed = claim.alerts[0].alert_id
    assert outbox.mark_failed(failed, "test-dispatcher", "HTTP 500 from the webhook", now)
    console = ConsoleStore(engine)
    operator = console.add_user("olive", hash_password(PASSWORD), "operator")
    reader = console.add_user("rita", hash_password(PASSWORD), "read-only")
    operator_token, operator_hash = new_api_token()
    reader_token, reader_hash = new_api_token()
    console.add_token(operator.id, "tests", operator_hash)
    console.add_token(reader.id, "tests", reader_hash)
    return Seeded(
        config,
        engine,
        create_app(config, engine),
        ids[0],
        ids[1],
        ids[2],
        failed,
        operator_token,
        reader_token,
    )


@contextmanager
def served(app: Starlette) -> Iterator[str]:
    """The app on a real loopback port (uvicorn in a thread); yields its base URL."""
    import threading
    import time

    import uvicorn

    from tests.support.servers import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
