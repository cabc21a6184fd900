"""Config validation: every problem reported with its key path, secrets substituted and never echoed."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipeline.config import ConfigError, load_config, parse_config, parse_duration

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
            "feeds[0].intervall: Extra inputs are not permitted",
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
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
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
