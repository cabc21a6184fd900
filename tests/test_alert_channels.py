"""Each channel against a real receiver on loopback: aiosmtpd over STARTTLS and implicit TLS with
AUTH (a CA made for the test), a local HTTP receiver verified with the `standardwebhooks` package
and the JSON Schema, and Apprise delivering through a json:// URL."""

from __future__ import annotations

import base64
import html
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from standardwebhooks import Webhook

from pipeline.alert import build_channels
from pipeline.alert.apprise import AppriseChannel, AppriseChannelConfig
from pipeline.alert.base import DeliveryError
from pipeline.alert.dispatch import Dispatcher
from pipeline.alert.email import EmailChannel, EmailChannelConfig
from pipeline.alert.webhook import WebhookChannel, WebhookChannelConfig, parse_retry_after
from pipeline.models import AlertKind, DigestDetails, Notice, OutgoingAlert
from pipeline.store.outbox import Outbox
from tests.support.alerts import (
    ALIASES,
    HOSTILE_BODY,
    HOSTILE_TITLE,
    SEED_BODY,
    add_matches,
    article,
    matcher_for,
    open_store,
    verdict,
    write_config,
)
from tests.support.configs import WEBHOOK_SECRET
from tests.support.servers import (
    LocalHTTPServer,
    RecordedRequest,
    Response,
    SmtpSink,
    WebhookReceiver,
    free_port,
)
from tests.support.tls import CertificateFiles, make_certificates

SCHEMA = json.loads((Path(__file__).parents[1] / "docs" / "webhook-payload.schema.json").read_text())
SMTP_USER, SMTP_PASSWORD = "newswatch", "smtp-pass-Zq81!"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> CertificateFiles:
    return make_certificates(tmp_path_factory.mktemp("tls"))


def email_document(port: int, **smtp: Any) -> dict[str, Any]:
    return {
        "type": "email",
        "to": ["analyst@example.org"],
        "from": "newswatch@alerts.example.org",
        "smtp": {"host": "127.0.0.1", "port": port, "timeout": "5s", **smtp},
    }


def email_channel(port: int, **smtp: Any) -> EmailChannel:
    return EmailChannel("mail", EmailChannelConfig.model_validate(email_document(port, **smtp)))


def notice_alert(key: str = "nw-notice-1") -> OutgoingAlert:
    notice = Notice("Feed 'Desk' is failing", "5 polls failed.", {"Last error": "HTTP 500 <b>"})
    return OutgoingAlert(7, key, "mail", 1, AlertKind.NOTICE, datetime.now(UTC), notice=notice)


# --- email ------------------------------------------------------------------------------


def test_email_over_starttls_with_login_carries_the_whole_match_escaped(
    tmp_path: Path, database_url: str, certificates: CertificateFiles
) -> None:
    sink = SmtpSink(tls_context=certificates.server_context(), credentials=(SMTP_USER, SMTP_PASSWORD)).start()
    try:
        smtp = {
            "starttls": True,
            "username": SMTP_USER,
            "password": SMTP_PASSWORD,
            "ca_file": str(certificates.ca_file),
        }
        config = write_config(
            tmp_path / "c.yaml",
            {
                "database": database_url,
                "topics": {"usfj": {"all": ["USFJ"], "channels": ["mail"]}},
                "channels": {"mail": email_document(sink.port, **smtp)},
            },
        )
        store = open_store(config.database)
        (key,) = add_matches(store, config, [1], "usfj", title=HOSTILE_TITLE, body=HOSTILE_BODY)
        report = Dispatcher(store, build_channels(config.channels), config).run()
    finally:
        sink.stop()

    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    assert sink.logins == [SMTP_USER]
    (mail,) = sink.messages
    assert mail.message["Message-ID"] == f"<{key}@alerts.example.org>"
    assert mail.message["X-Newswatch-Alert"] == key
    assert mail.subject.startswith("[newswatch] usfj: <script>")
    text, page = mail.part("text/plain"), mail.part("text/html")
    link = "https://news.example.org/2025/10/29/story-1"
    score = verdict("usfj", article(1, HOSTILE_TITLE, HOSTILE_BODY), matcher_for(config)).score
    # Plain text: everything a reader needs, verbatim (no markup to escape).
    for expected in (
        HOSTILE_TITLE,
        "Topic:     usfj",
        "Source:    Pacific Security Desk",
        "Published: 2025-10-29 14:20 UTC",
        f"Link:      {link}",
        "  yes USFJ (2 mentions)",
        f"  score {score:g}, ",  # then what the article's length needs (pipeline/match/evaluate.py)
        "[USFJ]",
    ):
        assert expected in text
    # HTML: the same, with every third-party string escaped and the hits marked.
    assert "<script>" not in page and "<img" not in page and 'href="javascript' not in page
    assert "&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt; USFJ &amp; &lt;b&gt;joint&lt;/b&gt;" in page
    assert "&lt;a href=&quot;javascript:alert(2)&quot;&gt;click&lt;/a&gt;" in page
    assert "<mark>USFJ</mark>" in page
    assert f'<a href="{link}">{link}</a>' in page
    assert "Pacific Security Desk" in page and "2025-10-29 14:20 UTC" in page
    assert "yes USFJ (2 mentions)" in page
    store.engine.dispose()


