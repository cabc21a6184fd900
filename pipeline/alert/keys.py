"""Idempotency keys: the same (topic, story, channel) always gives the same key, across restarts."""

from __future__ import annotations

import hashlib


def idempotency_key(topic: str, story: str, channel: str) -> str:
    digest = hashlib.sha256(f"{topic}\x1f{story}\x1f{channel}".encode()).hexdigest()
    return f"nw-{digest[:40]}"
