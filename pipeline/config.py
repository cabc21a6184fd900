"""The config file: its schema, `${ENV}` substitution, and errors that name the key at fault.

The file is validated once, completely, before anything runs. Every problem is
reported with the file, the key path (`topics.usfj.channels[0]`) and what is
wrong, and all problems are reported together so an operator fixes them in one go.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline.paths import ConfigNotFound, find_config, resolve_sqlite_url

log = logging.getLogger("newswatch.config")

# Before the first model below is built: pydantic looks for plugins by reading the entry points of
# every installed distribution (about 40 ms of each start-up here), and newswatch's config has no
# use for a validation plugin. An operator who sets the variable (even empty) keeps that choice.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

DEFAULT_DATABASE_URL = "sqlite:///data/newswatch.db"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
# ${NAME}, ${NAME:-default} (NAME's value, or the default when NAME is unset), and ${NAME:+word}
# (word when NAME is set and not empty, else nothing: `enabled: ${SMTP_HOST:+true}`).
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}")


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


# The public names channel modules build their config models from.
StrictModel = _Strict


def _require_http_url(url: str) -> str:
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in ("http", "https"):
        raise ValueError(f"{url!r} is not an http(s) URL")
    return url


require_http_url = _require_http_url


class FeedConfig(_Strict):
    # Shown in logs, alerts and `newswatch feeds`.
    name: str = Field(min_length=1)
    # The RSS or Atom feed's http(s) URL.
    url: str
    # How often the feed is polled.
    interval: Duration = 600.0
    # Adaptive polling: with both set, the interval follows the feed's publishing rhythm within
    # these bounds (starting from `interval`).
    min_interval: Duration | None = None
    max_interval: Duration | None = None
    # The operator vouches for this feed's own host (e.g. an intranet feed): it may resolve to a
    # private address, and so may the article pages on that same host. Links to other hosts are
    # still checked like any other.
    allow_private_addresses: bool = False

    _url = field_validator("url")(_require_http_url)

    @model_validator(mode="after")
    def _adaptive_bounds(self) -> FeedConfig:
        bounds = (self.min_interval, self.max_interval)
        if (bounds[0] is None) != (bounds[1] is None):
            raise ValueError("adaptive polling needs both min_interval and max_interval")
        if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
            raise ValueError("min_interval is longer than max_interval")
        return self

    @property
    def adaptive(self) -> bool:
        return self.min_interval is not None and self.max_interval is not None


def _check_schedule(schedule: str) -> str:
    from croniter import croniter  # here: every command loads the config, few have schedules

    if not croniter.is_valid(schedule):
        raise ValueError(
            f"{schedule!r} is not a cron schedule; use five fields: minute hour day-of-month month "
            "day-of-week (e.g. '0 8 * * *' for daily at 08:00, '0 * * * *' for hourly)"
        )
    return schedule


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as Asia/Tokyo or UTC") from None
    return name


class ChannelRoute(_Strict):
    """How one topic's matches reach one channel: each at once, or gathered into a digest on a schedule."""

    channel: str
    mode: Literal["immediate", "digest"] = "immediate"
    # Cron (minute hour day-of-month month day-of-week), evaluated in `timezone`.
    schedule: str | None = None
    timezone: str = "UTC"

    _timezone = field_validator("timezone")(_check_timezone)

    @field_validator("schedule")
    @classmethod
    def _valid_schedule(cls, schedule: str | None) -> str | None:
        return None if schedule is None else _check_schedule(schedule)

    @model_validator(mode="after")
    def _schedule_matches_mode(self) -> ChannelRoute:
        if self.mode == "digest" and not self.schedule:
            raise ValueError("mode 'digest' needs a schedule, e.g. schedule: '0 8 * * *'")
        if self.mode == "immediate" and self.schedule:
            raise ValueError("a schedule only applies to mode: digest")
        return self


