"""Keeping secrets out of everything newswatch prints, logs and stores.

Channels carry secrets: SMTP passwords, webhook signing secrets, and Apprise URLs (and
some webhook URLs) whose paths or queries are tokens. Our own messages never include
them, but error texts come from libraries and servers too, so every error stored with an
alert, every log line about a delivery and every line `newswatch alerts` prints passes
through a Redactor built from the config. Over-redacting a harmless word is acceptable;
leaking a token is not.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlsplit

from pipeline.config import ChannelConfigBase

MASK = "********"
# Shorter query values are flags and words (method=POST), not tokens.
_MIN_QUERY_SECRET = 6
_URL_PIECES = re.compile(r"[/?&=@:#;,+]")


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return text == "localhost"
    return True


_HOST_NAME = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


def _token_like(piece: str) -> bool:
    """Tokens are long, or mix in digits; path words ("webhook", "services"), host names and user
    names are not masked, or every log line mentioning them would be unreadable."""
    if _is_address(piece) or _HOST_NAME.match(piece) or len(piece) < 8:
        return False
    return len(piece) >= 16 or any(character.isdigit() for character in piece)


def url_secrets(url: str, *, whole_path: bool) -> list[str]:
    """The parts of a URL that may be credentials: the password, query values, and (for token-style
    URLs such as Apprise's, where tokens sit in the host or path) every token-like piece."""
    found = [url]
    rest = url.split("://", 1)[1] if "://" in url else url
    try:
        parts = urlsplit(url)
        if parts.password:
            found.append(parts.password)
        found.extend(value for _, value in parse_qsl(parts.query) if len(value) >= _MIN_QUERY_SECRET)
    except ValueError:
        pass  # unparseable as a URL (e.g. tgram://ID:TOKEN/): the pieces below still cover it
    if whole_path:
        found.extend(piece for piece in _URL_PIECES.split(rest) if _token_like(piece))
    return found


def channel_secrets(config: ChannelConfigBase) -> list[str]:
    """Each channel's config knows its secrets (see its module in pipeline/alert/)."""
    return config.secrets()


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a token inside a URL is not half-replaced before the URL is.
        self.secrets = sorted({secret for secret in secrets if secret}, key=len, reverse=True)
        self._compiled: tuple[list[str], re.Pattern[str] | None] = ([], None)

    @classmethod
    def for_channels(cls, channels: Mapping[str, ChannelConfigBase]) -> Redactor:
        return cls(secret for config in channels.values() for secret in channel_secrets(config))

    def __call__(self, text: str) -> str:
        # A secret is masked only as a whole value, not where its text is part of a longer word: a
        # short password such as "x" would otherwise garble every word containing it ("ne********t").
        # Compiled again when `secrets` is replaced (apprise.py widens one shared Redactor).
        compiled_for, pattern = self._compiled
        if compiled_for != self.secrets:
            alternatives = "|".join(_whole_value(secret) for secret in self.secrets)
            pattern = re.compile(alternatives) if alternatives else None
            self._compiled = (list(self.secrets), pattern)
        return pattern.sub(MASK, text) if pattern is not None else text


def _whole_value(secret: str) -> str:
    """A pattern for `secret` not touching a letter, digit or _ on a side where it is itself one."""
    before = r"(?<!\w)" if re.match(r"\w", secret[0]) else ""
    after = r"(?!\w)" if re.match(r"\w", secret[-1]) else ""
    return f"{before}{re.escape(secret)}{after}"


class RedactingFilter(logging.Filter):
    """Rewrites a logger's records with the secrets masked (for libraries that log URLs)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redactor(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            # A traceback would print the exception text unfiltered: keep only its redacted summary.
            error = record.exc_info[1]
            record.msg = f"{record.msg} ({type(error).__name__}: {self.redactor(str(error))})"
            record.exc_info, record.exc_text = None, None
        return True


def redact_url(url: str) -> str:
    """Scheme and host only: enough to recognise an endpoint, nothing that could be a token."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return url.split("://", 1)[0] + "://…"
    return (
        f"{parts.scheme}://{host}{port}/…"
        if parts.path.strip("/") or parts.query
        else f"{parts.scheme}://{host}{port}"
    )
