"""Alert delivery: channels behind one interface, delivery plans, and the outbox dispatcher."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pipeline.alert.base import Channel, DeliveryError
from pipeline.alert.email import EmailChannel
from pipeline.alert.keys import idempotency_key
from pipeline.alert.routing import route_digest_key
from pipeline.alert.webhook import WebhookChannel
from pipeline.config import (
    AppriseChannelConfig,
    ChannelConfig,
    EmailChannelConfig,
    TopicConfig,
    WebhookChannelConfig,
)
from pipeline.models import PlannedAlert, Verdict


def build_channel(name: str, config: ChannelConfig) -> Channel:
    if isinstance(config, EmailChannelConfig):
        return EmailChannel(name, config)
    if isinstance(config, WebhookChannelConfig):
        return WebhookChannel(name, config)
    if isinstance(config, AppriseChannelConfig):
        from pipeline.alert.apprise import AppriseChannel

        return AppriseChannel(name, config)
    raise TypeError(f"no channel implementation for {type(config).__name__}")


def build_channels(configs: Mapping[str, ChannelConfig]) -> dict[str, Channel]:
    return {name: build_channel(name, config) for name, config in configs.items()}


def plan_alerts(
    verdicts: Iterable[Verdict], topics: Mapping[str, TopicConfig], story: str
) -> list[PlannedAlert]:
    """One outbox row per matched topic and each of its channels; a digest route marks the row to wait
    for its schedule."""
    return [
        PlannedAlert(
            verdict.topic,
            route.channel,
            idempotency_key(verdict.topic, story, route.channel),
            digest_key=route_digest_key(route),
        )
        for verdict in verdicts
        if verdict.matched
        for route in topics[verdict.topic].channels
    ]


__all__ = ["Channel", "DeliveryError", "build_channels", "idempotency_key", "plan_alerts"]
