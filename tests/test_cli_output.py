"""How the command line reads: help, version, exit codes, dates, counts, closed pipes, read-only
commands that never create a database. Real subprocesses, servers and SQLite files throughout."""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline import __version__
from pipeline.alert.secrets import MASK, Redactor
from pipeline.cli import build_parser, main
from pipeline.humanize import human_duration, iso_time, plural
from tests.support.configs import SHIPPED_CONFIG, write_test_config
from tests.support.servers import FIXTURES, FixtureSite, WebhookReceiver, free_port

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
SEED_TEXT = str(FIXTURES / "articles" / "usfj-joint-force-hq.txt")
SEED_TITLE = Path(SEED_TEXT).read_text(encoding="utf-8").splitlines()[0]


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def newswatch(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *argv], capture_output=True, text=True, timeout=120, cwd=cwd
    )


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the demo's two stored matches, made by a real `newswatch demo` cycle."""
    directory = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--keep", str(directory)], out=io.StringIO()) == 0
    return directory


# --- help and version ---------------------------------------------------------------------


def _subcommand_parsers() -> dict[str, object]:
    found = {}

    def walk(parser: object, prefix: str) -> None:
        for action in parser._actions:  # type: ignore[attr-defined]
            if not isinstance(action, argparse._SubParsersAction):
                continue
            for name, sub in action.choices.items():
                if hasattr(sub, "format_help"):
                    found[f"{prefix}{name}"] = sub
                    walk(sub, f"{prefix}{name} ")

    walk(build_parser(), "")
    return found


def test_top_level_help_is_for_operators() -> None:
    result = newswatch("--help")
    assert result.returncode == 0
    assert "poll feeds, match topic watchlists" in result.stdout
    # The module docstring is for developers, not for --help.
    assert "argument parsing" not in result.stdout and "import" not in result.stdout
    assert "exit codes:\n  0  ok\n  1  nothing matched" in result.stdout
    assert "  3  runtime failure" in result.stdout and "newswatch demo" in result.stdout


@pytest.mark.parametrize("name", sorted(_subcommand_parsers()))
def test_every_subcommand_has_a_description_an_example_and_the_exit_codes(name: str) -> None:
    text = _subcommand_parsers()[name].format_help()  # type: ignore[attr-defined]
    description = text.split("\n\n")[1]
    assert description.strip() and not description.startswith(("positional", "options"))
    assert "\nexample:\n  newswatch " in text
    assert "exit codes:" in text and "3  runtime failure" in text


def test_version() -> None:
    result = newswatch("--version")
    assert result.returncode == 0 and result.stdout == f"newswatch {__version__}\n"


# --- exit codes ------------------------------------------------------------------------


def test_match_missing_input_is_bad_input_not_no_match() -> None:
    result = newswatch("match", "--config", str(SHIPPED_CONFIG), "/no/such/file.txt")
    assert result.returncode == 2
    assert result.stderr == "newswatch match: cannot read /no/such/file.txt: No such file or directory\n"
    # Like grep: the other inputs are still matched and printed.
    result = newswatch("match", "--config", str(SHIPPED_CONFIG), "/no/such/file.txt", SEED_TEXT)
    assert result.returncode == 2 and result.stdout.startswith("MATCH ")


