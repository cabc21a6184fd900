"""`newswatch init` and `newswatch feeds add`: a config to start from, and feeds added to it
without losing a comment. Real files, a real HTTP server."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from pipeline.cli import main
from tests.support.configs import SHIPPED_CONFIG
from tests.support.servers import FixtureSite, Response

FEED_PATH = "/feeds/pacific-security-desk.xml"
FEED_TITLE = "Pacific Security Desk – Latest"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_init_writes_a_valid_commented_starter_and_never_overwrites(tmp_path: Path) -> None:
    code, output = run("init", str(tmp_path / "cfg"))
    config = tmp_path / "cfg" / "newswatch.yaml"
    assert code == 0 and output.startswith(f"wrote {config}. Next:")
    assert f"newswatch check-config --config {config}" in output
    text = config.read_text(encoding="utf-8")
    assert text.count("\n#") >= 5 and "feeds add" in text
    code, output = run("check-config", "--config", str(config))
    assert code == 0 and "OK (1 feed, 1 topic, 1 channel)" in output
    config.write_text(text + "# mine\n", encoding="utf-8")
    assert run("init", str(tmp_path / "cfg"))[0] == 2
    assert config.read_text(encoding="utf-8").endswith("# mine\n")


def _shipped_copy(tmp_path: Path) -> Path:
    path = tmp_path / "newswatch.yaml"
    shutil.copy(SHIPPED_CONFIG, path)
    return path


def test_feeds_add_discovers_the_feed_from_a_page_and_keeps_the_file_as_written(
    tmp_path: Path, fixture_site: FixtureSite
) -> None:
    page = (
        b'<html><head><title>Home</title><link rel="stylesheet" href="/s.css">'
        b'<link rel="alternate" type="application/rss+xml" title="Latest" href="' + FEED_PATH.encode() + b'">'
        b"</head><body>news</body></html>"
    )
    fixture_site.add("/", Response(200, page, {"Content-Type": "text/html"}))
    config = _shipped_copy(tmp_path)
    before = config.read_text(encoding="utf-8")

    code, output = run("feeds", "add", fixture_site.url("/"), "--interval", "15m", "--config", str(config))

    feed_url = fixture_site.url(FEED_PATH)
    assert code == 0, output
    assert output.startswith(f"added feed '{FEED_TITLE}': {feed_url} (found on {fixture_site.url('/')})")
    after = config.read_text(encoding="utf-8")
    # Exactly three lines more, after the last feed; every comment and hand-laid list unchanged.
    added = f"  - name: {FEED_TITLE}\n    url: {feed_url}\n    interval: 15m\n"
    assert after == before.replace("    max_interval: 2h\n\n", f"    max_interval: 2h\n{added}\n", 1)
    assert run("check-config", "--skip-examples", "--config", str(config))[0] == 0

    # The same feed again: already there, nothing written.
    code, _ = run("feeds", "add", feed_url, "--config", str(config))
    assert code == 1 and config.read_text(encoding="utf-8") == after


def test_feeds_add_a_feed_url_with_a_name(tmp_path: Path, fixture_site: FixtureSite) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("# mine\ndatabase: sqlite:///x.db\nfeeds: []  # none yet\n", encoding="utf-8")
    code, output = run("feeds", "add", fixture_site.url(FEED_PATH), "--name", "Desk", "--config", str(config))
    assert code == 0, output
    text = config.read_text(encoding="utf-8")
    assert text.startswith("# mine\n") and "- name: Desk\n" in text and "# none yet" in text
    assert run("check-config", "--config", str(config))[0] == 0


def test_feeds_add_refuses_a_page_without_a_feed(tmp_path: Path, fixture_site: FixtureSite) -> None:
    config = _shipped_copy(tmp_path)
    before = config.read_text(encoding="utf-8")
    page = fixture_site.url("/news/2025/10/29/usfj-joint-force-headquarters-phase-two")
    assert run("feeds", "add", page, "--config", str(config))[0] == 2
    assert run("feeds", "add", page, "--interval", "soon", "--config", str(config))[0] == 2
    assert config.read_text(encoding="utf-8") == before
    assert not list(tmp_path.glob(".*newswatch-add"))
