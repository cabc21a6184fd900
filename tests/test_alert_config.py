"""The delivery part of the config: routes, digests, rate limits, Apprise, SMTP security and the
retry policy, each problem reported with its key path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.alert import plan_alerts
from pipeline.alert.routing import DeliveryPlan
from pipeline.config import ConfigError, parse_config
from tests.support.alerts import verdict

HOOK = {"type": "webhook", "url": "https://hooks.example.org/x"}
MAIL = {
    "type": "email",
    "to": ["analyst@example.org"],
    "from": "nw@example.org",
    "smtp": {"host": "smtp.example.org"},
}


def problems(topic_channels: list[Any], channels: dict[str, Any] | None = None, **extra: Any) -> list[str]:
    document = {
        "topics": {"usfj": {"all": ["USFJ"], "channels": topic_channels}},
        "channels": channels if channels is not None else {"hook": HOOK, "mail": MAIL},
        **extra,
    }
    try:
        parse_config(document)
    except ConfigError as error:
        return [str(problem) for problem in error.problems]
    return []


@pytest.mark.parametrize(
    ("routes", "expected"),
    [
        ([{"channel": "hook", "mode": "digest"}], "topics.usfj.channels[0]: mode 'digest' needs a schedule"),
        (
            [{"channel": "hook", "mode": "digest", "schedule": "61 * * * *"}],
            "topics.usfj.channels[0].schedule: '61 * * * *' is not a cron schedule",
        ),
        (
            [{"channel": "hook", "mode": "digest", "schedule": "0 8 * * *", "timezone": "Asia/Tokio"}],
            "topics.usfj.channels[0].timezone: unknown time zone 'Asia/Tokio'",
        ),
        (
            [{"channel": "hook", "schedule": "0 8 * * *"}],
            "topics.usfj.channels[0]: a schedule only applies to mode: digest",
        ),
        (
            [{"channel": "hook", "mode": "weekly"}],
            "topics.usfj.channels[0].mode: Input should be 'immediate' or 'digest'",
        ),
        (
            [{"channel": "hook", "mod": "digest"}],
            "topics.usfj.channels[0].mod: unknown key 'mod' (did you mean 'mode'?)",
        ),
        ([{"mode": "digest"}], "topics.usfj.channels[0].channel: Field required"),
        (["hook", {"channel": "hook"}], "topics.usfj.channels[1]: channel 'hook' is already listed at [0]"),
        ([{"channel": "pager"}], "topics.usfj.channels[0]: unknown channel 'pager'"),
    ],
)
def test_route_problems_name_the_key(routes: list[Any], expected: str) -> None:
    assert any(problem.startswith(expected) for problem in problems(routes)), problems(routes)


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ({**HOOK, "rate_limit": 0}, "channels.c.rate_limit.max: Input should be greater than 0"),
        (
            {**HOOK, "rate_limit": {"max": 5, "schedule": "hourly"}},
            "channels.c.rate_limit.schedule: 'hourly' is not",
        ),
        (
            {**HOOK, "rate_limit": {"max": 5, "per": "soon"}},
            "channels.c.rate_limit.per: 'soon' is not a duration",
        ),
        (
            {**MAIL, "smtp": {"host": "h", "username": "u", "password": "p"}},
            "channels.c.smtp: a username without ssl or starttls would send the password in clear",
        ),
        (
            {**MAIL, "smtp": {"host": "h", "ssl": True, "starttls": True}},
            "channels.c.smtp: choose one of ssl",
        ),
        (
            {**MAIL, "smtp": {"host": "h", "ssl": True, "ca_file": "/no/such/ca.pem"}},
            "channels.c.smtp.ca_file: no such file",
        ),
        ({**MAIL, "to": ["analyst"]}, "channels.c.to[0]: 'analyst' is not an email address"),
        (
            {"type": "apprise", "url": "nosuchservice://token"},
            "channels.c.url: not a usable Apprise URL (scheme 'nosuchservice')",
        ),
        ({"type": "apprise"}, "channels.c.url: Field required"),
    ],
)
def test_channel_problems_name_the_key(channel: dict[str, Any], expected: str) -> None:
    found = problems(["c"], {"c": channel})
    assert any(problem.startswith(expected) for problem in found), found


def test_policy_problems_name_the_key() -> None:
    found = problems(["hook"], alerts={"max_attempts": 0, "jitter": 1, "lease": "0s"})
    assert "alerts.max_attempts: Input should be greater than or equal to 1" in found
    assert "alerts.jitter: Input should be less than 1" in found
    assert "alerts.lease: a duration must be greater than zero" in found


def test_routes_become_a_delivery_plan_and_planned_alerts(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    config = parse_config(
        {
            "topics": {
                "usfj": {
                    "all": ["USFJ"],
                    "channels": [
                        "mail",
                        {
                            "channel": "hook",
                            "mode": "digest",
                            "schedule": "0 8 * * *",
                            "timezone": "Asia/Tokyo",
                        },
                    ],
                },
                "alliance": {
                    "all": ["alliance"],
                    "channels": [
                        {
                            "channel": "hook",
                            "mode": "digest",
                            "schedule": "0 8 * * *",
                            "timezone": "Asia/Tokyo",
                        }
                    ],
                },
            },
            "channels": {
                "hook": HOOK,
                "mail": {**MAIL, "smtp": {"host": "h", "ssl": True, "ca_file": str(ca)}, "rate_limit": 20},
            },
        }
    )
    plan = DeliveryPlan.from_config(config)
    # Two topics, one channel, one schedule: one digest stream. Plus the mail channel's overflow stream.
    assert sorted(plan.streams) == ["hook|0 8 * * *|Asia/Tokyo", "mail|0 * * * *|UTC"]
    assert plan.routes == {
        ("usfj", "mail"): None,
        ("usfj", "hook"): "hook|0 8 * * *|Asia/Tokyo",
        ("alliance", "hook"): "hook|0 8 * * *|Asia/Tokyo",
    }
    limit = plan.rate_limits["mail"]
    assert (limit.max_alerts, limit.window.total_seconds(), limit.overflow.key) == (
        20,
        3600,
        "mail|0 * * * *|UTC",
    )

    planned = plan_alerts([verdict("usfj")], config.topics, story="https://news.example.org/a")
    assert [(alert.channel, alert.digest_key) for alert in planned] == [
        ("mail", None),
        ("hook", "hook|0 8 * * *|Asia/Tokyo"),
    ]
    again = plan_alerts([verdict("usfj")], config.topics, story="https://news.example.org/a")
    assert [alert.idempotency_key for alert in again] == [alert.idempotency_key for alert in planned]
    assert len({alert.idempotency_key for alert in planned}) == 2  # one per channel