def test_once_exits_1_when_every_feed_failed(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    config = write_test_config(
        tmp_path / "c.yaml",
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        feeds=[{"name": "Dead A", "url": f"{dead}/a.xml"}, {"name": "Dead B", "url": f"{dead}/b.xml"}],
    )
    code, output = run("once", "--config", str(config))
    assert code == 1
    assert "every feed failed" in output and "feed 'Dead A'" in output


def test_unknown_topic_is_bad_input(demo_dir: Path) -> None:
    result = newswatch(
        "match", "--config", str(demo_dir / "newswatch-demo.yaml"), "--topic", "nope", SEED_TEXT
    )
    assert result.returncode == 2
    assert result.stderr.startswith("newswatch match: unknown topic 'nope'; known: usfj-reorganisation")


# --- read-only commands never create a database -----------------------------------------


@pytest.mark.parametrize(
    "argv", [["matches"], ["alerts"], ["alerts", "list"], ["feeds"], ["feeds", "--json"], ["backtest"]]
)
def test_read_only_commands_never_create_a_database(tmp_path: Path, argv: list[str]) -> None:
    database = tmp_path / "data" / "missing.db"
    config = write_test_config(tmp_path / "c.yaml", database_url=f"sqlite:///{database}", feeds=[])
    result = newswatch(*argv, "--config", str(config))
    assert result.returncode == 1
    assert f"there is no database yet at {database}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not database.exists() and not database.parent.exists()


# --- newswatch matches -------------------------------------------------------------------


def test_matches_lists_the_stored_matches_newest_first(demo_dir: Path) -> None:
    config = str(demo_dir / "newswatch-demo.yaml")
    code, output = run("matches", "--config", config)
    assert code == 0
    entries = output.split("\n\n")[0].splitlines()
    assert re.match(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC  (us-japan-alliance|usfj-reorganisation) \(score \d+\)  ", entries[0]
    )
    assert f"usfj-reorganisation (score 9)  {SEED_TITLE}" in output
    assert "    from Pacific Security Desk (demo): http://127.0.0.1:" in output
    assert "    snippet: " in output and "[U.S. Forces Japan]" in output
    assert output.endswith("2 matches (newest first, at most 20)\n")

    code, output = run("matches", "--config", config, "--topic", "usfj-reorganisation", "--explain")
    assert code == 0 and output.endswith("1 match for topic usfj-reorganisation (newest first, at most 20)\n")
    assert "    query: @usfj NEAR/25 @command-overhaul\n" in output
    assert run("matches", "--config", config, "--limit", "1")[1].count("    from ") == 1


def test_matches_json_and_filters(demo_dir: Path) -> None:
    config = str(demo_dir / "newswatch-demo.yaml")
    code, output = run("matches", "--config", config, "--json", "--since", "7d")
    records = [json.loads(line) for line in output.splitlines()]
    assert code == 0 and len(records) == 2
    seed = next(record for record in records if record["topic"] == "usfj-reorganisation")
    assert seed["title"] == SEED_TITLE and seed["score"] == 9
    assert seed["source"] == "Pacific Security Desk (demo)"
    assert ISO_UTC.match(seed["matched_at"]) and ISO_UTC.match(seed["published_at"])
    assert seed["url"].endswith("/news/2025/10/29/usfj-joint-force-headquarters-phase-two")
    assert "[USFJ]" in seed["snippet"] and seed["explanation"]["clauses"]["op"] == "near"
    # Nothing in a window that ended before the demo ran, nothing for a topic that never matched.
    code, output = run("matches", "--config", config, "--since", "1ms")
    assert code == 1 and output.startswith("no matches since ")
    assert run("matches", "--config", config, "--topic", "elsewhere")[0] == 1


# --- one date style and null in every --json --------------------------------------------


def test_feeds_json_dates_are_iso_utc_or_null(demo_dir: Path, tmp_path: Path) -> None:
    document = (demo_dir / "newswatch-demo.yaml").read_text(encoding="utf-8")
    extra_feed = "feeds:\n  - name: Never polled\n    url: https://news.example.org/never.xml\n"
    config = tmp_path / "c.yaml"
    config.write_text(document.replace("feeds:\n", extra_feed, 1), encoding="utf-8")
    code, output = run("feeds", "--config", str(config), "--json")
    rows = {row["name"]: row for row in map(json.loads, output.splitlines())}
    assert code == 0
    polled, never = rows["Pacific Security Desk (demo)"], rows["Never polled"]
    assert ISO_UTC.match(polled["last_poll"]) and ISO_UTC.match(polled["last_success"])
    assert ISO_UTC.match(polled["next_poll"]) and polled["interval"] == "10m"
    assert never["last_poll"] is None and never["last_success"] is None and never["last_error"] is None


def test_alerts_json_dates_are_iso_utc_or_null(
    tmp_path: Path, fixture_site: FixtureSite, webhook_receiver: WebhookReceiver
) -> None:
    config = write_test_config(
        tmp_path / "c.yaml",
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        feeds=[{"name": "Desk", "url": fixture_site.url("/feeds/pacific-security-desk.xml")}],
        webhook_url=webhook_receiver.url("/hook"),
    )
    assert run("once", "--config", str(config))[0] == 0
    code, output = run("alerts", "--json", "--config", str(config))
    records = [json.loads(line) for line in output.splitlines()]
    assert code == 0 and {record["status"] for record in records} == {"sent"}
    for record in records:
        assert ISO_UTC.match(record["created_at"]) and ISO_UTC.match(record["sent_at"])
        assert record["failed_at"] is None and record["last_error"] is None


# --- closed pipes, counts, durations, secrets ----------------------------------------------


def test_no_traceback_when_the_reader_closes_the_pipe() -> None:
    # Enough output to fill the pipe many times over: the writer meets the closed pipe mid-way.
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "match", "--json", "--config", str(SHIPPED_CONFIG)]
        + [SEED_TEXT] * 60,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    assert json.loads(process.stdout.readline())["input"] == SEED_TEXT
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=60) == 0
    assert stderr == ""


