"""Who is asking: password hashes, signed session cookies, API tokens, CSRF tokens, login limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

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


class LoginLimiter:
    """At most `attempts` failed logins per client address and per user name within `window`
    seconds; a success does not reset the count, so guessing cannot be interleaved with a real login."""

    def __init__(self, attempts: int = 5, window: float = 300.0) -> None:
        self.attempts, self.window = attempts, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def blocked(self, client: str, name: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            return any(
                len(self._recent(key, now)) >= self.attempts for key in (f"addr:{client}", f"user:{name}")
            )

    def failed(self, client: str, name: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            for key in (f"addr:{client}", f"user:{name}"):
                self._recent(key, now).append(now)


def feed_key(secret: str, topic: str) -> str:
    """The secret part of a topic's feed URL: whoever has it can read that topic's matches (feed
    readers cannot log in), and no other topic's."""
    return hmac.new(secret.encode(), f"topic-feed:{topic}".encode(), hashlib.sha256).hexdigest()[:32]
