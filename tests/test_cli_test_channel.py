"""`newswatch test-channel NAME`: one labelled test alert through the channel's real delivery code,
to a real SMTP server and a real webhook receiver on loopback, and nothing written to the database."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pipeline.cli import main
from tests.support.configs import write_test_config
from tests.support.servers import SmtpSink, WebhookReceiver, free_port


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def _config(tmp_path: Path, *, smtp_port: int | None = None, webhook_url: str | None = None) -> Path:
    return write_test_config(
        tmp_path / "newswatch.yaml",
        database_url=f"sqlite:///{tmp_path / 'newswatch.db'}",
        feeds=[],
        smtp_port=smtp_port,
        webhook_url=webhook_url,
    )


def test_sends_a_labelled_test_email_and_prints_the_servers_answer(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    config = _config(tmp_path, smtp_port=smtp_sink.port)
    code, output = run("test-channel", "test-email", "--config", str(config))
    assert code == 0, output
    assert f"SMTP 127.0.0.1:{smtp_sink.port} accepted the message for analyst@example.org: " in output
    assert "250 Message accepted for delivery" in output
    [mail] = smtp_sink.messages
    assert mail.subject == "[newswatch] test alert"
    assert "This is a test alert from newswatch" in mail.part("text/plain")
    # A test never touches the database, not even to create it.
    assert not (tmp_path / "newswatch.db").exists()


def test_sends_a_signed_test_webhook_and_prints_the_http_status(
    tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    from standardwebhooks import Webhook

    from tests.support.configs import WEBHOOK_SECRET

    config = _config(tmp_path, webhook_url=webhook_receiver.hook_url)
    code, output = run("test-channel", "test-webhook", "--config", str(config))
    assert code == 0, output
    assert output.splitlines()[-1] == "delivered: HTTP 200 OK"
    [delivery] = webhook_receiver.deliveries
    # Signed like a real alert: a receiver that verifies signatures accepts it.
    payload = Webhook(WEBHOOK_SECRET).verify(delivery.body, delivery.headers)
    assert payload["type"] == "newswatch.notice" and payload["subject"] == "test alert"
    assert "test alert" in payload["text"] and payload["details"]["channel"] == "test-webhook"
    # Two tests are two deliveries: receivers that drop a repeated webhook-id must not swallow one.
    assert run("test-channel", "test-webhook", "--config", str(config))[0] == 0
    assert len({request.headers["webhook-id"] for request in webhook_receiver.deliveries}) == 2
    assert not (tmp_path / "newswatch.db").exists()


def test_a_webhook_refusal_is_a_delivery_failure(
    tmp_path: Path, webhook_receiver: WebhookReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    webhook_receiver.status = 404
    config = _config(tmp_path, webhook_url=webhook_receiver.hook_url)
    code, _ = run("test-channel", "test-webhook", "--config", str(config))
    error = capsys.readouterr().err
    assert code == 3
    assert "not delivered (permanent: fix the channel's settings): webhook test-webhook: HTTP 404" in error


def test_a_closed_smtp_port_is_a_delivery_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()  # nothing listens there
    config = _config(tmp_path, smtp_port=port)
    code, output = run("test-channel", "test-email", "--config", str(config))
    error = capsys.readouterr().err
    assert code == 3, output
    assert "delivered:" not in output
    assert error.startswith("newswatch test-channel: not delivered (may pass on a retry): ")
    assert f"SMTP 127.0.0.1:{port}" in error and "ConnectionRefusedError" in error
    assert not (tmp_path / "newswatch.db").exists()


def test_an_unknown_channel_lists_the_known_ones(
    tmp_path: Path, smtp_sink: SmtpSink, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, smtp_port=smtp_sink.port, webhook_url="http://127.0.0.1:9/hook")
    code, _ = run("test-channel", "ops", "--config", str(config))
    assert code == 2
    assert "no channel named 'ops' in the config; known: test-email, test-webhook" in capsys.readouterr().err
    assert smtp_sink.messages == []


def test_a_channel_switched_off_by_the_environment_is_called_disabled(
    tmp_path: Path, smtp_sink: SmtpSink, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    config = _config(tmp_path, smtp_port=smtp_sink.port, webhook_url="http://127.0.0.1:9/hook")
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    # As the shipped config does it: enabled only when the environment names an SMTP host.
    document["channels"]["test-email"]["enabled"] = "${NEWSWATCH_TEST_SMTP:+true}"
    config.write_text(yaml.safe_dump(document), encoding="utf-8")
    monkeypatch.delenv("NEWSWATCH_TEST_SMTP", raising=False)
    assert run("test-channel", "test-email", "--config", str(config))[0] == 2
    assert "channel 'test-email' is disabled" in capsys.readouterr().err
    assert smtp_sink.messages == []
