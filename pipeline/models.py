"""Plain values passed between the pipeline stages.

Every stage takes one of these and returns the next; none of them knows about
HTTP clients, SQLAlchemy sessions or the config file, so each stage can be
tested with values built by hand.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from pipeline.schedule import PollReason

if TYPE_CHECKING:
    # Only a type here: match/ produces explanations, and match/ imports the values below.
    from pipeline.match.explanation import Explanation


class FetchErrorKind(enum.StrEnum):
    """Why a fetch produced no usable body; stable strings, stored and shown to operators."""

    INVALID_URL = "invalid_url"
    BLOCKED_ADDRESS = "blocked_address"
    CONNECT = "connect"
    TIMEOUT = "timeout"
    TOO_LARGE = "too_large"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    HTTP_STATUS = "http_status"
    DECODING = "decoding"
    PROTOCOL = "protocol"
    DNS = "dns"
    REDIRECT_LOOP = "redirect_loop"
    # HTTP 410: the publisher removed the resource for good.
    GONE = "gone"
    # HTTP 429, or 503 with Retry-After: the server asked us to come back later.
    RETRY_LATER = "retry_later"


@dataclass(frozen=True, slots=True)
class FetchError:
    kind: FetchErrorKind
    message: str

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.message}"


@dataclass(frozen=True, slots=True)
class ConditionalState:
    """Validators remembered from the previous successful fetch of a URL."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One HTTP fetch, successful or not. `body` is empty unless `ok`."""

    requested_url: str
    final_url: str
    status: int | None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    error: FetchError | None = None
    elapsed_seconds: float = 0.0
    permanent_redirect: bool = False
    # Seconds the server asked us to wait (Retry-After on 429/503), when it said.
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def not_modified(self) -> bool:
        return self.error is None and self.status == 304

    @property
    def validators(self) -> ConditionalState:
        return ConditionalState(
            etag=self.headers.get("etag"), last_modified=self.headers.get("last-modified")
        )


class HealthState(enum.StrEnum):
    """What the operator was last told about a feed."""

    OK = "ok"
    FAILING = "failing"
    SILENT = "silent"


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """A feed's fetch state and health, as kept in its `feeds` row.

    pipeline.health decides how a poll changes it; the store only reads and writes it.
    """

    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    last_status: int | None = None
    consecutive_failures: int = 0
    failing_since: datetime | None = None
    last_error: str | None = None
    last_error_kind: str | None = None
    parse_warning: str | None = None
    # When the feed is next due (pipeline.schedule.next_poll_at); None: due now (never polled) or,
    # when disabled, never.
    next_poll_at: datetime | None = None
    # Why it is due then, and the interval it runs at now (moved by adaptive polling).
    next_poll_reason: PollReason | None = None
    poll_interval: float | None = None
    # Where permanent redirects led; polled instead of the configured URL.
    moved_to: str | None = None
    disabled_at: datetime | None = None
    disabled_reason: str | None = None
    health_state: HealthState = HealthState.OK
    # When the current health state began (the incident's start, or the recovery).
    health_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class FeedState:
    """A feed as stored: its id, conditional-GET validators and health, read before a poll."""

    feed_id: int
    url: str
    conditional: ConditionalState
    consecutive_failures: int
    name: str = ""
    health: FeedHealth = field(default_factory=FeedHealth)
    items_seen: int = 0
    # When the feed was first registered (newswatch started watching it).
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """One feed's state to write after a poll."""

    feed_id: int
    health: FeedHealth
    conditional: ConditionalState
    new_items: int = 0
    # False when the poll left health_state as it found it: then the columns are not written, so
    # a silence check that ran during the poll keeps its word.
    health_state_changed: bool = True


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a parsed feed, normalised away from feedparser's dict shape."""

    link: str | None
    title: str
    summary: str
    published: datetime | None
    author: str | None
    guid: str | None
    # Declared by the feed (RSS <language>, xml:lang), as a language subtag: 'en', 'ja'.
    language: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    entries: list[FeedEntry]
    # feedparser's "bozo" warning for a malformed feed that still yielded entries.
    warning: str | None = None
    # Entries left out because they carried nothing (no link, guid, title or text).
    dropped: int = 0