def test_a_real_match_of_the_seed_article_mails_its_clause_tree_in_text_and_html(
    tmp_path: Path, database_url: str, smtp_sink: SmtpSink
) -> None:
    # A query with every kind of line: an alias with its terms, an OR with a branch that found
    # nothing (counted under the OR), and a NOT whose excluded phrase is absent.
    query = '@usfj AND (reorgani* OR "joint force headquarters" OR 統合軍司令部) NOT "U.S. Forces Korea"'
    config = write_config(
        tmp_path / "c.yaml",
        {
            "database": database_url,
            "aliases": ALIASES,
            "topics": {"usfj": {"query": query, "channels": ["mail"]}},
            "channels": {"mail": email_document(smtp_sink.port)},
        },
    )
    store = open_store(config.database)
    (key,) = add_matches(store, config, [1], "usfj", body=SEED_BODY)  # matched by the real matcher
    report = Dispatcher(store, build_channels(config.channels), config).run()
    store.engine.dispose()

    assert report.sent == 1
    (mail,) = smtp_sink.messages
    assert mail.message["X-Newswatch-Alert"] == key
    text, page = mail.part("text/plain").replace("\r\n", "\n"), mail.part("text/html")
    tree = [
        f"  yes {query} (10 hits)",
        "      yes @usfj: USFJ, U.S. Forces Japan (6 mentions)",
        '      yes (reorgani* OR "joint force headquarters" OR 統合軍司令部) (4 hits)',
        "          yes reorgani* (3 mentions)",
        '          yes "joint force headquarters" (1 mention)',
        # Why it matched: the alternatives that held; the one that did not is named, not explained.
        "          (and 1 more alternative that did not hold: 統合軍司令部)",
        '      yes NOT "U.S. Forces Korea": absent, as required',
    ]
    assert "\n".join(tree) in text
    score = verdict("usfj", article(1, body=SEED_BODY), matcher_for(config)).score
    assert f"  query: {query}" in text and f"  score {score:g}, " in text
    assert "[U.S. Forces Japan] ([USFJ]) has completed the first phase" in text
    # The HTML part: the same lines, escaped, nested as lists.
    for line in tree:
        assert html.escape(line.strip()) in page
    assert '<ul><li style="color: #1a7f37">yes @usfj: USFJ, U.S. Forces Japan (6 mentions)</li>' in page
    assert '<li style="color: #999">(and 1 more alternative that did not hold: 統合軍司令部)</li>' in page
    assert "統合軍司令部: not found" not in text + page
    assert "<mark>U.S. Forces Japan</mark> (<mark>USFJ</mark>) has completed" in page


# aiosmtpd knows STARTTLS only, so it warns about AUTH without TLS on an implicit-TLS listener.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_email_over_implicit_tls_with_login(certificates: CertificateFiles) -> None:
    sink = SmtpSink(ssl_context=certificates.server_context(), credentials=(SMTP_USER, SMTP_PASSWORD)).start()
    try:
        channel = email_channel(
            sink.port, ssl=True, username=SMTP_USER, password=SMTP_PASSWORD, ca_file=str(certificates.ca_file)
        )
        channel.send(notice_alert())
        channel.send(notice_alert())  # a resend: same Message-ID
    finally:
        sink.stop()
    assert sink.logins == [SMTP_USER, SMTP_USER]
    assert [mail.message["Message-ID"] for mail in sink.messages] == ["<nw-notice-1@alerts.example.org>"] * 2
    assert "HTTP 500 &lt;b&gt;" in sink.messages[0].part("text/html")


