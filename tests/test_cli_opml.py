"""`newswatch feeds import OPML` and `newswatch feeds export`: a feed reader's subscription list in,
the config's feeds out, with real files and listparser reading back what export wrote."""

from __future__ import annotations

import difflib
import io
import shutil
from pathlib import Path

import listparser
import pytest
import yaml

from pipeline.cli import main
from tests.support.configs import SHIPPED_CONFIG

HOSTILE = '<script>alert("x")</script> & Co'

# As a reader exports it: categories as nested outlines, one feed the config already has (with a
# trailing slash the config does not), one listed twice, a title that is markup, one not over http.
OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>My subscriptions</title></head>
  <body>
    <outline text="Defence">
      <outline type="rss" text="Stars and Stripes Pacific" xmlUrl="https://www.stripes.com/feeds/pacific.rss/"/>
      <outline type="rss" text="War on the Rocks" title="War on the Rocks" xmlUrl="https://warontherocks.com/feed/"/>
    </outline>
    <outline type="rss" text="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co"
             xmlUrl="https://hostile.example.org/rss?a=1&amp;b=2"/>
    <outline type="rss" text="War on the Rocks again" xmlUrl="https://warontherocks.com/feed/"/>
    <outline type="rss" text="Not a web feed" xmlUrl="javascript:alert(1)"/>
  </body>
</opml>
"""


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def _shipped_copy(tmp_path: Path) -> Path:
    path = tmp_path / "newswatch.yaml"
    shutil.copy(SHIPPED_CONFIG, path)
    return path


def test_import_adds_the_new_feeds_keeps_the_file_and_names_what_it_skipped(tmp_path: Path) -> None:
    config = _shipped_copy(tmp_path)
    before = config.read_text(encoding="utf-8")
    opml = tmp_path / "subscriptions.opml"
    opml.write_text(OPML, encoding="utf-8")

    code, output = run("feeds", "import", str(opml), "--interval", "30m", "--config", str(config))

    assert code == 0, output
    assert (
        "skipped https://www.stripes.com/feeds/pacific.rss/ ('Stars and Stripes Pacific'): "
        "already in the config as " in output
    )
    # listparser itself keeps one outline per URL: the second "War on the Rocks" is not even seen.
    assert "War on the Rocks again" not in output
    assert "skipped javascript:alert(1) ('Not a web feed'): not an http(s) URL" in output
    assert output.endswith(f"2 feeds added to {config} (2 feeds skipped); polled from the next cycle on\n")

    after = config.read_text(encoding="utf-8")
    # Every line that was there is still there, in order (comments included); new lines were only added.
    changes = [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"]
    assert all(line.startswith("+ ") for line in changes) and len(changes) == 6
    assert after.count("\n#") == before.count("\n#")
    feeds = yaml.safe_load(after)["feeds"]
    assert feeds[-2:] == [
        {"name": "War on the Rocks", "url": "https://warontherocks.com/feed/", "interval": "30m"},
        {"name": HOSTILE, "url": "https://hostile.example.org/rss?a=1&b=2", "interval": "30m"},
    ]
    assert run("check-config", "--skip-examples", "--config", str(config))[0] == 0

    # The same list again: nothing new, nothing written.
    code, output = run("feeds", "import", str(opml), "--config", str(config))
    assert code == 1 and output.endswith("the config is unchanged\n")
    assert config.read_text(encoding="utf-8") == after


def test_export_is_opml_2_that_listparser_reads_back(tmp_path: Path) -> None:
    config = _shipped_copy(tmp_path)
    opml = tmp_path / "in.opml"
    opml.write_text(OPML, encoding="utf-8")
    assert run("feeds", "import", str(opml), "--config", str(config))[0] == 0

    code, exported = run("feeds", "export", "--config", str(config))

    assert code == 0
    assert exported.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    # The hostile title is text in an attribute, never markup.
    assert "<script>" not in exported and "&lt;script&gt;" in exported
    parsed = listparser.parse(exported.encode())
    assert not parsed.bozo
    configured = yaml.safe_load(config.read_text(encoding="utf-8"))["feeds"]
    assert [(feed.title, feed.url) for feed in parsed.feeds] == [
        (feed["name"], feed["url"]) for feed in configured
    ]
    assert (HOSTILE, "https://hostile.example.org/rss?a=1&b=2") in [
        (feed.title, feed.url) for feed in parsed.feeds
    ]


def test_import_refuses_a_file_that_is_not_opml_and_a_bad_interval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _shipped_copy(tmp_path)
    before = config.read_text(encoding="utf-8")
    not_opml = tmp_path / "feed.xml"
    not_opml.write_text("<rss><channel><title>x</title></channel></rss>", encoding="utf-8")
    assert run("feeds", "import", str(not_opml), "--config", str(config))[0] == 2
    assert "is not an OPML subscription list" in capsys.readouterr().err
    assert run("feeds", "import", str(tmp_path / "missing.opml"), "--config", str(config))[0] == 2
    opml = tmp_path / "in.opml"
    opml.write_text(OPML, encoding="utf-8")
    assert run("feeds", "import", str(opml), "--interval", "soon", "--config", str(config))[0] == 2
    assert config.read_text(encoding="utf-8") == before
    assert not list(tmp_path.glob(".*newswatch-add"))


def test_a_large_import_on_a_terminal_draws_progress_and_still_writes_everything(tmp_path: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    config = _shipped_copy(tmp_path)
    outlines = "\n".join(
        f'<outline type="rss" text="Feed {index}" xmlUrl="https://feeds{index}.example.org/rss"/>'
        for index in range(30)
    )
    opml = tmp_path / "many.opml"
    opml.write_text(f'<opml version="2.0"><head/><body>{outlines}</body></opml>', encoding="utf-8")
    # stderr is a real pseudo-terminal, as for an operator at a shell; stdout stays a pipe.
    leader, follower = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pipeline", "feeds", "import", str(opml), "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=120,
            check=False,
        )
        os.close(follower)
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other end is closed: everything drawn has been read
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(leader)
    assert result.returncode == 0, result.stdout
    assert b"adding feeds" in drawn
    assert result.stdout.decode().endswith(
        "30 feeds added to " + str(config) + "; polled from the next cycle on\n"
    )
    assert len(yaml.safe_load(config.read_text(encoding="utf-8"))["feeds"]) == 10 + 30