def _route_from_name(value: object) -> object:
    return {"channel": value} if isinstance(value, str) else value


TopicChannel = Annotated[ChannelRoute, BeforeValidator(_route_from_name)]


class TopicExamples(_Strict):
    """Golden articles (file paths or URLs) that must / must not match; `newswatch check-config` runs them.

    Relative paths are resolved against the directory of the config file.
    """

    # Articles this topic must match; an absent file is skipped with a warning.
    match: list[str] = Field(default_factory=list)
    # Articles this topic must not match.
    no_match: list[str] = Field(default_factory=list)


class TopicConfig(_Strict):
    """A watchlist: a `query` in the query language (see pipeline/match/query.py and the README).

    The v1 lists still work and compile to the same tree: every `all` entry must occur,
    one of `any` must, none of `none` may. An entry written `@alias` stands for any of
    the alias's terms. With both a query and lists, all of them must hold.
    """

    # The query language: AND, OR, NOT, (), "phrases", prefix*, NEAR/n, title:/body:, @alias, =Case.
    query: str | None = None
    # Every entry must occur (matcher v1 lists; with a query, both must hold).
    all: list[str] = Field(default_factory=list)
    # At least one entry must occur.
    any: list[str] = Field(default_factory=list)
    # No entry may occur.
    none: list[str] = Field(default_factory=list)
    # Each entry is a channel name (immediate delivery) or a ChannelRoute mapping (e.g. a digest).
    channels: list[TopicChannel] = Field(default_factory=list)
    # Title hits weigh 3, body hits 1; the topic matches when its query holds and the score reaches this.
    min_score: float = Field(default=1.0, ge=0)
    # Free text for the people reading the config.
    description: str | None = None
    # Golden articles that must / must not match, run by `newswatch check-config`.
    examples: TopicExamples = Field(default_factory=TopicExamples)


class RateLimitConfig(_Strict):
    """At most `max` immediate alerts per `per` on a channel; the rest wait for the next overflow digest."""

    max: int = Field(gt=0)
    per: Duration = 3600.0
    # Where the alerts over the limit go: a digest on this cron schedule.
    schedule: str = "0 * * * *"
    timezone: str = "UTC"

    _schedule = field_validator("schedule")(_check_schedule)
    _timezone = field_validator("timezone")(_check_timezone)


def _rate_limit_shorthand(value: object) -> object:
    # `rate_limit: 20` is short for `rate_limit: {max: 20}` (per hour).
    return {"max": value} if isinstance(value, int) and not isinstance(value, bool) else value


def _empty_is_false(value: object) -> object:
    return False if value in ("", None) else value


class ChannelConfigBase(_Strict):
    """What every channel's config has. Each channel type subclasses this beside its code (one module
    per channel in pipeline/alert/, registered in pipeline/alert/registry.py) and says there how it
    describes itself and which of its values are secrets."""

    type: str
    # false (or empty, as `${SMTP_HOST:+true}` is when SMTP_HOST is unset): the channel is left out
    # as if it were not configured, and topics keep their other channels.
    enabled: Annotated[bool, BeforeValidator(_empty_is_false)] = True
    rate_limit: Annotated[RateLimitConfig | None, BeforeValidator(_rate_limit_shorthand)] = None

    def describe(self) -> str:
        """One line for `check-config` and `newswatch alerts`; never a secret."""
        return self.type

    def secrets(self) -> list[str]:
        """Every value that must be masked wherever newswatch prints, logs or stores text."""
        return []


def _channel_config(value: object) -> ChannelConfigBase:
    """A `channels:` entry validated by the model its `type` names in the channel registry.

    Errors raised by that model keep their key paths (channels.NAME.smtp.port) under this entry.
    """
    # Imported here: the channel modules import this module for the base classes above.
    from pipeline.alert.registry import channel_types

    if isinstance(value, ChannelConfigBase):
        return value
    types = channel_types()
    if not isinstance(value, dict):
        raise ValueError(f"expected a mapping with a 'type' ({', '.join(types)})")
    if "type" not in value:
        raise ValueError(f"missing 'type' ({', '.join(types)})")
    kind = types.get(value["type"]) if isinstance(value["type"], str) else None
    if kind is None:
        raise ValueError(f"unknown channel type; expected one of {', '.join(types)}")
    return kind.config_model.model_validate(value)


