"""The outbox on real SQLite and PostgreSQL: claims and leases, retries with backoff, failure after
max attempts, `newswatch alerts` / `alerts retry`, an outage of both channels, and rate limits."""

from __future__ import annotations

import io
import json
import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from pipeline.alert import build_channels
from pipeline.alert.dispatch import Dispatcher, retry_delay
from pipeline.cli import main
from pipeline.config import AlertConfig, Config
from pipeline.models import Notice
from pipeline.store import Store
from pipeline.store.outbox import Outbox
from pipeline.store.tables import AlertRow
from tests.support.alerts import SimulatedClock, add_matches, open_store, write_config
from tests.support.configs import WEBHOOK_SECRET
from tests.support.servers import LocalHTTPServer, Response, SmtpSink, WebhookReceiver, free_port


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def hook_document(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "webhook", "url": url, "secret": WEBHOOK_SECRET, "timeout": "2s", **extra}


def setup(
    tmp_path: Path, database_url: str, channels: dict[str, Any], routes: list[Any], **alerts: Any
) -> tuple[Path, Config, Store]:
    path = tmp_path / "newswatch.yaml"
    config = write_config(
        path,
        {
            "database": database_url,
            "topics": {"usfj": {"all": ["USFJ"], "channels": routes}},
            "channels": channels,
            "alerts": {"initial_backoff": "1m", "max_backoff": "10m", **alerts},
        },
    )
    return path, config, open_store(database_url)


def statuses(store: Store) -> Counter[str]:
    with store.session() as session:
        return Counter(session.scalars(select(AlertRow.status)))


def test_claims_are_exclusive_and_a_dead_dispatchers_lease_is_taken_over(
    tmp_path: Path, database_url: str
) -> None:
    _, config, store = setup(tmp_path, database_url, {"hook": hook_document("http://127.0.0.1:9/")}, ["hook"])
    add_matches(store, config, range(1, 4), "usfj")
    outbox = Outbox(store)
    now = datetime.now(UTC) + timedelta(seconds=1)
    lease = now + timedelta(minutes=5)

    first = outbox.claim("dispatcher-a", now, lease, limit=10, max_attempts=5)
    assert [alert.attempts for alert in first.alerts] == [1, 1, 1]
    assert outbox.claim("dispatcher-b", now, lease, limit=10, max_attempts=5).alerts == []

    # dispatcher-a dies; after its lease runs out dispatcher-b takes the alerts over.
    later = lease + timedelta(seconds=1)
    second = outbox.claim("dispatcher-b", later, later + timedelta(minutes=5), limit=10, max_attempts=5)
    assert [alert.alert_id for alert in second.alerts] == [alert.alert_id for alert in first.alerts]
    assert [alert.attempts for alert in second.alerts] == [2, 2, 2]
    # The dead dispatcher's outcome can no longer overwrite the new owner's.
    taken = first.alerts[0].alert_id
    assert not outbox.renew(taken, "dispatcher-a", later)
    assert not outbox.mark_retry(taken, "dispatcher-a", "late", later)
    assert outbox.renew(taken, "dispatcher-b", later + timedelta(minutes=5))
    outbox.mark_sent(taken, later)
    assert statuses(store) == {"sent": 1, "sending": 2}
    store.engine.dispose()


def test_alert_abandoned_when_dispatchers_keep_dying_while_sending_it(
    tmp_path: Path, database_url: str
) -> None:
    _, config, store = setup(tmp_path, database_url, {"hook": hook_document("http://127.0.0.1:9/")}, ["hook"])
    add_matches(store, config, [1], "usfj")
    outbox = Outbox(store)
    now = datetime.now(UTC) + timedelta(seconds=1)
    for attempt in range(2):
        now += timedelta(minutes=10)
        claim = outbox.claim(f"doomed-{attempt}", now, now + timedelta(minutes=1), limit=5, max_attempts=2)
        assert len(claim.alerts) == 1  # ...and the process dies mid-send each time
    claim = outbox.claim("survivor", now + timedelta(minutes=10), now + timedelta(minutes=11), 5, 2)
    assert claim.alerts == [] and len(claim.abandoned) == 1
    (row,) = outbox.listing()
    assert row.status == "failed" and "gave up after 2 attempts" in (row.last_error or "")
    assert "doomed-1" in (row.last_error or "")
    store.engine.dispose()


