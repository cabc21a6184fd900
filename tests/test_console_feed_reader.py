"""A topic's Atom feed read by a real feed reader: Debian's newsboat reloads it from the console
served on loopback, and its cache holds the topic's matches with their titles as plain text."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from pipeline.console.auth import feed_key
from pipeline.store.console import ConsoleStore
from tests.support.console import HOSTILE_TITLE, seed, served

TOPIC = "usfj-reorganisation"


@pytest.mark.slow
def test_newsboat_reads_a_topic_feed(tmp_path: Path) -> None:
    newsboat = shutil.which("newsboat")
    if newsboat is None:
        reason = "newsboat is not installed (apt-get install newsboat)"
        if os.environ.get("NEWSWATCH_REQUIRE_CHROMIUM"):  # CI installs it with chromium
            pytest.fail(reason)
        pytest.skip(reason)
    seeded = seed(tmp_path, f"sqlite:///{tmp_path / 'newswatch.db'}")
    key = feed_key(ConsoleStore(seeded.engine).secret("topic-feeds"), TOPIC)
    home = tmp_path / "home"
    home.mkdir()
    (home / "config").write_text("", encoding="utf-8")
    with served(seeded.app) as base:
        (home / "urls").write_text(f"{base}/topics/feed/{TOPIC}/{key}.atom\n", encoding="utf-8")
        run = subprocess.run(
            [newsboat, "-u", str(home / "urls"), "-c", str(home / "cache.db"), "-C", str(home / "config"),
             "-x", "reload"],
            env={**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home), "XDG_DATA_HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=60,
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    with sqlite3.connect(home / "cache.db") as cache:
        items = cache.execute("SELECT title, url FROM rss_item ORDER BY id").fetchall()
    titles = {title for title, _ in items}
    assert "USFJ to become a joint force headquarters" in titles
    # The hostile title arrives as the characters it is (type="text"), with no javascript: link.
    assert HOSTILE_TITLE in titles
    assert not any(url.startswith("javascript") for _, url in items)
