"""Idempotency keys: the same (topic, story, channel) always gives the same key, across restarts."""

from __future__ import annotations

import hashlib


def idempotency_key(topic: str, story: str, channel: str) -> str:
    digest = hashlib.sha256(f"{topic}\x1f{story}\x1f{channel}".encode()).hexdigest()
    return f"nw-{digest[:40]}"


def notice_key(kind: str, feed_url: str, incident: str, channel: str) -> str:
    """One notice per (feed health incident, channel): a second report of the same incident is ignored."""
    digest = hashlib.sha256(f"{kind}\x1f{feed_url}\x1f{incident}\x1f{channel}".encode()).hexdigest()
    return f"nw-health-{digest[:40]}"