def test_email_refuses_an_untrusted_certificate(certificates: CertificateFiles) -> None:
    sink = SmtpSink(tls_context=certificates.server_context()).start()
    try:
        with pytest.raises(DeliveryError) as caught:
            email_channel(sink.port, starttls=True).send(notice_alert())
    finally:
        sink.stop()
    assert "certificate not trusted" in str(caught.value) and "smtp.ca_file" in str(caught.value)
    assert not caught.value.permanent
    assert sink.messages == []


def test_email_wrong_password_is_permanent_and_not_echoed(certificates: CertificateFiles) -> None:
    sink = SmtpSink(
        tls_context=certificates.server_context(), credentials=(SMTP_USER, "the-right-one")
    ).start()
    try:
        channel = email_channel(
            sink.port,
            starttls=True,
            username=SMTP_USER,
            password=SMTP_PASSWORD,
            ca_file=str(certificates.ca_file),
        )
        with pytest.raises(DeliveryError) as caught:
            channel.send(notice_alert())
    finally:
        sink.stop()
    assert caught.value.permanent and "rejected the login" in str(caught.value)
    assert SMTP_PASSWORD not in str(caught.value)


def test_email_refused_recipient_is_permanent() -> None:
    sink = SmtpSink(refuse={"analyst@example.org": "550 5.1.1 no such mailbox"}).start()
    try:
        with pytest.raises(DeliveryError) as caught:
            email_channel(sink.port).send(notice_alert())
    finally:
        sink.stop()
    assert caught.value.permanent and "analyst@example.org (550)" in str(caught.value)


def test_email_server_down_is_transient() -> None:
    with pytest.raises(DeliveryError) as caught:
        email_channel(free_port()).send(notice_alert())
    assert not caught.value.permanent and "ConnectionRefusedError" in str(caught.value)


# --- webhook ----------------------------------------------------------------------------


def webhook_channel(url: str, timeout: str = "5s") -> WebhookChannel:
    config = {"type": "webhook", "url": url, "secret": WEBHOOK_SECRET, "timeout": timeout}
    return WebhookChannel("hook", WebhookChannelConfig.model_validate(config))


def test_webhook_payloads_validate_against_the_schema_and_verify_with_standardwebhooks(
    tmp_path: Path, database_url: str, webhook_receiver: WebhookReceiver
) -> None:
    config = write_config(
        tmp_path / "c.yaml",
        {
            "database": database_url,
            "topics": {"usfj": {"all": ["USFJ"], "channels": ["hook"]}},
            "channels": {
                "hook": {"type": "webhook", "url": webhook_receiver.hook_url, "secret": WEBHOOK_SECRET}
            },
        },
    )
    store = open_store(config.database)
    keys = add_matches(store, config, [1, 2], "usfj", title=HOSTILE_TITLE, body=HOSTILE_BODY)
    match_alerts = Outbox(store).load([1, 2])
    now = datetime.now(UTC)
    digest = OutgoingAlert(
        99,
        "nw-digest-key",
        "hook",
        1,
        AlertKind.DIGEST,
        now,
        digest=DigestDetails("0 8 * * *", "Asia/Tokyo", now, now - timedelta(days=1), match_alerts),
    )
    channel = webhook_channel(webhook_receiver.hook_url)
    for alert in [*match_alerts, notice_alert(), digest]:
        channel.send(alert)
    channel.close()
    store.engine.dispose()

    verifier = Webhook(WEBHOOK_SECRET)
    payloads = []
    for request in webhook_receiver.deliveries:
        payload = verifier.verify(request.body, request.headers)  # raises unless the signature is right
        jsonschema.validate(payload, SCHEMA)
        assert request.headers["webhook-id"] == request.headers["idempotency-key"] == payload["id"]
        assert request.headers["content-type"] == "application/json"
        payloads.append(payload)
    assert [payload["type"] for payload in payloads] == [
        "newswatch.match",
        "newswatch.match",
        "newswatch.notice",
        "newswatch.digest",
    ]
    assert [payload["id"] for payload in payloads[:2]] == keys
    assert payloads[0]["article"]["title"] == HOSTILE_TITLE  # JSON carries the text as it is
    assert [item["id"] for item in payloads[3]["items"]] == keys
    assert payloads[3]["timezone"] == "Asia/Tokyo" and payloads[3]["count"] == 2

    # A tampered body fails verification: the signature covers it.
    request = webhook_receiver.deliveries[0]
    with pytest.raises(Exception, match=r"(?i)signature"):
        verifier.verify(request.body.replace(b"USFJ", b"USFK"), request.headers)


