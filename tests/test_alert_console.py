"""The console channel, added as one module plus its registration: alerts from the durable outbox
written to standard output, read back from a real `newswatch alerts send` process (text) and from
the captured stream (JSON lines), each sent once and then marked sent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from pipeline.alert import build_channels
from pipeline.alert.admin import describe_channel
from pipeline.alert.dispatch import Dispatcher
from pipeline.alert.registry import channel_types
from pipeline.config import ConfigError, parse_config
from pipeline.store.outbox import Outbox
from tests.support.alerts import (
    ALIASES,
    USFJ_QUERY,
    add_matches,
    article,
    matcher_for,
    open_store,
    verdict,
    write_config,
)

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "webhook-payload.schema.json").read_text())


def console_document(database_url: str, **channel: str) -> dict[str, object]:
    return {
        "database": database_url,
        "aliases": ALIASES,
        "topics": {"usfj": {"query": USFJ_QUERY, "channels": ["screen"]}},
        "channels": {"screen": {"type": "console", **channel}},
    }


def send_in_a_process(config_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "alerts", "send", "--config", str(config_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        check=False,
    )


def test_console_text_from_a_real_dispatcher_process_once(tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "newswatch.yaml"
    config = write_config(path, console_document(database_url))
    store = open_store(config.database)
    (key,) = add_matches(store, config, [1], "usfj")

    first = send_in_a_process(path)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    for expected in (
        "[newswatch] usfj: USFJ reorganisation update 1",
        "Topic:     usfj",
        "Source:    Pacific Security Desk",
        "Published: 2025-10-29 14:20 UTC",
        "Link:      https://news.example.org/2025/10/29/story-1",
        f"  query: {USFJ_QUERY}",
        "      yes @usfj: USFJ, U.S. Forces Japan (6 mentions)",
        '      yes NOT "U.S. Forces Korea": absent, as required',
        # Whatever the matcher scores the article (its scoring is not this test's business).
        f"  score {verdict('usfj', article(1), matcher_for(config)).score:g}, ",
        "  snippet: …have time.” ERBIL (Kurdistan24)",
        f"newswatch alert {key}",
        "alerts: 1 sent, 0 to retry, 0 failed",
    ):
        assert expected in out, expected
    assert Outbox(store).counts() == {"sent": 1}

    again = send_in_a_process(path)
    assert again.returncode == 0, again.stderr
    assert "usfj" not in again.stdout and "alerts: 0 sent" in again.stdout
    store.engine.dispose()


def test_console_json_lines_are_webhook_payloads(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "c.yaml", console_document(database_url, format="json"))
    store = open_store(config.database)
    keys = add_matches(store, config, [1, 2], "usfj")
    capsys.readouterr()
    channels = build_channels(config.channels)
    report = Dispatcher(store, channels, config).run()
    assert (report.sent, report.failed) == (2, 0)
    assert Dispatcher(store, channels, config).run().sent == 0  # marked sent: never written again
    lines = capsys.readouterr().out.splitlines()
    store.engine.dispose()

    payloads = [json.loads(line) for line in lines]
    assert [payload["id"] for payload in payloads] == keys
    for payload in payloads:
        jsonschema.validate(payload, SCHEMA)
        assert payload["explanation"]["clauses"]["op"] == "and"
        assert payload["explanation"]["format_version"] == 2


def test_console_is_registered_described_and_validated() -> None:
    assert list(channel_types()) == ["email", "webhook", "apprise", "console"]
    config = parse_config({"channels": {"screen": {"type": "console", "format": "json"}}})
    assert describe_channel("screen", config.channels["screen"]) == (
        "channel screen: console: JSON lines to standard output"
    )
    with pytest.raises(ConfigError) as caught:
        parse_config({"channels": {"screen": {"type": "console", "format": "xml", "colour": True}}})
    assert [str(problem) for problem in caught.value.problems] == [
        "channels.screen.format: Input should be 'text' or 'json'",
        "channels.screen.colour: unknown key 'colour'; this section takes type, enabled, rate_limit, format",
    ]