ChannelConfig = Annotated[ChannelConfigBase, PlainValidator(_channel_config)]


class FetchConfig(_Strict):
    """Limits for every HTTP fetch (feeds and article pages), and politeness towards servers."""

    connect_timeout: Duration = 10.0
    read_timeout: Duration = 20.0
    total_timeout: Duration = 60.0
    max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_redirects: int = Field(default=5, ge=0)
    user_agent: str = "newswatch/0.1 (+https://github.com/newswatch/newswatch)"
    fetch_pages: bool = True
    # Requests in flight at once, in all and per host (host name and port).
    max_connections: int = Field(default=32, gt=0, le=1024)
    max_per_host: int = Field(default=2, gt=0, le=64)
    # Loopback, private, link-local, multicast, reserved and unspecified addresses are refused
    # unless this is true (feeds may also allow it for their own host).
    allow_private_addresses: bool = False
    # A failing feed waits its interval x 2^(failures-1) before the next try, at most this long.
    max_backoff: Duration = 6 * 3600.0
    # A server's Retry-After is honoured up to this long.
    max_retry_after: Duration = 24 * 3600.0


class ExtractConfig(_Strict):
    """Article extraction runs in worker processes (trafilatura is CPU-bound)."""

    # 0 extracts in the polling threads; default: one per core, at most 4.
    workers: int = Field(default_factory=lambda: min(os.cpu_count() or 1, 4), ge=0, le=64)
    # A page taking longer than this is matched on its feed summary instead.
    timeout: Duration = 120.0


class DedupConfig(_Strict):
    """When two articles are one story (near-duplicates: the same wire copy lightly edited)."""

    # Estimated Jaccard similarity of word 3-shingles, 0..1.
    story_similarity: float = Field(default=0.5, gt=0, le=1)
    # Only articles first seen this recently are candidates.
    story_window: Duration = 3 * 86400.0


class HealthConfig(_Strict):
    """Operator notices about feeds that keep failing or fall silent (and when they recover)."""

    channels: list[str] = Field(default_factory=list)
    # Consecutive failed polls before a feed counts as failing.
    failing_after: int = Field(default=5, gt=0)
    # Silent: no new item for this many times the feed's usual gap between items...
    silent_after_factor: float = Field(default=4.0, gt=1)
    # ...and for at least this long.
    silent_min: Duration = 86400.0
    # Items needed before a feed's rhythm is trusted.
    rhythm_min_items: int = Field(default=5, ge=2)


class AlertConfig(_Strict):
    """How the dispatcher retries: each failed send waits longer, up to `max_backoff`, and after
    `max_attempts` tries the alert is marked failed (kept, with its last error, for `alerts retry`)."""

    initial_backoff: Duration = 30.0
    max_backoff: Duration = 3600.0
    # 12 attempts with the defaults above span about five hours.
    max_attempts: int = Field(default=12, ge=1)
    # Each wait is shortened by up to this fraction at random, so that alerts failed together
    # (an SMTP outage) do not all retry in the same second.
    jitter: float = Field(default=0.2, ge=0, lt=1)
    # How long a dispatcher owns an alert it is sending; one that dies mid-send leaves the alert to
    # be taken over after this. Keep it longer than any single send can take.
    lease: Duration = 300.0
    # However long a receiver asks us to wait (Retry-After), come back within this.
    max_retry_after: Duration = 86400.0