def respond(status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(status, b"{}", headers or {})


@pytest.mark.parametrize(
    ("response", "permanent", "retry_after", "text"),
    [
        (respond(500), False, None, "HTTP 500"),
        (
            respond(503, {"Retry-After": "120"}),
            False,
            120.0,
            "HTTP 503 Service Unavailable, Retry-After 120s",
        ),
        (respond(429, {"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}), False, "date", "HTTP 429"),
        (respond(408), False, None, "HTTP 408"),
        (respond(400), True, None, "HTTP 400"),
        (respond(401), True, None, "HTTP 401"),
        (respond(404), True, None, "HTTP 404"),
        (respond(410), True, None, "HTTP 410"),
        (
            respond(301, {"Location": "https://elsewhere.example.org/"}),
            True,
            None,
            "redirects are not followed",
        ),
    ],
)
def test_webhook_answers_decide_retry(
    http_server: LocalHTTPServer, response: Response, permanent: bool, retry_after: object, text: str
) -> None:
    url = http_server.add("/hook", response)
    with pytest.raises(DeliveryError) as caught:
        webhook_channel(url).send(notice_alert())
    assert caught.value.permanent is permanent
    assert text in str(caught.value)
    if retry_after == "date":
        assert caught.value.retry_after is not None and caught.value.retry_after > 86400 * 365
    else:
        assert caught.value.retry_after == retry_after


def test_webhook_timeout_and_refused_connection_are_transient(http_server: LocalHTTPServer) -> None:
    slow = http_server.add("/slow", Response(200, b"{}", delay=2.0))
    with pytest.raises(DeliveryError) as caught:
        webhook_channel(slow, timeout="0.3s").send(notice_alert())
    assert not caught.value.permanent and "timed out after 0.3s" in str(caught.value)
    with pytest.raises(DeliveryError) as caught:
        webhook_channel(f"http://127.0.0.1:{free_port()}/hook").send(notice_alert())
    assert not caught.value.permanent and "ConnectError" in str(caught.value)


def test_retry_after_parsing() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("30", now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 00:01:00 GMT", now) == 60.0
    assert parse_retry_after("Wed, 31 Dec 2025 00:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


# --- Apprise ----------------------------------------------------------------------------

APPRISE_PASSWORD = "apprise-token-9f8e7d6c5b"


def apprise_url(server: LocalHTTPServer, path: str) -> str:
    host, port = server.base_url.removeprefix("http://").split(":")
    return f"json://newswatch:{APPRISE_PASSWORD}@{host}:{port}{path}"


def test_apprise_json_url_delivers_a_match_to_a_local_receiver(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer
) -> None:
    received: list[RecordedRequest] = []

    def accept(request: RecordedRequest) -> Response:
        received.append(request)
        return Response(200, b"ok")

    http_server.add("/apprise", accept)
    config = write_config(
        tmp_path / "c.yaml",
        {
            "database": database_url,
            "topics": {"usfj": {"all": ["USFJ"], "channels": ["chat"]}},
            "channels": {"chat": {"type": "apprise", "url": apprise_url(http_server, "/apprise")}},
        },
    )
    store = open_store(config.database)
    (key,) = add_matches(store, config, [1], "usfj")
    report = Dispatcher(store, build_channels(config.channels), config).run()
    store.engine.dispose()

    assert report.sent == 1
    (request,) = received
    body = json.loads(request.body)
    assert body["title"] == "[newswatch] usfj: USFJ reorganisation update 1"
    assert "Link:      https://news.example.org/2025/10/29/story-1" in body["message"]
    assert "  yes USFJ (4 mentions)" in body["message"]
    assert f"newswatch alert {key}" in body["message"]
    assert body["type"] == "info"
    # The credentials in the URL reached the receiver as HTTP basic auth.
    assert (
        request.headers["authorization"]
        == "Basic " + base64.b64encode(f"newswatch:{APPRISE_PASSWORD}".encode()).decode()
    )


def test_apprise_failure_is_retryable_and_names_no_secret(http_server: LocalHTTPServer) -> None:
    http_server.add("/down", Response(500, b"no"))
    url = apprise_url(http_server, "/down")
    channel = AppriseChannel("chat", AppriseChannelConfig(type="apprise", url=url))
    with pytest.raises(DeliveryError) as caught:
        channel.send(notice_alert())
    assert not caught.value.permanent
    assert "apprise chat (JSON)" in str(caught.value) and "error=500" in str(caught.value)
    assert APPRISE_PASSWORD not in str(caught.value)