def test_retry_delay_grows_exponentially_with_jitter_and_honours_retry_after() -> None:
    policy = AlertConfig(initial_backoff=30, max_backoff=3600, jitter=0.2)
    rng = random.Random(5)
    for attempts, nominal in [(1, 30), (2, 60), (3, 120), (6, 960), (7, 1920), (8, 3600), (12, 3600)]:
        delays = {retry_delay(attempts, policy, rng=rng).total_seconds() for _ in range(50)}
        assert all(nominal * 0.8 <= delay <= nominal for delay in delays)
        assert len(delays) > 40  # spread, not one value
    assert retry_delay(1, policy, retry_after=900, rng=rng).total_seconds() == 900
    assert retry_delay(8, policy, retry_after=5, rng=rng).total_seconds() >= 3600 * 0.8
    assert retry_delay(1, policy, retry_after=10**9, rng=rng) == timedelta(days=1)


def test_failed_after_max_attempts_kept_and_requeued_by_cli(
    tmp_path: Path, database_url: str, webhook_receiver: WebhookReceiver
) -> None:
    path, config, store = setup(
        tmp_path, database_url, {"hook": hook_document(webhook_receiver.hook_url)}, ["hook"], max_attempts=3
    )
    (key,) = add_matches(store, config, [1], "usfj")
    channels = build_channels(config.channels)
    clock = SimulatedClock(datetime.now(UTC) + timedelta(seconds=1))
    webhook_receiver.status = 503
    outcomes = []
    for _ in range(4):
        report = Dispatcher(store, channels, config, clock=clock).run()
        outcomes.append((report.retrying, report.failed))
        clock.advance(minutes=30)
    assert outcomes == [(1, 0), (1, 0), (0, 1), (0, 0)]

    code, listing = cli("alerts", "--config", str(path), "--status", "failed")
    assert code == 0
    assert "failed" in listing and "3/3" in listing
    assert "last error: gave up after 3 attempts: webhook hook: HTTP 503 Service Unavailable" in listing
    assert "newswatch alerts retry 1" in listing

    code, output = cli("alerts", "retry", "--failed", "--config", str(path))
    assert code == 0 and "alert 1: re-queued" in output and "1 re-queued" in output
    webhook_receiver.status = 200
    report = Dispatcher(store, channels, config, clock=clock).run()
    assert report.sent == 1
    code, listing = cli("alerts", "list", "--config", str(path), "--status", "sent")
    assert "sent" in listing and "1/3" in listing  # attempts start again after a manual retry
    # Four tries, one alert: every request carried the same idempotency key.
    assert {request.headers["idempotency-key"] for request in webhook_receiver.deliveries} == {key}
    assert len(webhook_receiver.deliveries) == 4
    code, output = cli("alerts", "retry", "1", "--config", str(path))
    assert code == 1 and "alert 1: already sent at" in output
    store.engine.dispose()


def test_permanent_error_fails_at_once(
    tmp_path: Path, database_url: str, webhook_receiver: WebhookReceiver
) -> None:
    path, config, store = setup(
        tmp_path, database_url, {"hook": hook_document(webhook_receiver.hook_url)}, ["hook"]
    )
    add_matches(store, config, [1], "usfj")
    webhook_receiver.status = 404
    report = Dispatcher(store, build_channels(config.channels), config).run()
    assert (report.sent, report.retrying, report.failed) == (0, 0, 1)
    (row,) = Outbox(store).listing()
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "webhook hook: HTTP 404 Not Found")
    code, output = cli("alerts", "retry", str(row.alert_id), "--config", str(path))
    assert code == 0 and "re-queued" in output
    assert statuses(store) == {"pending": 1}
    store.engine.dispose()