def test_counts_are_pluralised(demo_dir: Path) -> None:
    code, output = run("check-config", "--skip-examples", "--config", str(demo_dir / "newswatch-demo.yaml"))
    assert code == 0 and "OK (1 feed, 2 topics, 1 channel)" in output
    assert [plural(n, "match", "matches") for n in (0, 1, 2)] == ["0 matches", "1 match", "2 matches"]
    assert [plural(n, "entry") for n in (1, 3)] == ["1 entry", "3 entries"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.25, "250ms"), (30, "30s"), (600, "10m"), (5400, "1h30m"), (7_776_000, "90d"), (90_061, "1d1h")],
)
def test_durations_read_as_the_config_writes_them(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def test_iso_time_is_one_style() -> None:
    assert iso_time(None) is None
    assert iso_time(datetime(2026, 12, 3, 9, 5, 7, 123456, tzinfo=UTC)) == "2026-12-03T09:05:07Z"
    assert iso_time(datetime(2026, 12, 3, 9, 5, 7)) == "2026-12-03T09:05:07Z"  # naive: stored UTC
    tokyo = datetime(2026, 12, 3, 18, 5, 7, tzinfo=UTC) + timedelta(hours=0)
    assert iso_time(tokyo.astimezone()) == "2026-12-03T18:05:07Z"


def test_a_short_secret_is_masked_only_as_a_whole_value() -> None:
    redact = Redactor(["ne", "hooktoken-5dd2a9f1c0"])
    assert redact("next tick 2026-12-03 for one channel") == "next tick 2026-12-03 for one channel"
    assert redact("login with password ne rejected") == f"login with password {MASK} rejected"
    assert redact("POST /hook/hooktoken-5dd2a9f1c0?x=1") == f"POST /hook/{MASK}?x=1"


def test_progress_is_drawn_on_a_terminal_only(demo_dir: Path) -> None:
    import os
    import pty

    argv = [sys.executable, "-m", "pipeline", "backtest", "--config", str(demo_dir / "newswatch-demo.yaml")]
    piped = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout.startswith("backtest: 2 articles stored; nothing is sent or written\n")

    controller, terminal = pty.openpty()
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=terminal) as process:
        os.close(terminal)
        stdout = process.stdout.read() if process.stdout else b""
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal's other end closed: the command has exited
                break
            if not chunk:
                break
            drawn += chunk
        assert process.wait(timeout=60) == 0
    os.close(controller)
    assert b"re-matching stored articles" in drawn
    # The progress never mixes into the output a script reads.
    assert stdout.decode() == piped.stdout


def test_matches_after_a_real_cycle_on_each_database(
    tmp_path: Path, database_url: str, fixture_site: FixtureSite
) -> None:
    config = write_test_config(
        tmp_path / "c.yaml",
        database_url=database_url,
        feeds=[{"name": "Desk", "url": fixture_site.url("/feeds/pacific-security-desk.xml")}],
    )
    assert run("once", "--config", str(config))[0] == 0
    # matches opens the database read-only (SQLite mode=ro; PostgreSQL read-only transactions).
    code, output = run("matches", "--config", str(config), "--json", "--topic", "usfj-reorganisation")
    (record,) = [json.loads(line) for line in output.splitlines()]
    assert code == 0 and record["title"] == SEED_TITLE and record["source"] == "Desk"
    assert ISO_UTC.match(record["matched_at"])
    code, output = run("matches", "--config", str(config))
    # One match for each shipped topic the seed article matches (tests/test_end_to_end.py: all three).
    assert code == 0 and output.endswith("3 matches (newest first, at most 20)\n")
