"""Secrets (SMTP password, webhook secret and URL token, Apprise URL credentials) never appear in
logs, error messages, the stored outbox, `check-config` or `newswatch alerts`: every channel is made
to fail in the ways that tend to leak, at full verbosity, and everything captured is searched."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.alert.secrets import MASK, Redactor, redact_url, url_secrets
from pipeline.cli import main
from pipeline.store.tables import AlertRow
from tests.support.alerts import add_matches, open_store
from tests.support.configs import WEBHOOK_SECRET
from tests.support.servers import SmtpSink, free_port
from tests.support.tls import make_certificates

SMTP_PASSWORD = "smtp-Pa55word-7731"
HOOK_TOKEN = "hooktoken-5dd2a9f1c0"
APPRISE_PASSWORD = "apprise-Pa55-98c1"
APPRISE_TOKEN = "appriseToken4e2b7d"


def run(*argv: str) -> str:
    out = io.StringIO()
    main(list(argv), out=out)
    return out.getvalue()


def test_no_secret_reaches_any_output(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    certificates = make_certificates(tmp_path / "tls")
    # The server expects another password: the login fails, the classic place for a leak.
    sink = SmtpSink(tls_context=certificates.server_context(), credentials=("newswatch", "other")).start()
    closed = free_port()
    apprise_url = f"json://newswatch:{APPRISE_PASSWORD}@127.0.0.1:{closed}/notify/{APPRISE_TOKEN}"
    monkeypatch.setenv("SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("HOOK_TOKEN", HOOK_TOKEN)
    monkeypatch.setenv("APPRISE_URL", apprise_url)
    database = database_url
    config_path = tmp_path / "newswatch.yaml"
    config_path.write_text(
        f"""
database: {database}
topics:
  usfj:
    all: [USFJ]
    channels: [mail, hook, chat]
channels:
  mail:
    type: email
    to: [analyst@example.org]
    from: newswatch@example.org
    smtp:
      host: 127.0.0.1
      port: {sink.port}
      starttls: true
      username: newswatch
      password: ${{SMTP_PASSWORD}}
      ca_file: {certificates.ca_file}
  hook:
    type: webhook
    url: http://127.0.0.1:{closed}/hook?token=${{HOOK_TOKEN}}
    secret: ${{WEBHOOK_SECRET}}
  chat:
    type: apprise
    url: ${{APPRISE_URL}}
alerts:
  max_attempts: 2
  initial_backoff: 0.2s
  max_backoff: 0.2s
"""
    )
    from pipeline.config import load_config

    config = load_config(config_path)
    store = open_store(database)
    add_matches(store, config, [1, 2], "usfj")
    caplog.set_level(logging.DEBUG)
    outputs = []
    try:
        outputs.append(run("check-config", "-vv", "--config", str(config_path)))
        for _ in range(2):  # two rounds: retried, then failed for good
            outputs.append(run("alerts", "send", "-vv", "--config", str(config_path)))
            store.engine.dispose()
            # Due now instead of waiting out the backoff, as `alerts retry ID` does for an operator.
            with store.session() as session:
                pending = session.scalars(select(AlertRow.id).where(AlertRow.status == "pending")).all()
            if pending:
                outputs.append(run("alerts", "retry", *map(str, pending), "--config", str(config_path)))
        outputs.append(run("alerts", "-vv", "--config", str(config_path)))
        outputs.append(run("alerts", "--json", "--config", str(config_path)))
        outputs.append(run("alerts", "retry", "--failed", "--config", str(config_path)))
    finally:
        sink.stop()
    with store.session() as session:
        stored = [str(row) for row in session.execute(select(AlertRow.last_error, AlertRow.payload))]
    store.engine.dispose()
    captured = capsys.readouterr()
    everything = "\n".join([*outputs, captured.out, captured.err, caplog.text, *stored])

    # It all happened: every channel failed, was logged, stored and listed...
    assert "rejected the login for user 'newswatch'" in everything
    assert "webhook hook: ConnectError" in everything
    assert "apprise chat (JSON)" in everything
    assert "6 re-queued" in outputs[-1]
    assert "password ********" in outputs[0] and "apprise json://********" in outputs[0]
    assert "http://127.0.0.1:" in outputs[0] and "/…" in outputs[0]
    # ...and not one secret, in any form, is in any of it.
    base64_part = WEBHOOK_SECRET.removeprefix("whsec_")
    for secret in (SMTP_PASSWORD, HOOK_TOKEN, APPRISE_PASSWORD, APPRISE_TOKEN, apprise_url, base64_part):
        assert secret not in everything, f"leaked: {secret}"


def test_invalid_secrets_are_reported_without_their_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_secret = "whsec_tooShort9"
    bad_apprise = "notaservice://user:Sup3rS3cret@host/path"
    config = tmp_path / "bad.yaml"
    config.write_text(
        "channels:\n"
        f"  hook: {{type: webhook, url: 'https://hooks.example.org/x', secret: '{bad_secret}'}}\n"
        f"  chat: {{type: apprise, url: '{bad_apprise}'}}\n"
    )
    assert main(["check-config", "--config", str(config)]) == 2
    error = capsys.readouterr().err
    assert "channels.hook.secret: must be at least 16 bytes of base64" in error
    assert "channels.chat.url: not a usable Apprise URL (scheme 'notaservice')" in error
    assert "tooShort9" not in error and "Sup3rS3cret" not in error and "host/path" not in error


@pytest.mark.parametrize(
    ("url", "tokens", "kept"),
    [
        (
            "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/12315544",
            ["AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"],
            [],
        ),
        (
            "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general",
            ["TIiajkdnlazkcOXrIdevi7FQ"],
            ["general"],
        ),
        ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", ["JHMHI8qBe7bk2ZwO5U711o3dV_js"], []),
        (
            "ntfys://newswatch:Pw9x7Yq@ntfy.example.org/usfj-alerts",
            ["Pw9x7Yq"],
            ["newswatch", "ntfy.example.org"],
        ),
        ("json://127.0.0.1:8080/webhook?token=abcdef123", ["abcdef123"], ["webhook", "127.0.0.1"]),
    ],
)
def test_apprise_url_tokens_are_masked_and_words_kept(url: str, tokens: list[str], kept: list[str]) -> None:
    redact = Redactor(url_secrets(url, whole_path=True))
    assert redact(f"Failed to notify {url}.") == f"Failed to notify {MASK}."
    line = f"Posting to {' '.join(kept)}: token {tokens[0]} rejected for newswatch via webhook"
    masked = redact(line)
    assert all(token not in masked for token in tokens) and MASK in masked
    assert all(word in masked for word in kept) and "newswatch via webhook" in masked


def test_webhook_url_shown_without_path_or_query() -> None:
    assert (
        redact_url("https://hooks.example.org/services/T0/B0/XXXX?token=1") == "https://hooks.example.org/…"
    )
    assert redact_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
