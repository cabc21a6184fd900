"""The command line as an operator uses it: exit codes, output, --config and NEWSWATCH_CONFIG."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.store.db import head_revision
from tests.support.configs import SHIPPED_CONFIG, write_test_config
from tests.support.servers import FIXTURES, FixtureSite, SmtpSink

SEED_TEXT = str(FIXTURES / "articles" / "usfj-joint-force-hq.txt")
SEED_HTML = str(FIXTURES / "pages" / "usfj-joint-force-hq.html")
RAMEN_HTML = str(FIXTURES / "pages" / "tokyo-ramen-michelin.html")


# The seed article is about USFJ's reorganisation and, in the same breath, the alliance; two of its
# paragraphs are on Japan's own build-up.
SEED_TOPICS = ["japan-defence-buildup", "us-japan-alliance", "usfj-reorganisation"]


def _topic_of(subject: str) -> str:
    return subject.removeprefix("[newswatch] ").split(":", 1)[0]


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_check_config_ok() -> None:
    code, output = run("check-config", "--config", str(SHIPPED_CONFIG))
    assert code == 0 and "OK" in output


def test_match_exit_codes_like_grep() -> None:
    assert run("match", "--config", str(SHIPPED_CONFIG), SEED_TEXT)[0] == 0
    assert run("match", "--config", str(SHIPPED_CONFIG), RAMEN_HTML)[0] == 1
    assert run("match", "--config", str(SHIPPED_CONFIG), RAMEN_HTML, SEED_HTML)[0] == 0


def test_match_explains_in_text() -> None:
    code, output = run("match", "--config", str(SHIPPED_CONFIG), "--topic", "usfj-reorganisation", SEED_HTML)
    assert code == 0
    assert output.startswith("MATCH    usfj-reorganisation (score ")
    assert "    query: ((@usfj NEAR/40 (@new-command OR (@change NEAR/6 @command-nouns)))" in output
    assert "        yes @usfj: USFJ, U.S. Forces Japan, Stephen Jost (" in output
    assert "[joint force headquarters]" in output


def test_match_json_one_object_per_input_and_topic() -> None:
    code, output = run("match", "--config", str(SHIPPED_CONFIG), "--json", SEED_TEXT, RAMEN_HTML)
    lines = [json.loads(line) for line in output.splitlines()]
    assert code == 0
    topics = ["usfj-reorganisation", "us-japan-alliance", "japan-defence-buildup"]
    assert [(line["input"], line["topic"]) for line in lines] == [
        (source, topic) for source in (SEED_TEXT, RAMEN_HTML) for topic in topics
    ]
    assert [line["matched"] for line in lines] == [True, True, True, False, False, False]
    assert set(lines[0]) == {"input", "topic", "matched", "score", "explanation"}
    assert lines[0]["score"] > 0 and lines[0]["explanation"]["hits"]
    assert lines[0]["explanation"]["clauses"]["op"] == "and"  # the watchlist AND NOT a foreign title
    # The unrelated article says why: nothing of the query is there.
    assert lines[3]["explanation"]["reasons_not_matched"][0].startswith("none of the alternatives holds")


def test_match_from_url(fixture_site: FixtureSite) -> None:
    url = fixture_site.url("/news/2025/10/29/usfj-joint-force-headquarters-phase-two")
    code, output = run(
        "match", "--config", str(SHIPPED_CONFIG), "--topic", "usfj-reorganisation", "--json", url
    )
    assert code == 0 and json.loads(output)["matched"]


def test_match_unknown_topic_and_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("match", "--config", str(SHIPPED_CONFIG), "--topic", "nope", SEED_TEXT)[0] == 2
    assert "unknown topic 'nope'" in capsys.readouterr().err
    # A missing input is bad input (2), not "no match" (1).
    assert run("match", "--config", str(SHIPPED_CONFIG), "/no/such/file.txt")[0] == 2
    assert "/no/such/file.txt" in capsys.readouterr().err


def test_config_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWATCH_CONFIG", str(SHIPPED_CONFIG))
    assert run("check-config")[0] == 0


def test_db_upgrade(tmp_path: Path, database_url: str) -> None:
    config = write_test_config(tmp_path / "c.yaml", database_url=database_url, feeds=[])
    code, output = run("db", "upgrade", "--config", str(config))
    assert code == 0 and f"revision {head_revision()}" in output


def test_python_dash_m_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "check-config", "--config", str(SHIPPED_CONFIG)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_run_daemon_polls_alerts_and_stops_cleanly_on_sigterm(
    tmp_path: Path, database_url: str, fixture_site: FixtureSite, smtp_sink: SmtpSink
) -> None:
    config = write_test_config(
        tmp_path / "c.yaml",
        database_url=database_url,
        feeds=[
            {
                "name": "Pacific Security Desk",
                "url": fixture_site.url("/feeds/pacific-security-desk.xml"),
                "interval": "1s",
            }
        ],
        smtp_port=smtp_sink.port,
    )
    daemon = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        # The seed article matches every shipped topic: one email each.
        while len(smtp_sink.messages) < len(SEED_TOPICS) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sorted(_topic_of(mail.subject) for mail in smtp_sink.messages) == SEED_TOPICS
        polls_before = len(fixture_site.requests_to("/feeds/pacific-security-desk.xml"))
        time.sleep(2.5)
        # It keeps polling on its interval, and a re-poll sends nothing new.
        assert len(fixture_site.requests_to("/feeds/pacific-security-desk.xml")) > polls_before
        assert len(smtp_sink.messages) == len(SEED_TOPICS)
        # SIGHUP re-reads the (unchanged) config and carries on.
        daemon.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        assert daemon.poll() is None
        daemon.send_signal(signal.SIGTERM)
        output, _ = daemon.communicate(timeout=40)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, output
    assert "received SIGTERM, stopping" in output and "stopped" in output
    assert ": SIGHUP" in output and "config reloaded: feeds +0 -0 ~0 (now 1), topics 3 (unchanged)" in output