def test_outage_of_smtp_and_webhook_then_recovery_delivers_each_alert_once(
    tmp_path: Path, database_url: str
) -> None:
    smtp_port, hook_port = free_port(), free_port()
    mail = {
        "type": "email",
        "to": ["analyst@example.org"],
        "from": "newswatch@example.org",
        "smtp": {"host": "127.0.0.1", "port": smtp_port, "timeout": "2s"},
    }
    hook = hook_document(f"http://127.0.0.1:{hook_port}/hook")
    path, config, store = setup(
        tmp_path, database_url, {"mail": mail, "hook": hook}, ["mail", "hook"], max_attempts=10
    )
    keys = add_matches(store, config, range(1, 6), "usfj")
    assert len(keys) == 10
    channels = build_channels(config.channels)
    clock = SimulatedClock(datetime.now(UTC) + timedelta(seconds=1))

    # Both receivers are down (nothing listens on their ports) for four dispatch rounds.
    for _ in range(4):
        report = Dispatcher(store, channels, config, clock=clock).run()
        assert (report.sent, report.retrying, report.failed) == (0, 10, 0)
        clock.advance(minutes=15)  # past the longest backoff, so every alert is due again

    code, listing = cli("alerts", "--config", str(path))
    rows = [line for line in listing.splitlines() if line.strip().split(" ")[0].isdigit()]
    assert code == 0 and len(rows) == 10
    # Each shows its attempts and when it is tried next (15 min rounds: the 4th backoff is 8 min +- jitter).
    for row in rows:
        _id, status, _channel, tries, day, time_of_day = row.split()[:6]
        next_attempt = datetime.fromisoformat(f"{day}T{time_of_day}+00:00")
        assert (status, tries) == ("pending", "4/10")
        assert clock.now - timedelta(minutes=15) < next_attempt <= clock.now - timedelta(minutes=7)
    assert listing.count(f"last error: email mail (SMTP 127.0.0.1:{smtp_port}): ConnectionRefusedError") == 5
    assert listing.count("last error: webhook hook: ConnectError") == 5
    assert "alerts: pending 10" in listing
    code, json_lines = cli("alerts", "--json", "--config", str(path))
    assert {line.count('"attempts": 4') for line in json_lines.splitlines()} == {1}

    sink = SmtpSink(port=smtp_port).start()
    receiver = WebhookReceiver(port=hook_port).start()
    try:
        report = Dispatcher(store, channels, config, clock=clock).run()
        assert (report.sent, report.retrying, report.failed) == (10, 0, 0)
        clock.advance(hours=2)
        assert Dispatcher(store, channels, config, clock=clock).run().sent == 0
    finally:
        sink.stop()
        receiver.stop()

    mailed = Counter(str(mail.message["X-Newswatch-Alert"]) for mail in sink.messages)
    posted = Counter(request.headers["webhook-id"] for request in receiver.deliveries)
    assert set(mailed.values()) == {1} and set(posted.values()) == {1}  # none twice
    assert set(mailed) | set(posted) == set(keys)  # none lost
    code, listing = cli("alerts", "--config", str(path), "--status", "sent")
    rows = [line.split() for line in listing.splitlines() if line.strip().split(" ")[0].isdigit()]
    assert [(row[1], row[3]) for row in rows] == [("sent", "5/10")] * 10
    store.engine.dispose()


