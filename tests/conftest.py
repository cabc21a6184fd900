from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import fresh_postgres_database
from tests.support.servers import FixtureSite, LocalHTTPServer, SmtpSink, WebhookReceiver


@pytest.fixture
def fixture_site() -> Iterator[FixtureSite]:
    site = FixtureSite().start()
    yield site
    site.stop()


@pytest.fixture
def http_server() -> Iterator[LocalHTTPServer]:
    server = LocalHTTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test using this runs twice: on a SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'newswatch.db'}"
    else:
        with fresh_postgres_database() as url:
            yield url


@pytest.fixture(autouse=True)
def _quiet_test_servers() -> None:
    # aiosmtpd logs every SMTP verb at INFO; it buries the pipeline's own lines in failure reports.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
