"""Alert delivery: channels behind one interface, delivery plans, and the outbox dispatcher."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pipeline.alert.base import Channel, DeliveryError
from pipeline.alert.keys import idempotency_key
from pipeline.alert.registry import build_channel
from pipeline.alert.routing import route_digest_key
from pipeline.config import ChannelConfigBase, TopicConfig
from pipeline.models import PlannedAlert, Verdict


def build_channels(configs: Mapping[str, ChannelConfigBase]) -> dict[str, Channel]:
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


__all__ = ["Channel", "DeliveryError", "build_channel", "build_channels", "idempotency_key", "plan_alerts"]
