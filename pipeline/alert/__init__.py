"""Alert delivery: channels behind one interface, and the outbox dispatcher."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from pipeline.alert.base import Channel, DeliveryError
from pipeline.alert.email import EmailChannel
from pipeline.alert.webhook import WebhookChannel
from pipeline.config import ChannelConfig, EmailChannelConfig, TopicConfig, WebhookChannelConfig
from pipeline.models import PlannedAlert, Verdict


def build_channel(name: str, config: ChannelConfig) -> Channel:
    if isinstance(config, EmailChannelConfig):
        return EmailChannel(name, config)
    if isinstance(config, WebhookChannelConfig):
        return WebhookChannel(name, config)
    raise TypeError(f"no channel implementation for {type(config).__name__}")


def build_channels(configs: Mapping[str, ChannelConfig]) -> dict[str, Channel]:
    return {name: build_channel(name, config) for name, config in configs.items()}


def idempotency_key(topic: str, story: str, channel: str) -> str:
    """Stable across restarts and resends: the same (topic, story, channel) always gives the same key."""
    digest = hashlib.sha256(f"{topic}\x1f{story}\x1f{channel}".encode()).hexdigest()
    return f"nw-{digest[:40]}"


def plan_alerts(
    verdicts: Iterable[Verdict], topics: Mapping[str, TopicConfig], story: str
) -> list[PlannedAlert]:
    """One outbox row per matched topic and each of its channels."""
    return [
        PlannedAlert(verdict.topic, channel, idempotency_key(verdict.topic, story, channel))
        for verdict in verdicts
        if verdict.matched
        for channel in topics[verdict.topic].channels
    ]


__all__ = ["Channel", "DeliveryError", "build_channels", "idempotency_key", "plan_alerts"]