class WebConfig(_Strict):
    """The daemon's HTTP endpoint (/healthz, /metrics, the console); off unless `listen` is set."""

    listen: str | None = None
    # /healthz turns unhealthy when no poll has succeeded for this long.
    max_poll_age: Duration = 3600.0

    @field_validator("listen")
    @classmethod
    def _host_and_port(cls, listen: str | None) -> str | None:
        if not listen:
            return None  # unset, or an empty ${NEWSWATCH_WEB_LISTEN:-}: the endpoint is off
        host, _, port = listen.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError(f"{listen!r} is not HOST:PORT (e.g. 127.0.0.1:9180)")
        return listen

    @property
    def address(self) -> tuple[str, int]:
        assert self.listen is not None
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


class LoggingConfig(_Strict):
    format: Literal["text", "json"] = "text"
    level: Literal["debug", "info", "warning", "error"] = "info"


class RetentionConfig(_Strict):
    """Old articles that matched nothing are pruned after this age; matched ones are kept."""

    unmatched_articles: Duration | None = 90 * 86400.0


def _divides_a_minute(seconds: float) -> float:
    # Periodic jobs run on a cron schedule with a seconds column: only a whole divisor of a minute
    # gives evenly spaced runs.
    if seconds > 60 or seconds != int(seconds) or 60 % int(seconds):
        raise ValueError("must be a whole number of seconds that divides a minute (1s, 5s, 10s, 30s, 60s)")
    return seconds


class ClusterConfig(_Strict):
    """Cluster mode (`newswatch worker`, PostgreSQL only): jobs on a procrastinate queue."""

    # Jobs each `newswatch worker` runs at once (`--concurrency` overrides it).
    concurrency: int = Field(default=4, gt=0, le=256)
    # Extraction processes per worker (in place of extract.workers, which sizes `newswatch run`).
    # 1 by default: extract.timeout applies, and a page that hangs or crashes the parser costs one
    # article. 0: a worker extracts in its own threads, one core's worth of work (run one per core),
    # with no timeout (docs/cluster.md weighs the two).
    extraction_processes: int = Field(default=1, ge=0, le=64)
    # How often the periodic sweep looks for due feeds (and stalled jobs, and alerts due for a retry).
    sweep_every: Annotated[Duration, AfterValidator(_divides_a_minute)] = 10.0
    # How often a worker tells the database it is alive...
    heartbeat: Duration = 10.0
    # ...and how long without one before it counts as dead and its running jobs are retried.
    stalled_after: Duration = 30.0
    # Finished jobs are deleted after this long.
    keep_finished_jobs: Duration = 86400.0

    @model_validator(mode="after")
    def _heartbeat_before_stall(self) -> ClusterConfig:
        if self.heartbeat >= self.stalled_after:
            raise ValueError(
                f"heartbeat ({self.heartbeat:g}s) must be shorter than "
                f"stalled_after ({self.stalled_after:g}s), or live workers would count as dead"
            )
        return self


