"""The config file: its schema, `${ENV}` substitution, and errors that name the key at fault.

The file is validated once, completely, before anything runs. Every problem is
reported with the file, the key path (`topics.usfj.channels[0]`) and what is
wrong, and all problems are reported together so an operator fixes them in one go.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

DEFAULT_CONFIG_PATH = "config/newswatch.yaml"
CONFIG_ENV_VAR = "NEWSWATCH_CONFIG"
DEFAULT_DATABASE_URL = "sqlite:///data/newswatch.db"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def parse_duration(value: object) -> float:
    """Seconds from `30s`, `10m`, `2h`, `1d`, `250ms` or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 10m or 2h")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        found = _DURATION.match(str(value))
        if not found:
            raise ValueError(f"{value!r} is not a duration; use a number with s, m, h or d (e.g. 10m)")
        seconds = float(found.group(1)) * _DURATION_UNITS[found.group(2)]
    if seconds <= 0:
        raise ValueError("a duration must be greater than zero")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    # Unknown keys are refused: a misspelt `intervall:` must not silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _require_http_url(url: str) -> str:
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in ("http", "https"):
        raise ValueError(f"{url!r} is not an http(s) URL")
    return url


class FeedConfig(_Strict):
    name: str = Field(min_length=1)
    url: str
    interval: Duration = 600.0

    _url = field_validator("url")(_require_http_url)


class TopicExamples(_Strict):
    """Golden articles (file paths or URLs) that must / must not match; `newswatch check-config` runs them.

    Relative paths are resolved against the directory of the config file.
    """

    match: list[str] = Field(default_factory=list)
    no_match: list[str] = Field(default_factory=list)


class TopicConfig(_Strict):
    """A watchlist: a `query` in the query language (see pipeline/match/query.py and the README).

    The v1 lists still work and compile to the same tree: every `all` entry must occur,
    one of `any` must, none of `none` may. An entry written `@alias` stands for any of
    the alias's terms. With both a query and lists, all of them must hold.
    """

    query: str | None = None
    all: list[str] = Field(default_factory=list)
    any: list[str] = Field(default_factory=list)
    none: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)
    # Title hits weigh 3, body hits 1; each mention counts.
    min_score: float = Field(default=1.0, ge=0)
    description: str | None = None
    examples: TopicExamples = Field(default_factory=TopicExamples)


class SmtpConfig(_Strict):
    host: str
    port: int = Field(default=25, gt=0, lt=65536)
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password: SecretStr | None = None
    timeout: Duration = 30.0


class EmailChannelConfig(_Strict):
    type: Literal["email"]
    to: list[str] = Field(min_length=1)
    sender: str = Field(alias="from")
    smtp: SmtpConfig


class WebhookChannelConfig(_Strict):
    type: Literal["webhook"]
    url: str
    # Standard Webhooks secret: base64, optionally prefixed "whsec_".
    secret: SecretStr | None = None
    timeout: Duration = 10.0

    _url = field_validator("url")(_require_http_url)

    @field_validator("secret")
    @classmethod
    def _secret_is_base64(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is None:
            return None
        encoded = secret.get_secret_value().removeprefix("whsec_")
        try:
            decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except binascii.Error:
            decoded = b""
        if len(decoded) < 16:
            # The value itself is never echoed: it is a secret.
            raise ValueError(
                "must be at least 16 bytes of base64, optionally prefixed 'whsec_' "
                '(e.g. the output of: python -c "import secrets,base64;'
                "print('whsec_'+base64.b64encode(secrets.token_bytes(32)).decode())\")"
            )
        return secret


ChannelConfig = Annotated[EmailChannelConfig | WebhookChannelConfig, Field(discriminator="type")]
CHANNEL_TYPES = ("email", "webhook")


class FetchConfig(_Strict):
    """Limits for every HTTP fetch (feeds and article pages)."""

    connect_timeout: Duration = 10.0
    read_timeout: Duration = 20.0
    total_timeout: Duration = 60.0
    max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_redirects: int = Field(default=5, ge=0)
    user_agent: str = "newswatch/0.1 (+https://github.com/newswatch/newswatch)"
    fetch_pages: bool = True


class AlertConfig(_Strict):
    """How the dispatcher retries: each failed send waits longer, up to `max_backoff`."""

    initial_backoff: Duration = 30.0
    max_backoff: Duration = 3600.0


class Config(_Strict):
    database: str = DEFAULT_DATABASE_URL
    feeds: list[FeedConfig] = Field(default_factory=list)
    aliases: dict[str, list[str]] = Field(default_factory=dict)
    topics: dict[str, TopicConfig] = Field(default_factory=dict)
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    fetch: FetchConfig = Field(default_factory=FetchConfig)
    alerts: AlertConfig = Field(default_factory=AlertConfig)


@dataclass(frozen=True)
class ConfigProblem:
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}" if self.key else self.message


