"""Config validation: every problem reported with its key path, secrets substituted and never echoed."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipeline.cli import main
from pipeline.config import ConfigError, load_config, parse_config, parse_duration, resolve_config_path

VALID = {
    "feeds": [{"name": "Feed", "url": "https://example.org/rss", "interval": "10m"}],
    "topics": {"usfj": {"all": ["USFJ"], "channels": ["ops"]}},
    "channels": {"ops": {"type": "webhook", "url": "https://hooks.example.org/x"}},
}


def problems(document: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(document, "test.yaml")
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400), ("250ms", 0.25), (45, 45), ("1.5h", 5400)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "", "-5m", "0s", "10 minutes", True])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_valid_config_and_defaults() -> None:
    config = parse_config(VALID)
    assert config.database == "sqlite:///data/newswatch.db"
    assert config.feeds[0].interval == 600
    assert config.topics["usfj"].min_score == 1.0


def test_the_shipped_example_is_valid() -> None:
    config = load_config(Path(__file__).parents[1] / "config" / "newswatch.yaml")
    assert "usfj-reorganisation" in config.topics


def test_the_shipped_watchlist_polls_real_publishers_over_https() -> None:
    config = load_config(Path(__file__).parents[1] / "config" / "newswatch.yaml")
    hosts = {urlsplit(feed.url).hostname for feed in config.feeds}
    assert all(urlsplit(feed.url).scheme == "https" for feed in config.feeds)
    assert len({feed.name for feed in config.feeds}) == len(config.feeds)
    # Japanese and U.S. government sources, Japanese and U.S. press, in English and Japanese.
    for expected in ("www.mod.go.jp", "www.defense.gov", "www.stripes.com", "www3.nhk.or.jp"):
        assert expected in hosts
    assert {"www.japantimes.co.jp", "english.kyodonews.net", "asia.nikkei.com"} <= hosts
    assert {"www.defensenews.com", "thediplomat.com"} <= hosts


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"topics": {"usfj": {"all": ["USFJ"], "channels": ["nope"]}}},
            "topics.usfj.channels[0]: unknown channel 'nope'",
        ),
        ({"topics": {"usfj": {"all": ["@ghost"]}}}, "topics.usfj.all[0]: unknown alias '@ghost'"),
        (
            {"topics": {"usfj": {"channels": []}}},
            "topics.usfj: a topic needs a 'query' or terms in 'all' or 'any'",
        ),
        ({"topics": {"usfj": {"any": ["  "]}}}, "topics.usfj.any[0]: empty term"),
        (
            {"feeds": [{"name": "a", "url": "file:///etc/passwd"}]},
            "feeds[0].url: 'file:///etc/passwd' is not an http(s) URL",
        ),
        ({"feeds": [{"url": "https://example.org/a"}]}, "feeds[0].name: Field required"),
        (
            {"feeds": [{"name": "a", "url": "https://example.org/a", "intervall": "5m"}]},
            "feeds[0].intervall: unknown key 'intervall' (did you mean 'interval'?)",
        ),
        (
            {"feeds": [{"name": "a", "url": "https://x.org/a"}, {"name": "b", "url": "https://x.org/a"}]},
            "feeds[1].url: duplicates feeds[0].url",
        ),
        (
            {"channels": {"ops": {"type": "pager", "url": "https://x"}}},
            "channels.ops: unknown channel type; expected one of email, webhook, apprise, console",
        ),
        (
            {"channels": {"ops": {"url": "https://x"}}},
            "channels.ops: missing 'type' (email, webhook, apprise, console)",
        ),
        (
            {"channels": {"ops": {"type": "email", "to": [], "from": "a@b", "smtp": {"host": "h"}}}},
            "channels.ops.to: List should have at least 1 item after validation, not 0",
        ),
        (
            {
                "channels": {
                    "ops": {"type": "email", "to": ["a@b"], "from": "a@b", "smtp": {"host": "h", "port": 0}}
                }
            },
            "channels.ops.smtp.port: Input should be greater than 0",
        ),
        (
            {"surprise": 1},
            "surprise: unknown key 'surprise'; this section takes database, feeds, aliases, "
            "topics, channels, fetch, alerts, web, logging, retention, extract, dedup, health, cluster",
        ),
    ],
)
def test_problems_name_the_key(change: dict[str, object], expected: str) -> None:
    assert expected in problems({**VALID, **change})


def test_all_problems_are_reported_together() -> None:
    found = problems(
        {
            **VALID,
            "feeds": [{"name": "a", "url": "gopher://x", "interval": "later"}],
            "topics": {"usfj": {"all": ["USFJ"], "channels": ["ops", "pager"]}},
        }
    )
    assert len(found) == 3
    assert "topics.usfj.channels[1]: unknown channel 'pager'" in found


def test_env_substitution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_HOST", "hooks.example.org")
    monkeypatch.delenv("UNSET_VAR", raising=False)
    document = {**VALID, "database": "${UNSET_VAR:-sqlite:///x.db}"}
    document["channels"] = {"ops": {"type": "webhook", "url": "https://${HOOK_HOST}/x"}}
    config = parse_config(document)
    assert config.channels["ops"].url == "https://hooks.example.org/x"
    assert config.database == "sqlite:///x.db"


def test_missing_env_var_is_named_with_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    document = {
        **VALID,
        "channels": {"ops": {"type": "webhook", "url": "https://x.org", "secret": "${WEBHOOK_SECRET}"}},
    }
    assert "channels.ops.secret: environment variable WEBHOOK_SECRET is not set" in problems(document)


def test_secrets_are_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_SECRET", "not-base64-but-very-secret!!")
    document = {
        **VALID,
        "channels": {"ops": {"type": "webhook", "url": "https://x.org", "secret": "${WEBHOOK_SECRET}"}},
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(document, "test.yaml")
    assert "channels.ops.secret: must be at least 16 bytes of base64" in str(caught.value)
    assert "very-secret" not in str(caught.value)
    monkeypatch.setenv("WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    config = parse_config(document)
    assert "MfKQ9r8" not in repr(config)


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("feeds:\n  - name: a\n    url: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message and "line 4" in message and "YAML syntax error" in message


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path / "absent.yaml")


def test_top_level_must_be_a_mapping() -> None:
    assert problems(["a", "b"]) == ["the top level must be a mapping of sections"]


# --- errors people understand ---------------------------------------------------------

TYPO_CONFIG = """\
feeds:
  - name: a
    url: https://example.org/a
    intervall: 5m