def test_rate_limit_rolls_the_rest_into_the_next_digest(
    tmp_path: Path, database_url: str, webhook_receiver: WebhookReceiver
) -> None:
    hook = hook_document(
        webhook_receiver.hook_url, rate_limit={"max": 3, "per": "1h", "schedule": "0 * * * *"}
    )
    path, config, store = setup(tmp_path, database_url, {"hook": hook}, ["hook"])
    channels = build_channels(config.channels)
    hour = (datetime.now(UTC) + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    clock = SimulatedClock(hour + timedelta(minutes=10))

    def dispatch() -> tuple[int, int, int]:
        report = Dispatcher(store, channels, config, clock=clock).run()
        return report.sent, report.rolled_over, report.digests

    burst = add_matches(store, config, range(1, 9), "usfj")
    assert dispatch() == (3, 5, 0)
    _, listing = cli("alerts", "--config", str(path), "--status", "pending")
    assert listing.count("waits for the digest '0 * * * *' UTC") == 5
    assert "digest hook '0 * * * *' UTC: 5 waiting" in listing
    clock.now = hour + timedelta(hours=1)
    assert dispatch() == (1, 0, 1)  # one digest carrying the five

    # Still within the hour after the first three: new alerts roll over too...
    clock.now = hour + timedelta(hours=1, minutes=5)
    late = add_matches(store, config, [9, 10], "usfj")
    assert dispatch() == (0, 2, 0)
    clock.now = hour + timedelta(hours=2)
    assert dispatch() == (1, 0, 1)
    # ...and once the window has passed, alerts go out on their own again.
    clock.now = hour + timedelta(hours=2, minutes=11)
    last = add_matches(store, config, [11], "usfj")
    assert dispatch() == (1, 0, 0)

    payloads = webhook_receiver.payloads()
    assert [payload["type"] for payload in payloads] == ["newswatch.match"] * 3 + ["newswatch.digest"] * 2 + [
        "newswatch.match"
    ]
    assert [payload["id"] for payload in payloads[:3]] == burst[:3]
    assert [item["id"] for item in payloads[3]["items"]] == burst[3:]
    assert [item["id"] for item in payloads[4]["items"]] == late
    assert payloads[5]["id"] == last[0]
    assert statuses(store) == {"sent": 13}  # 11 alerts, 2 digests
    store.engine.dispose()


def test_alerts_waiting_for_a_removed_schedule_are_rerouted(
    tmp_path: Path, database_url: str, webhook_receiver: WebhookReceiver
) -> None:
    channels_doc = {"hook": hook_document(webhook_receiver.hook_url)}
    daily = {"channel": "hook", "mode": "digest", "schedule": "0 8 * * *", "timezone": "Asia/Tokyo"}
    _, config, store = setup(tmp_path, database_url, channels_doc, [daily])
    add_matches(store, config, [1, 2], "usfj")
    assert Dispatcher(store, build_channels(config.channels), config).run().sent == 0

    # The operator moves the digest to 09:00: the alerts wait for the new schedule.
    _, nine, _ = setup(tmp_path, database_url, channels_doc, [{**daily, "schedule": "0 9 * * *"}])
    assert Dispatcher(store, build_channels(nine.channels), nine).run().sent == 0
    assert {row.digest_key for row in Outbox(store).listing()} == {"hook|0 9 * * *|Asia/Tokyo"}

    # Then to immediate delivery: they go out now, each on its own.
    _, immediate, _ = setup(tmp_path, database_url, channels_doc, ["hook"])
    assert Dispatcher(store, build_channels(immediate.channels), immediate).run().sent == 2
    assert [payload["type"] for payload in webhook_receiver.payloads()] == ["newswatch.match"] * 2
    store.engine.dispose()


def test_alert_for_a_channel_no_longer_configured_fails_visibly(tmp_path: Path, database_url: str) -> None:
    _, config, store = setup(tmp_path, database_url, {"hook": hook_document("http://127.0.0.1:9/")}, ["hook"])
    add_matches(store, config, [1], "usfj")
    with store.session() as session, session.begin():
        session.execute(update(AlertRow).values(channel="renamed"))
    report = Dispatcher(store, build_channels(config.channels), config).run()
    assert report.failed == 1
    (row,) = Outbox(store).listing()
    assert row.last_error == "channel 'renamed' is no longer configured"
    store.engine.dispose()


def test_retry_after_from_the_receiver_sets_the_next_attempt(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer
) -> None:
    url = http_server.add("/hook", Response(429, b"{}", {"Retry-After": "900"}))
    _, config, store = setup(tmp_path, database_url, {"hook": hook_document(url)}, ["hook"])
    add_matches(store, config, [1], "usfj")
    clock = SimulatedClock(datetime.now(UTC) + timedelta(seconds=1))
    assert Dispatcher(store, build_channels(config.channels), config, clock=clock).run().retrying == 1
    (row,) = Outbox(store).listing()
    # The policy alone would wait about a minute; the receiver asked for fifteen.
    assert row.next_attempt_at == clock.now + timedelta(seconds=900)
    assert row.last_error == "webhook hook: HTTP 429 Too Many Requests, Retry-After 900s"
    store.engine.dispose()


def test_notices_are_never_held_back_by_a_rate_limit(
    tmp_path: Path, database_url: str, webhook_receiver: WebhookReceiver
) -> None:
    hook = hook_document(webhook_receiver.hook_url, rate_limit=1)
    _, config, store = setup(tmp_path, database_url, {"hook": hook}, ["hook"])
    add_matches(store, config, [1, 2], "usfj")
    for number in range(3):
        Outbox(store).queue_notice("hook", f"nw-notice-{number}", Notice(f"Feed {number} is failing", "text"))
    report = Dispatcher(store, build_channels(config.channels), config).run()
    assert (report.sent, report.rolled_over) == (4, 1)  # 1 match + 3 notices; 1 match waits
    assert Counter(payload["type"] for payload in webhook_receiver.payloads()) == {
        "newswatch.notice": 3,
        "newswatch.match": 1,
    }
    store.engine.dispose()


def test_alerts_listing_filters(tmp_path: Path, database_url: str) -> None:
    channels_doc = {
        "hook": hook_document("http://127.0.0.1:9/"),
        "other": hook_document("http://127.0.0.1:9/"),
    }
    path = tmp_path / "newswatch.yaml"
    config = write_config(
        path,
        {
            "database": database_url,
            "topics": {
                "usfj": {"all": ["USFJ"], "channels": ["hook", "other"]},
                "alliance": {"all": ["alliance"], "channels": ["hook"]},
            },
            "channels": channels_doc,
        },
    )
    store = open_store(database_url)
    add_matches(store, config, [1, 2], "usfj")
    add_matches(store, config, [3], "alliance")

    def ids(*argv: str) -> list[int]:
        _, output = cli("alerts", "--json", "--config", str(path), *argv)
        return [json.loads(line)["id"] for line in output.splitlines()]

    assert ids() == [5, 4, 3, 2, 1]
    assert ids("--channel", "other") == [4, 2]
    assert ids("--topic", "alliance") == [5]
    assert ids("--limit", "2") == [5, 4]
    assert ids("--status", "sent") == []
    record = json.loads(cli("alerts", "--json", "--config", str(path), "--limit", "1")[1])
    assert (
        record["status"] == "pending"
        and record["attempts"] == 0
        and record["idempotency_key"].startswith("nw-")
    )
    code, _ = cli("alerts", "retry", "--config", str(path))
    assert code == 2  # neither IDs nor --failed
    store.engine.dispose()


def test_a_stopping_dispatcher_finishes_the_send_in_hand_and_hands_the_rest_back(
    tmp_path: Path, database_url: str
) -> None:
    stopping = threading.Event()
    receiver = WebhookReceiver()

    def received_then_shutdown(_request: Any) -> Response:
        stopping.set()  # the operator stops the daemon while this alert is being sent
        return Response(200, b"{}", {"Content-Type": "application/json"})

    receiver.add(WebhookReceiver.PATH, received_then_shutdown)
    receiver.start()
    try:
        hook = hook_document(receiver.hook_url)
        _, config, store = setup(tmp_path, database_url, {"hook": hook}, ["hook"])
        keys = add_matches(store, config, range(1, 6), "usfj")
        channels = build_channels(config.channels)
        clock = SimulatedClock(datetime.now(UTC) + timedelta(seconds=1))

        report = Dispatcher(store, channels, config, clock=clock).run(stopping)

        assert report.sent == 1 and len(receiver.deliveries) == 1
        assert statuses(store) == {"sent": 1, "pending": 4}
        handed_back = [row for row in Outbox(store).listing() if row.status == "pending"]
        assert {(row.attempts, row.claimed_by) for row in handed_back} == {(0, None)}
        # The next start sends them at once, not after the stopped dispatcher's lease.
        assert Dispatcher(store, channels, config, clock=clock).run().sent == 4
        posted = Counter(request.headers["webhook-id"] for request in receiver.deliveries)
        assert set(posted.values()) == {1} and set(posted) == set(keys)
    finally:
        receiver.stop()
    store.engine.dispose()
