"""Digests over simulated time (the dispatcher's clock is injected; nothing sleeps): one message per
schedule tick holding every match since the previous tick, on real SMTP and webhook receivers."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from standardwebhooks import Webhook

from pipeline.alert import build_channels
from pipeline.alert.dispatch import Dispatcher
from pipeline.alert.schedule import CronSchedule
from pipeline.cli import main
from pipeline.config import Config
from pipeline.store import Store
from tests.support.alerts import HOSTILE_TITLE, SimulatedClock, add_matches, open_store, write_config
from tests.support.configs import WEBHOOK_SECRET
from tests.support.servers import SmtpSink, WebhookReceiver
from tests.test_alert_channels import SCHEMA

TOKYO = ZoneInfo("Asia/Tokyo")


def test_schedule_ticks_in_a_time_zone_and_across_daylight_saving() -> None:
    daily_tokyo = CronSchedule("0 8 * * *", "Asia/Tokyo")
    start = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    assert daily_tokyo.next_after(start) == datetime(2026, 1, 1, 23, 0, tzinfo=UTC)
    assert daily_tokyo.latest_at(start) == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)
    tick = daily_tokyo.next_after(start)
    assert daily_tokyo.latest_at(tick) == tick and daily_tokyo.next_after(tick) == tick + timedelta(days=1)

    weekdays = CronSchedule("30 7 * * 1-5", "UTC")  # standard cron: 1-5 is Monday to Friday
    friday = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert weekdays.next_after(friday) == datetime(2026, 11, 30, 7, 30, tzinfo=UTC)  # Monday

    berlin = CronSchedule("30 2 * * *", "Europe/Berlin")
    spring = [berlin.next_after(datetime(2026, 3, 27, 12, tzinfo=UTC))]
    autumn = [berlin.next_after(datetime(2026, 10, 23, 12, tzinfo=UTC))]
    for ticks in (spring, autumn):
        for _ in range(3):
            ticks.append(berlin.next_after(ticks[-1]))
    # 02:30 does not exist on 29 March (clocks jump 02:00 -> 03:00): the tick falls at 03:30 summer time.
    assert [t.strftime("%m-%d %H:%M") for t in spring] == [
        "03-28 01:30",
        "03-29 01:30",
        "03-30 00:30",
        "03-31 00:30",
    ]
    # 02:30 happens twice on 25 October: the digest goes once, at the first.
    assert [t.strftime("%m-%d %H:%M") for t in autumn] == [
        "10-24 00:30",
        "10-25 00:30",
        "10-26 01:30",
        "10-27 01:30",
    ]


def digest_setup(
    tmp_path: Path, database_url: str, channels: dict[str, Any], routes: dict[str, list[Any]]
) -> tuple[Config, Store]:
    config = write_config(
        tmp_path / "newswatch.yaml",
        {
            "database": database_url,
            "topics": {name: {"all": ["USFJ"], "channels": route} for name, route in routes.items()},
            "channels": channels,
            "alerts": {"initial_backoff": "1m", "max_backoff": "10m"},
        },
    )
    return config, open_store(database_url)


def test_hourly_digest_over_a_simulated_afternoon(
    tmp_path: Path, database_url: str, webhook_receiver: WebhookReceiver, smtp_sink: SmtpSink
) -> None:
    hourly = {"mode": "digest", "schedule": "0 * * * *", "timezone": "UTC"}
    config, store = digest_setup(
        tmp_path,
        database_url,
        {
            "hook": {"type": "webhook", "url": webhook_receiver.hook_url, "secret": WEBHOOK_SECRET},
            "mail": {
                "type": "email",
                "to": ["analyst@example.org"],
                "from": "newswatch@example.org",
                "smtp": {"host": "127.0.0.1", "port": smtp_sink.port, "timeout": "5s"},
            },
        },
        # Two topics share the channels and the schedule: one message per tick covers both.
        {
            "usfj": [{"channel": "hook", **hourly}, {"channel": "mail", **hourly}],
            "alliance": [{"channel": "hook", **hourly}, {"channel": "mail", **hourly}],
        },
    )
    channels = build_channels(config.channels)
    start = (datetime.now(UTC) + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    clock = SimulatedClock(start + timedelta(minutes=5))
    # minutes after `start` at which matches arrive; none between 02:00 and 03:00 (an empty hour)
    arrivals = {5: 2, 25: 1, 60: 1, 70: 3, 115: 1, 190: 2, 235: 1, 250: 1}
    expected: dict[datetime, list[str]] = {}
    number = 0
    for minute in range(5, 301, 5):
        clock.now = start + timedelta(minutes=minute)
        for _ in range(arrivals.get(minute, 0)):
            number += 1
            topic = "usfj" if number % 3 else "alliance"
            keys = add_matches(store, config, [number], topic, title=f"{HOSTILE_TITLE} #{number}")
            tick = start + timedelta(hours=-(-minute // 60))  # the next hour boundary (or now, on one)
            expected.setdefault(tick, []).extend(keys)
        Dispatcher(store, channels, config, clock=clock).run()

    payloads = [Webhook(WEBHOOK_SECRET).verify(r.body, r.headers) for r in webhook_receiver.deliveries]
    for payload in payloads:
        jsonschema.validate(payload, SCHEMA)
    hook_digests = {datetime.fromisoformat(p["until"]): [item["id"] for item in p["items"]] for p in payloads}
    expected_hook = {
        tick: [key for key in keys if key in set(_channel_keys(store, "hook"))]
        for tick, keys in expected.items()
    }
    assert len(payloads) == len(expected) == 4  # ticks at 1, 2, 4 and 5 h; the empty 3 h tick sends nothing
    assert hook_digests == expected_hook
    assert [p["since"] for p in payloads][1:] == [p["until"] for p in payloads][:-1]
    assert sorted(Counter(key for keys in hook_digests.values() for key in keys).values()) == [1] * 12

    # The same ticks by email, each naming both topics, every match's details, and escaping them.
    assert len(smtp_sink.messages) == 4
    first = smtp_sink.messages[0]
    assert first.subject == "[newswatch] digest: 4 matches (usfj 3, alliance 1)"
    text, page = first.part("text/plain"), first.part("text/html")
    assert "newswatch digest: 4 matches from " in text and "(schedule '0 * * * *')" in text
    for number in (1, 2, 3, 4):
        assert f"https://news.example.org/2025/10/29/story-{number}" in text and f"#{number}" in text
    # Each match with its explanation's clause tree (the topics are `all: [USFJ]`), in both parts.
    assert text.count("\n  yes USFJ (") == 4 and page.count('">yes USFJ (') == 4
    assert (
        "<script>" not in page and page.count("&lt;script&gt;") == 4 and page.count("<mark>USFJ</mark>") == 4
    )
    mailed = Counter(str(mail.message["X-Newswatch-Alert"]) for mail in smtp_sink.messages)
    assert set(mailed.values()) == {1}
    store.engine.dispose()


def _channel_keys(store: Store, channel: str) -> list[str]:
    from sqlalchemy import select

    from pipeline.store.tables import AlertRow

    with store.session() as session:
        return list(
            session.scalars(
                select(AlertRow.idempotency_key).where(AlertRow.channel == channel, AlertRow.kind == "match")
            )
        )


def test_daily_digest_at_eight_in_tokyo_over_three_simulated_days(
    tmp_path: Path, database_url: str, webhook_receiver: WebhookReceiver
) -> None:
    config, store = digest_setup(
        tmp_path,
        database_url,
        {"hook": {"type": "webhook", "url": webhook_receiver.hook_url, "secret": WEBHOOK_SECRET}},
        {"usfj": [{"channel": "hook", "mode": "digest", "schedule": "0 8 * * *", "timezone": "Asia/Tokyo"}]},
    )
    channels = build_channels(config.channels)
    # Start at 09:00 Tokyo time on a day after today, and step through three days, three hours at a time.
    day = (datetime.now(TOKYO) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    clock = SimulatedClock(day.astimezone(UTC))
    per_day: list[list[str]] = [[], [], []]
    for step in range(3 * 8 + 1):  # up to 09:00 on the fourth day
        clock.now = (day + timedelta(hours=3 * step)).astimezone(UTC)
        Dispatcher(store, channels, config, clock=clock).run()
        if step % 2 == 0 and step < 3 * 8:  # a match comes in every six hours
            per_day[step // 8] += add_matches(store, config, [step], "usfj")

    payloads = webhook_receiver.payloads()
    until = [datetime.fromisoformat(p["until"]).astimezone(TOKYO) for p in payloads]
    assert [(t.date(), t.hour, t.minute) for t in until] == [
        ((day + timedelta(days=n)).date(), 8, 0) for n in (1, 2, 3)
    ]
    assert [[item["id"] for item in p["items"]] for p in payloads] == per_day
    assert [len(items) for items in per_day] == [4, 4, 4]
    store.engine.dispose()


def test_a_digest_that_cannot_be_delivered_is_retried_whole_with_the_same_key(
    tmp_path: Path, database_url: str, webhook_receiver: WebhookReceiver
) -> None:
    config, store = digest_setup(
        tmp_path,
        database_url,
        {"hook": {"type": "webhook", "url": webhook_receiver.hook_url, "secret": WEBHOOK_SECRET}},
        {"usfj": [{"channel": "hook", "mode": "digest", "schedule": "0 * * * *"}]},
    )
    channels = build_channels(config.channels)
    start = (datetime.now(UTC) + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    clock = SimulatedClock(start + timedelta(minutes=30))
    first = add_matches(store, config, [1, 2], "usfj")
    Dispatcher(store, channels, config, clock=clock).run()
    webhook_receiver.status = 503
    clock.now = start + timedelta(hours=1)
    report = Dispatcher(store, channels, config, clock=clock).run()
    assert (report.digests, report.retrying) == (1, 1)
    out = io.StringIO()
    main(["alerts", "--config", str(tmp_path / "newswatch.yaml")], out=out)
    listing = out.getvalue()
    assert "1/12  " in listing and "digest: 2 matches, '0 * * * *' UTC" in listing
    assert "last error: webhook hook: HTTP 503 Service Unavailable" in listing
    assert listing.count("carried by digest alert 3") == 2
    # A match arriving while the digest is being retried belongs to the next one.
    second = add_matches(store, config, [3], "usfj")
    webhook_receiver.status = 200
    clock.now = start + timedelta(hours=1, minutes=15)
    assert Dispatcher(store, channels, config, clock=clock).run().sent == 1
    clock.now = start + timedelta(hours=2)
    assert Dispatcher(store, channels, config, clock=clock).run().sent == 1

    bodies = [r for r in webhook_receiver.deliveries]
    ids = [r.headers["webhook-id"] for r in bodies]
    assert ids[0] == ids[1] != ids[2]  # the failed try and its resend: one digest, one key
    payloads = webhook_receiver.payloads()
    assert [item["id"] for item in payloads[1]["items"]] == first
    assert [item["id"] for item in payloads[2]["items"]] == second
    store.engine.dispose()


@pytest.mark.parametrize("schedule", ["@hourly", "*/30 * * * *"])
def test_cron_shorthands_and_steps_are_accepted(tmp_path: Path, database_url: str, schedule: str) -> None:
    config, store = digest_setup(
        tmp_path,
        database_url,
        {"hook": {"type": "webhook", "url": "https://hooks.example.org/x"}},
        {"usfj": [{"channel": "hook", "mode": "digest", "schedule": schedule}]},
    )
    assert config.topics["usfj"].channels[0].schedule == schedule
    store.engine.dispose()