topics:
  usfj:
    query: 'USFJ AND (reorg OR'
    channels: [ops]
  hq:
    query: USFJ
    chanels: [ops]
channels:
  ops:
    type: email
    to: [a@example.org]
    from: newswatch@example.org
    smtp: {host: localhost, prot: 25}
"""


def load_problems(tmp_path: Path, text: str) -> ConfigError:
    path = tmp_path / "newswatch.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value


def test_unknown_keys_name_their_line_and_the_key_meant(tmp_path: Path) -> None:
    found = [str(problem) for problem in load_problems(tmp_path, TYPO_CONFIG).problems]
    assert "line 4: feeds[0].intervall: unknown key 'intervall' (did you mean 'interval'?)" in found
    # A misspelt `channels:` is refused, not read as "a topic without channels".
    assert "line 11: topics.hq.chanels: unknown key 'chanels' (did you mean 'channels'?)" in found
    # Inside a channel (a union chosen by `type`) the suggestion comes from that channel's schema.
    assert "line 17: channels.ops.smtp.prot: unknown key 'prot' (did you mean 'port'?)" in found


def test_a_query_error_echoes_the_query_with_a_caret_under_the_column(tmp_path: Path) -> None:
    error = load_problems(tmp_path, TYPO_CONFIG)
    query = next(problem for problem in error.problems if problem.key == "topics.usfj.query")
    assert str(query) == "line 7: topics.usfj.query: column 19: expected a term after OR"
    assert query.context == ("USFJ AND (reorg OR", " " * 18 + "^")
    assert "      USFJ AND (reorg OR\n" + " " * 6 + " " * 18 + "^" in str(error)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # A web-search habit that used to REQUIRE the word it meant to exclude.
        ("USFJ -baseball", "column 6: '-' before a word is not an operator; write NOT baseball"),
        ('USFJ -"spring training"', "column 6: '-' before a word is not an operator; write NOT \"...\""),
        (
            "+USFJ headquarters",
            "column 1: '+' before a word is not an operator; write USFJ (every term is required unless ORed)",
        ),
        ("site:nhk.or.jp USFJ", "column 1: site: is not supported"),
    ],
)
def test_web_search_operators_are_refused_with_a_hint(query: str, expected: str) -> None:
    found = problems({**VALID, "topics": {"usfj": {"query": query, "channels": ["ops"]}}})
    assert any(problem.startswith(f"topics.usfj.query: {expected}") for problem in found), found


def test_hyphens_and_pluses_inside_words_still_search() -> None:
    parse_config({**VALID, "topics": {"usfj": {"query": '"U.S.-Japan" OR 2+2', "channels": ["ops"]}}})


def test_a_topic_without_channels_is_a_warning_naming_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "newswatch.yaml"
    path.write_text("topics:\n  quiet:\n    query: USFJ\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="newswatch.config"):
        load_config(path)
    assert [record.getMessage() for record in caplog.records] == [
        f"{path}: topics.quiet: no channels, so its matches are stored but alert no one "
        "(add e.g. channels: [analysts-email])"
    ]


@pytest.mark.parametrize("text", ["", "\n# only a comment\n"])
def test_an_empty_config_file_is_an_error(tmp_path: Path, text: str) -> None:
    error = load_problems(tmp_path, text)
    assert [str(problem) for problem in error.problems] == [
        "the file is empty; config/newswatch.yaml in the source tree is a commented example"
    ]


# --- paths that do not depend on the working directory ---------------------------------------


def test_a_relative_sqlite_path_is_relative_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    path = config_dir / "newswatch.yaml"
    path.write_text("database: sqlite:///data/newswatch.db\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_config(path).database == f"sqlite:///{config_dir}/data/newswatch.db"
    path.write_text("database: sqlite:////var/lib/newswatch/newswatch.db\n", encoding="utf-8")
    assert load_config(path).database == "sqlite:////var/lib/newswatch/newswatch.db"
    path.write_text("database: postgresql://newswatch@db/newswatch\n", encoding="utf-8")
    assert load_config(path).database == "postgresql://newswatch@db/newswatch"


def test_the_config_is_looked_up_in_a_fixed_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("NEWSWATCH_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        resolve_config_path(None)
    message = str(caught.value)
    assert "$NEWSWATCH_CONFIG (not set)" in message
    assert f"config/newswatch.yaml (relative to the working directory {tmp_path})" in message
    assert str(home / ".config" / "newswatch" / "newswatch.yaml") in message
    assert "--config PATH or the NEWSWATCH_CONFIG environment variable" in message

    platform = home / ".config" / "newswatch" / "newswatch.yaml"
    platform.parent.mkdir(parents=True)
    platform.write_text("{}\n")
    assert resolve_config_path(None) == str(platform)
    local = tmp_path / "config" / "newswatch.yaml"
    local.parent.mkdir()
    local.write_text("{}\n")
    assert resolve_config_path(None) == "config/newswatch.yaml"
    monkeypatch.setenv("NEWSWATCH_CONFIG", "/somewhere/else.yaml")
    assert resolve_config_path(None) == "/somewhere/else.yaml"
    assert resolve_config_path("explicit.yaml") == "explicit.yaml"


def test_a_missing_config_through_the_cli_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    monkeypatch.delenv("NEWSWATCH_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["check-config"]) == 2
    assert "no config file found; looked in:" in capsys.readouterr().err


def test_a_channel_switched_off_by_the_environment_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped config prints to the console and emails only when SMTP_HOST is set."""
    from tests.support.configs import shipped_document

    monkeypatch.delenv("SMTP_HOST", raising=False)
    config = parse_config(shipped_document())
    assert list(config.channels) == ["console"]
    assert all([route.channel for route in topic.channels] == ["console"] for topic in config.topics.values())

    monkeypatch.setenv("SMTP_HOST", "mail.example.org")
    config = parse_config(shipped_document())
    assert list(config.channels) == ["console", "analysts-email"]
    assert config.channels["analysts-email"].enabled is True
    routes = [route.channel for route in config.topics["usfj-reorganisation"].channels]
    assert routes == ["console", "analysts-email"]


@pytest.mark.parametrize(("value", "expected"), [("set", "yes"), ("", ""), (None, "")])
def test_alternate_value_substitution(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: str
) -> None:
    if value is None:
        monkeypatch.delenv("NW_TEST_FLAG", raising=False)
    else:
        monkeypatch.setenv("NW_TEST_FLAG", value)
    config = parse_config({"database": "sqlite:///x${NW_TEST_FLAG:+yes}.db"})
    assert config.database.endswith(f"x{expected}.db")