class Config(_Strict):
    # A SQLAlchemy URL: sqlite:///relative/path (relative to the config file's directory),
    # sqlite:////absolute/path, or postgresql://user:password@host/db.
    database: str = DEFAULT_DATABASE_URL
    # The feeds to poll, each on its own interval.
    feeds: list[FeedConfig] = Field(default_factory=list)
    # Reusable term sets, written @name in queries and lists: "any of these terms".
    aliases: dict[str, list[str]] = Field(default_factory=dict)
    # The watchlists, by name.
    topics: dict[str, TopicConfig] = Field(default_factory=dict)
    # Where alerts go, by name (`type`: email, webhook or apprise); topics list them.
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    fetch: FetchConfig = Field(default_factory=FetchConfig)
    alerts: AlertConfig = Field(default_factory=AlertConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    extract: ExtractConfig = Field(default_factory=ExtractConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    health: HealthConfig = Field(default_factory=HealthConfig)
    # Only for `newswatch worker` on PostgreSQL; None when the section is absent.
    cluster: ClusterConfig | None = None


@dataclass(frozen=True)
class ConfigProblem:
    key: str
    message: str
    # The YAML line of the key at fault, when the document came from a file.
    line: int | None = None
    # Lines shown under the problem, e.g. a query with a caret under the column at fault.
    context: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"{self.key}: {self.message}" if self.key else self.message
        return f"line {self.line}: {text}" if self.line is not None else text


class ConfigError(Exception):
    """The config file cannot be used; carries every problem found, each with its key path."""

    def __init__(self, path: str | Path, problems: list[ConfigProblem]) -> None:
        self.path = str(path)
        self.problems = problems
        lines = []
        for problem in problems:
            lines.append(f"  {problem}")
            lines.extend(f"      {line}" for line in problem.context)
        super().__init__(f"invalid config {self.path}:\n" + "\n".join(lines))


class ConfigFileNotFoundError(ConfigError):
    """No config file named and none found in the default places; says where it looked."""

    def __init__(self, not_found: ConfigNotFound) -> None:
        self.path = ""
        self.problems = [ConfigProblem("", str(not_found))]
        Exception.__init__(self, str(not_found))


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
        name, operator, word = reference.group(1), reference.group(2), reference.group(3)
        if operator == "+":
            return word if os.environ.get(name) else ""
        if name in os.environ:
            return os.environ[name]
        if operator == "-":
            return word
        problems.append(ConfigProblem(format_key_path(location), f"environment variable {name} is not set"))
        return ""

    return _ENV_REFERENCE.sub(replace, value)


def _pydantic_problems(error: ValidationError, document: dict[str, Any]) -> Iterator[ConfigProblem]:
    for detail in error.errors():
        location = list(detail["loc"])
        message = detail["msg"]
        if detail["type"] == "extra_forbidden":
            message = _unknown_key_message(detail["loc"], document)
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        yield ConfigProblem(format_key_path(tuple(location)), message)


def _unwrap(annotation: Any) -> Any:
    """The type inside `Annotated[...]` and `X | None`."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, UnionType):
        members = [member for member in get_args(annotation) if member is not NoneType]
        if len(members) == 1:
            return _unwrap(members[0])
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _model_at(location: tuple[str | int, ...], document: object = None) -> type[BaseModel] | None:
    """The section model at a pydantic error location (with a channel's type tag still in it)."""
    annotation: Any = Config
    value = document  # the document's part at the same place, for a channel's `type`
    for part in location:
        annotation = _unwrap(annotation)
        origin = get_origin(annotation)
        if _is_model(annotation) and issubclass(annotation, ChannelConfigBase):
            # A channel's model is the one its `type` names in the registry.
            annotation = _channel_model(value) or annotation
        value = value.get(part) if isinstance(value, dict) else None
        if _is_model(annotation):
            fields = annotation.model_fields
            name = next((key for key, field in fields.items() if part in (key, field.alias)), None)
            if name is None:
                return None
            annotation = fields[name].annotation
        elif origin is list and isinstance(part, int):
            annotation = get_args(annotation)[0]
        elif origin is dict:
            annotation = get_args(annotation)[1]
        elif origin in (Union, UnionType):
            # A discriminated union (channels): the location names the chosen member's type tag.
            members = [
                member
                for member in get_args(annotation)
                if _is_model(member) and part in get_args(member.model_fields["type"].annotation)
            ]
            if not members:
                return None
            annotation = members[0]
            continue
        else:
            return None
    annotation = _unwrap(annotation)
    if _is_model(annotation) and issubclass(annotation, ChannelConfigBase):
        annotation = _channel_model(value) or annotation
    return annotation if _is_model(annotation) else None


def _channel_model(channel: object) -> type[BaseModel] | None:
    from pipeline.alert.registry import channel_types

    kind = channel_types().get(channel.get("type")) if isinstance(channel, dict) else None
    return kind.config_model if kind is not None else None


def known_keys(model: type[BaseModel]) -> list[str]:
    """The keys a section accepts, as written in YAML (`from`, not `sender`)."""
    return [field.alias or name for name, field in model.model_fields.items()]


def _unknown_key_message(location: tuple[str | int, ...], document: object = None) -> str:
    key = str(location[-1])
    model = _model_at(location[:-1], document)
    if model is None:
        return f"unknown key {key!r}"
    keys = known_keys(model)
    close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r} (did you mean {close[0]!r}?)"
    return f"unknown key {key!r}; this section takes {', '.join(keys)}"


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
    health = document.get("health")
    health_channels = health.get("channels") if isinstance(health, dict) else None
    for index, channel in enumerate(health_channels if isinstance(health_channels, list) else []):
        if channel not in known_channels:
            yield ConfigProblem(f"health.channels[{index}]", f"unknown channel {channel!r}")
    for name, topic in (topics if isinstance(topics, dict) else {}).items():
        if not isinstance(topic, dict):
            continue
        topic_channels = topic.get("channels")
        routed: dict[str, int] = {}
        for index, entry in enumerate(topic_channels if isinstance(topic_channels, list) else []):
            channel = entry.get("channel") if isinstance(entry, dict) else entry
            if not isinstance(channel, str):
                continue  # the schema reports it
            key = f"topics.{name}.channels[{index}]"
            if channel not in known_channels:
                yield ConfigProblem(key, f"unknown channel {channel!r}")
            elif channel in routed:
                yield ConfigProblem(key, f"channel {channel!r} is already listed at [{routed[channel]}]")
            routed.setdefault(channel, index)
    yield from _watchlist_problems(aliases, topics)


def _watchlist_problems(aliases: object, topics: object) -> Iterator[ConfigProblem]:
    """Queries, list entries and aliases, checked by the parser the matcher uses."""
    # Imported here: the matcher package reads topic configs, so it must not be imported first.
    from pipeline.match.validate import watchlist_problems

    queries = {
        f"topics.{name}.query": topic["query"]
        for name, topic in (topics.items() if isinstance(topics, dict) else ())
        if isinstance(topic, dict) and isinstance(topic.get("query"), str)
    }
    for key, message in watchlist_problems(aliases, topics):
        column = _QUERY_COLUMN.match(message)
        context = _caret(queries[key], int(column.group(1))) if column and key in queries else ()
        yield ConfigProblem(key, message, context=context)


_QUERY_COLUMN = re.compile(r"^column (\d+): ")


def _caret(query: str, column: int) -> tuple[str, str]:
    """The query's line holding `column` (1-based), and a caret under that column."""
    offset = column - 1
    line_start = query.rfind("\n", 0, offset) + 1
    line_end = query.find("\n", offset)
    line = query[line_start : line_end if line_end >= 0 else len(query)]
    return line, " " * (offset - line_start) + "^"


def topics_without_channels(config: Config) -> list[str]:
    """Topics that match but alert no one: legal (matches are stored and shown), worth a warning."""
    return [name for name, topic in config.topics.items() if not topic.channels]


def config_warnings(config: Config) -> list[str]:
    """Things that are valid but probably not what the operator meant."""
    return [
        f"topics.{name}: no channels, so its matches are stored but alert no one "
        "(add e.g. channels: [analysts-email])"
        for name in topics_without_channels(config)
    ]


def parse_config(document: Any, path: str | Path = "<config>") -> Config:
    """Validate an already-loaded YAML document."""
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigError(path, [ConfigProblem("", "the top level must be a mapping of sections")])
    problems: list[ConfigProblem] = []
    document = _without_disabled_channels(_substitute_env(document, (), problems))
    try:
        config = Config.model_validate(document)
    except ValidationError as error:
        problems.extend(_pydantic_problems(error, document))
    problems.extend(_cross_reference_problems(document))
    if problems:
        raise ConfigError(path, problems)
    return config


def _without_disabled_channels(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every channel whose `enabled` is false (or empty) left out, and the
    routes to it: a channel switched off by the environment is as if it were not configured."""
    channels = document.get("channels")
    if not isinstance(channels, dict):
        return document
    disabled = {
        name
        for name, channel in channels.items()
        if isinstance(channel, dict) and _empty_is_false(channel.get("enabled", True)) in (False, "false")
    }
    if not disabled:
        return document

    def routed_elsewhere(entries: object) -> object:
        if not isinstance(entries, list):
            return entries
        return [
            entry
            for entry in entries
            if (entry.get("channel") if isinstance(entry, dict) else entry) not in disabled
        ]

    result = {**document, "channels": {k: v for k, v in channels.items() if k not in disabled}}
    topics = document.get("topics")
    if isinstance(topics, dict):
        result["topics"] = {
            name: {**topic, "channels": routed_elsewhere(topic.get("channels"))}
            if isinstance(topic, dict) and "channels" in topic
            else topic
            for name, topic in topics.items()
        }
    health = document.get("health")
    if isinstance(health, dict) and "channels" in health:
        result["health"] = {**health, "channels": routed_elsewhere(health["channels"])}
    return result


def _line_of(root: yaml.Node | None, location: tuple[str | int, ...]) -> int | None:
    """The 1-based line of the deepest node on `location` that the YAML document has."""
    node, line = root, None
    for part in location:
        if isinstance(node, yaml.MappingNode):
            found = next(((key, value) for key, value in node.value if key.value == str(part)), None)
            if found is None:
                break
            line = found[0].start_mark.line + 1
            node = found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _parse_key_path(key: str) -> tuple[str | int, ...]:
    """`topics.usfj.channels[0]` -> `('topics', 'usfj', 'channels', 0)`; inverse of format_key_path."""
    parts: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", key):
        parts.append(int(index) if index else name)
    return tuple(parts)


def _with_lines(error: ConfigError, text: str) -> ConfigError:
    """The same problems, each with the line of its key in the file."""
    # Composed only when there is an error: the fast loader does not keep positions.
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError:
        return error
    problems = [
        ConfigProblem(
            problem.key, problem.message, _line_of(root, _parse_key_path(problem.key)), problem.context
        )
        if problem.key
        else problem
        for problem in error.problems
    ]
    return ConfigError(error.path, problems)


# libyaml's loader when PyYAML has it: a config listing thousands of feeds loads 10x faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_config(path: str | Path) -> Config:
    """Read, validate and resolve a config file.

    Relative paths in it (a SQLite database) are resolved against the file's directory, so the
    daemon behaves the same whatever its working directory. Warnings are logged.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            path, [ConfigProblem("", f"cannot read the file: {error.strerror or error}")]
        ) from None
    try:
        document = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(path, [ConfigProblem("", f"{where}YAML syntax error: {problem}")]) from None
    if document is None:
        # An empty file is far more likely a failed copy or a wrong path than a wish for defaults.
        raise ConfigError(
            path,
            [
                ConfigProblem(
                    "", "the file is empty; config/newswatch.yaml in the source tree is a commented example"
                )
            ],
        )
    try:
        config = parse_config(document, path)
    except ConfigError as error:
        raise _with_lines(error, text) from None
    database = resolve_sqlite_url(config.database, path.resolve().parent)
    if database != config.database:
        config = config.model_copy(update={"database": database})
    for warning in config_warnings(config):
        log.warning("%s: %s", path, warning)
    return config


def resolve_config_path(explicit: str | None) -> str:
    """The config file to use (see pipeline/paths.py for the order); ConfigError if there is none."""
    try:
        return str(find_config(explicit))
    except ConfigNotFound as not_found:
        raise ConfigFileNotFoundError(not_found) from None