class ExtractionMethod(enum.StrEnum):
    PAGE = "page"
    FEED_SUMMARY = "feed_summary"


@dataclass(frozen=True, slots=True)
class Article:
    """The text newswatch matches and stores, from the page or the feed summary."""

    url: str
    canonical_url: str
    title: str
    body: str
    published: datetime | None
    author: str | None
    language: str | None
    source: str
    method: ExtractionMethod
    summary: str = ""
    # Why the page could not be used, when `method` is FEED_SUMMARY.
    extraction_note: str | None = None


@dataclass(frozen=True, slots=True)
class ArticleFingerprint:
    """What pipeline.dedup computes to recognise an article reached twice, or a story retold."""

    # SHA-256 of the body's words; None when the body is too short to identify an article.
    content: str | None
    # MinHash signature of the title and body shingles, and its LSH band keys.
    signature: bytes | None = None
    bands: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoryCandidate:
    """A stored article sharing an LSH band with a new one: maybe the same story."""

    article_id: int
    story_id: int
    # The story's identity in alert idempotency keys: its first article's canonical URL.
    story_key: str
    signature: bytes


@dataclass(frozen=True, slots=True)
class Hit:
    """One occurrence of a watchlist term in an article field (offsets into that field's text)."""

    field: str
    start: int
    end: int
    term: str
    text: str


SnippetSegment = tuple[str, bool]


@dataclass(frozen=True, slots=True)
class Verdict:
    """How one article fares against one topic, with the evidence either way."""

    topic: str
    matched: bool
    score: float
    hits: list[Hit]
    explanation: Explanation
    # The passage around the strongest hits, as (text, is_hit) pieces so every
    # renderer (plain text, HTML, JSON) can highlight without re-parsing.
    snippet: list[SnippetSegment]

    @property
    def snippet_text(self) -> str:
        return "".join(text for text, _ in self.snippet)


class AlertKind(enum.StrEnum):
    MATCH = "match"
    # Operator notices about newswatch itself (a feed failing or going silent, and recovering).
    NOTICE = "notice"
    # One message gathering the match alerts held for a digest schedule (or over a rate limit).
    DIGEST = "digest"


@dataclass(frozen=True, slots=True)
class MatchDetails:
    """What a match alert reports about the article and why it matched."""

    topic: str
    score: float
    explanation: Explanation
    snippet: list[SnippetSegment]
    article_url: str
    title: str
    source: str
    published: datetime | None
    author: str | None
    language: str | None
    matched_at: datetime
    # Other (source name, URL) pairs that carried the same story, known when the alert is sent.
    other_sources: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Notice:
    """An operator notice: a subject, a paragraph, and labelled details (all plain text)."""

    subject: str
    text: str
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DigestDetails:
    """A digest: the match alerts held since the previous tick of one schedule, in the order they came."""

    schedule: str
    timezone: str
    # The schedule tick this digest is for, and the previous one (None for a stream's first digest).
    tick: datetime
    since: datetime | None
    items: list[OutgoingAlert]


@dataclass(frozen=True, slots=True)
class OutgoingAlert:
    """A pending outbox row with everything a channel needs to render and send it.

    Exactly one of `match` (kind MATCH), `notice` (kind NOTICE) and `digest` (kind DIGEST) is set.
    """

    alert_id: int
    idempotency_key: str
    channel: str
    attempts: int
    kind: AlertKind
    created_at: datetime
    match: MatchDetails | None = None
    notice: Notice | None = None
    digest: DigestDetails | None = None


@dataclass(frozen=True, slots=True)
class PlannedAlert:
    """An outbox row to write with a match: which channel, under which idempotency key."""

    topic: str
    channel: str
    idempotency_key: str
    # Set when the topic sends to this channel as a digest: the alert waits for that schedule.
    digest_key: str | None = None


def text_article(text: str, path: str, language: str | None = None) -> Article:
    """A plain-text article (a file for `newswatch match`, a golden example): the first line is
    the title, the rest the body."""
    title, _, body = text.strip().partition("\n")
    return Article(
        url=path,
        canonical_url=path,
        title=title.strip(),
        body=body.strip(),
        published=None,
        author=None,
        language=language,
        source=path,
        method=ExtractionMethod.PAGE,
    )
