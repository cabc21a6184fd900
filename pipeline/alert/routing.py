"""Where and when alerts go, read once from the config: digest streams and rate limits.

A digest stream is one channel plus one cron schedule in one time zone. Every topic that
sends to the same channel on the same schedule shares the stream, so the operator gets one
message per tick, not one per topic; a channel's rate-limit overflow also goes to a stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from pipeline.alert.schedule import CronSchedule
from pipeline.config import ChannelConfig, ChannelRoute, Config, TopicConfig


@dataclass(frozen=True)
class DigestStream:
    channel: str
    schedule: CronSchedule

    @property
    def key(self) -> str:
        return digest_key(self.channel, self.schedule.expression, self.schedule.timezone)


@dataclass(frozen=True)
class RateLimit:
    max_alerts: int
    window: timedelta
    overflow: DigestStream


def digest_key(channel: str, schedule: str, timezone: str) -> str:
    # Neither a cron expression nor a zone name contains "|", so the key splits back unambiguously.
    return f"{channel}|{schedule}|{timezone}"


def route_digest_key(route: ChannelRoute) -> str | None:
    if route.mode != "digest" or route.schedule is None:
        return None
    return digest_key(route.channel, route.schedule, route.timezone)


@dataclass(frozen=True)
class DeliveryPlan:
    streams: dict[str, DigestStream] = field(default_factory=dict)
    rate_limits: dict[str, RateLimit] = field(default_factory=dict)
    # (topic, channel) -> the digest stream key, or None for immediate delivery.
    routes: dict[tuple[str, str], str | None] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Config) -> DeliveryPlan:
        return cls.build(config.topics, config.channels)

    @classmethod
    def build(cls, topics: Mapping[str, TopicConfig], channels: Mapping[str, ChannelConfig]) -> DeliveryPlan:
        plan = cls()
        for topic_name, topic in topics.items():
            for route in topic.channels:
                key = route_digest_key(route)
                plan.routes[(topic_name, route.channel)] = key
                if key is not None and route.schedule is not None:
                    plan.streams[key] = DigestStream(
                        route.channel, CronSchedule(route.schedule, route.timezone)
                    )
        for name, channel in channels.items():
            limit = channel.rate_limit
            if limit is None:
                continue
            overflow = DigestStream(name, CronSchedule(limit.schedule, limit.timezone))
            plan.streams.setdefault(overflow.key, overflow)
            plan.rate_limits[name] = RateLimit(limit.max, timedelta(seconds=limit.per), overflow)
        return plan

    def reroute(self, topic: str | None, channel: str) -> str | None:
        """Where an alert waiting for a stream that is no longer configured should go now."""
        if topic is None:
            return None
        return self.routes.get((topic, channel))
