"""Who is asking: password hashes, signed session cookies, API tokens, CSRF tokens, login limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

SESSION_COOKIE = "nw_session"
LOGIN_CSRF_COOKIE = "nw_login_csrf"
SESSION_SECONDS = 12 * 3600
TOKEN_PREFIX = "nwt_"

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_api_token() -> tuple[str, str]:
    """(the token to show once, the hash to store)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    user_id: int
    csrf: str
    expires: float


class SessionSigner:
    """Stateless sessions: the cookie carries the user id, the CSRF token and an expiry, signed with
    HMAC-SHA256. The user is looked up on every request, so removing a user ends their sessions."""

    def __init__(self, key: str) -> None:
        self._key = key.encode()

    def _mac(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()

    def issue(self, user_id: int, now: float | None = None) -> tuple[str, Session]:
        session = Session(user_id, secrets.token_urlsafe(24), (now or time.time()) + SESSION_SECONDS)
        data = json.dumps({"u": session.user_id, "c": session.csrf, "e": session.expires})
        payload = base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")
        return f"{payload}.{self._mac(payload)}", session

    def read(self, cookie: str | None, now: float | None = None) -> Session | None:
        if not cookie or "." not in cookie:
            return None
        payload, mac = cookie.rsplit(".", 1)
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            session = Session(int(data["u"]), str(data["c"]), float(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > (now or time.time()) else None


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


class FailureCounts(Protocol):
    """Where failed sign-ins are counted (`ConsoleStore`: in the database every console shares)."""

    def login_failures(self, keys: Sequence[str], since: datetime) -> dict[str, int]: ...

    def add_login_failure(self, keys: Sequence[str], at: datetime, forget_before: datetime) -> None: ...


class LoginLimiter:
    """At most `attempts` failed logins per client address and per user name within `window`
    seconds; a success does not reset the count, so guessing cannot be interleaved with a real login.
    The failures are counted in the database, so several console processes (`newswatch web`
    beside the daemon's, or behind one proxy) enforce one limit together."""

    def __init__(self, counts: FailureCounts, attempts: int = 5, window: float = 300.0) -> None:
        self.counts, self.attempts, self.window = counts, attempts, window

    @staticmethod
    def _keys(client: str, name: str) -> list[str]:
        # A user name may be long; the column holds 255 characters.
        return [f"addr:{client}"[:255], f"user:{name}"[:255]]

    def blocked(self, client: str, name: str, now: datetime) -> bool:
        since = now - timedelta(seconds=self.window)
        counts = self.counts.login_failures(self._keys(client, name), since)
        return any(count >= self.attempts for count in counts.values())

    def failed(self, client: str, name: str, now: datetime) -> None:
        forget_before = now - timedelta(seconds=self.window)
        self.counts.add_login_failure(self._keys(client, name), now, forget_before)


def feed_key(secret: str, topic: str) -> str:
    """The secret part of a topic's feed URL: whoever has it can read that topic's matches (feed
    readers cannot log in), and no other topic's."""
    return hmac.new(secret.encode(), f"topic-feed:{topic}".encode(), hashlib.sha256).hexdigest()[:32]
