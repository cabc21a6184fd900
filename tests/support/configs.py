"""Config files for tests, built from the shipped example so its real topics are what gets tested."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml

SHIPPED_CONFIG = Path(__file__).resolve().parents[2] / "config" / "newswatch.yaml"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"newswatch-test-secret-32-bytes!!").decode()


def shipped_document() -> dict[str, Any]:
    document = yaml.safe_load(SHIPPED_CONFIG.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def write_test_config(
    path: Path,
    *,
    database_url: str,
    feeds: list[dict[str, Any]],
    smtp_port: int | None = None,
    webhook_url: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """The shipped aliases and topics, with test feeds, a test database and loopback channels."""
    document = shipped_document()
    channels: dict[str, Any] = {}
    if smtp_port is not None:
        channels["test-email"] = {
            "type": "email",
            "to": ["analyst@example.org"],
            "from": "newswatch@example.org",
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "timeout": "5s"},
        }
    if webhook_url is not None:
        channels["test-webhook"] = {"type": "webhook", "url": webhook_url, "secret": WEBHOOK_SECRET}
    for topic in document["topics"].values():
        topic["channels"] = list(channels)
        # Golden example paths are relative to the shipped config's directory; keep them valid here.
        for kind, entries in (topic.get("examples") or {}).items():
            topic["examples"][kind] = [str((SHIPPED_CONFIG.parent / entry).resolve()) for entry in entries]
    # Tests bind their own ports; the shipped status endpoint address would collide between runs.
    document.pop("web", None)
    document.update(
        database=database_url,
        feeds=feeds,
        channels=channels,
        # Everything here is served from loopback, which newswatch refuses by default (tests that
        # prove the refusal replace this section).
        fetch={
            "connect_timeout": "2s",
            "read_timeout": "2s",
            "total_timeout": "5s",
            "allow_private_addresses": True,
        },
        alerts={"initial_backoff": "1s", "max_backoff": "5s"},
    )
    document.update(extra or {})
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
