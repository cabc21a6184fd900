"""`newswatch backtest`: an edited watchlist re-run over the articles stored in the database, compared
with what matched at the time; it sends nothing and writes nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, func, select

from pipeline.cli import main
from pipeline.store.db import normalise_database_url
from pipeline.store.tables import AlertRow, ArticleRow, MatchRow
from tests.support.configs import write_test_config
from tests.support.servers import FixtureSite, SmtpSink

FEED_PATH = "/feeds/pacific-security-desk.xml"
SEED_TITLE = "U.S. and Japan Move to Next Phase of Joint Command Upgrade Amid China’s Expanding Power"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def counts(database_url: str) -> tuple[int, int, int]:
    engine = create_engine(normalise_database_url(database_url))
    try:
        with engine.connect() as connection:
            return tuple(  # type: ignore[return-value]
                int(connection.scalar(select(func.count(column))))
                for column in (ArticleRow.id, MatchRow.id, AlertRow.id)
            )
    finally:
        engine.dispose()


@pytest.fixture
def stored(tmp_path: Path, database_url: str, fixture_site: FixtureSite, smtp_sink: SmtpSink) -> Path:
    """A database after one real cycle over the seed feed with the shipped topics."""
    config = write_test_config(
        tmp_path / "current.yaml",
        database_url=database_url,
        feeds=[{"name": "Pacific Security Desk", "url": fixture_site.url(FEED_PATH)}],
        smtp_port=smtp_sink.port,
    )
    assert run("once", "--config", str(config))[0] == 0
    return config


def edited(current: Path, path: Path) -> Path:
    document = yaml.safe_load(current.read_text(encoding="utf-8"))
    topics = document["topics"]
    topics["usfj-reorganisation"]["query"] = "title:(@usfj NEAR/25 @new-command)"  # stricter
    del topics["us-japan-alliance"]
    topics["tokyo-food"] = {
        "query": "ramen AND Michelin",
        "channels": topics["japan-defence-buildup"]["channels"],
    }
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_backtest_reports_what_would_change_and_writes_nothing(
    stored: Path, tmp_path: Path, database_url: str, smtp_sink: SmtpSink
) -> None:
    before = counts(database_url)
    assert before == (2, 3, 3)  # two articles; the seed matched all three topics, one email each
    emails = len(smtp_sink.messages)
    new = edited(stored, tmp_path / "new.yaml")

    code, output = run("backtest", "--config", str(new), "--since", "30d")

    assert code == 1  # like diff: the edited topics would match differently
    lines = output.splitlines()
    assert lines[0].startswith("backtest: 2 articles first seen since ")
    assert lines[0].endswith("; nothing is sent or written")
    assert "usfj-reorganisation: matched 1 before, 0 now (+0 newly, -1 no longer)" in lines
    gone = next(line for line in lines if line.startswith("  - "))
    assert SEED_TITLE in gone and "in the title: not found: @usfj" in gone
    assert "japan-defence-buildup: matched 1 before, 1 now (unchanged)" in lines
    assert "tokyo-food: matched 0 before, 1 now (+1 newly, -0 no longer)" in lines
    newly = next(line for line in lines if line.startswith("  + "))
    assert "Tokyo Ramen Counter Keeps Its Michelin Star" in newly and "found ramen, Michelin" in newly
    assert "us-japan-alliance: not in this config; 1 stored match would stop" in lines
    # Nothing sent, nothing written.
    assert counts(database_url) == before
    assert len(smtp_sink.messages) == emails


def test_backtest_of_the_current_config_is_unchanged(stored: Path) -> None:
    code, output = run("backtest", "--config", str(stored))
    assert code == 0
    assert "usfj-reorganisation: matched 1 before, 1 now (unchanged)" in output
    assert "us-japan-alliance: matched 1 before, 1 now (unchanged)" in output


def test_backtest_json_topic_and_since(stored: Path, tmp_path: Path) -> None:
    new = edited(stored, tmp_path / "new.yaml")
    code, output = run("backtest", "--config", str(new), "--topic", "tokyo-food", "--json")
    assert code == 1
    (line,) = [json.loads(text) for text in output.splitlines()]
    assert line["topic"] == "tokyo-food" and line["in_config"] is True
    assert (line["matched_before"], line["matches_now"]) == (0, 1)
    assert line["newly_matching"][0]["title"].startswith("Tokyo Ramen Counter")
    assert line["no_longer_matching"] == []
    time.sleep(0.05)
    code, output = run("backtest", "--config", str(new), "--since", "10ms")
    assert code == 0 and output.startswith("backtest: 0 articles first seen since")


def test_backtest_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_test_config(
        tmp_path / "c.yaml", database_url=f"sqlite:///{tmp_path / 'none.db'}", feeds=[]
    )
    assert run("backtest", "--config", str(config))[0] == 1
    assert f"there is no database yet at {tmp_path / 'none.db'}" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
    assert run("backtest", "--config", str(config), "--since", "soon")[0] == 2
    assert "--since: 'soon' is not a duration" in capsys.readouterr().err
    assert run("backtest", "--config", str(config), "--topic", "nope")[0] == 2
    assert "unknown topic 'nope'" in capsys.readouterr().err