class ConfigError(Exception):
    """The config file cannot be used; carries every problem found, each with its key path."""

    def __init__(self, path: str | Path, problems: list[ConfigProblem]) -> None:
        self.path = str(path)
        self.problems = problems
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"invalid config {self.path}:\n{lines}")


def format_key_path(location: tuple[str | int, ...]) -> str:
    """`('topics', 'usfj', 'channels', 0)` -> `topics.usfj.channels[0]`."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _substitute_env(value: Any, location: tuple[str | int, ...], problems: list[ConfigProblem]) -> Any:
    """Replace `${NAME}` / `${NAME:-default}` inside string values (never in keys or raw YAML)."""
    if isinstance(value, dict):
        return {key: _substitute_env(item, (*location, key), problems) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute_env(item, (*location, index), problems) for index, item in enumerate(value)]
    if not isinstance(value, str):
        return value

    def replace(reference: re.Match[str]) -> str:
        name, default = reference.group(1), reference.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        problems.append(ConfigProblem(format_key_path(location), f"environment variable {name} is not set"))
        return ""

    return _ENV_REFERENCE.sub(replace, value)


def _pydantic_problems(error: ValidationError) -> Iterator[ConfigProblem]:
    for detail in error.errors():
        location = list(detail["loc"])
        # A discriminated union puts the chosen tag in the path (channels.x.email.to); hide it.
        if len(location) >= 3 and location[0] == "channels" and location[2] in CHANNEL_TYPES:
            del location[2]
        message = detail["msg"]
        if detail["type"] == "union_tag_invalid":
            message = f"unknown channel type; expected one of {', '.join(CHANNEL_TYPES)}"
        elif detail["type"] == "union_tag_not_found":
            message = f"missing 'type' ({', '.join(CHANNEL_TYPES)})"
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        yield ConfigProblem(format_key_path(tuple(location)), message)


def _cross_reference_problems(document: dict[str, Any]) -> Iterator[ConfigProblem]:
    """Checks that span sections, which field validators cannot see.

    They read the raw document so that they are reported together with schema
    errors elsewhere in the file; malformed sections are left to the schema.
    """
    feeds, aliases, topics, channels = (
        document.get(key) for key in ("feeds", "aliases", "topics", "channels")
    )
    known_channels = set(channels) if isinstance(channels, dict) else set()
    seen_urls: dict[object, int] = {}
    for index, feed in enumerate(feeds if isinstance(feeds, list) else []):
        url = feed.get("url") if isinstance(feed, dict) else None
        if url is not None and url in seen_urls:
            yield ConfigProblem(f"feeds[{index}].url", f"duplicates feeds[{seen_urls[url]}].url")
        seen_urls.setdefault(url, index)
    for name, topic in (topics if isinstance(topics, dict) else {}).items():
        if not isinstance(topic, dict):
            continue
        topic_channels = topic.get("channels")
        for index, channel in enumerate(topic_channels if isinstance(topic_channels, list) else []):
            if channel not in known_channels:
                yield ConfigProblem(f"topics.{name}.channels[{index}]", f"unknown channel {channel!r}")
    yield from _watchlist_problems(aliases, topics)


def _watchlist_problems(aliases: object, topics: object) -> Iterator[ConfigProblem]:
    """Queries, list entries and aliases, checked by the parser the matcher uses."""
    # Imported here: the matcher package reads topic configs, so it must not be imported first.
    from pipeline.match.validate import watchlist_problems

    for key, message in watchlist_problems(aliases, topics):
        yield ConfigProblem(key, message)


def parse_config(document: Any, path: str | Path = "<config>") -> Config:
    """Validate an already-loaded YAML document."""
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigError(path, [ConfigProblem("", "the top level must be a mapping of sections")])
    problems: list[ConfigProblem] = []
    document = _substitute_env(document, (), problems)
    try:
        config = Config.model_validate(document)
    except ValidationError as error:
        problems.extend(_pydantic_problems(error))
    problems.extend(_cross_reference_problems(document))
    if problems:
        raise ConfigError(path, problems)
    return config


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            path, [ConfigProblem("", f"cannot read the file: {error.strerror or error}")]
        ) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(path, [ConfigProblem("", f"{where}YAML syntax error: {problem}")]) from None
    return parse_config(document, path)


def resolve_config_path(explicit: str | None) -> str:
    return explicit or os.environ.get(CONFIG_ENV_VAR) or DEFAULT_CONFIG_PATH
