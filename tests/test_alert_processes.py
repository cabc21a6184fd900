"""Real dispatcher processes (`newswatch alerts send`) against real receivers and databases:
killed with SIGKILL at random points and restarted (nothing lost; a resend carries the same key),
and two at once on one PostgreSQL database (every alert exactly once)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook

from pipeline.config import Config
from pipeline.store import Store
from tests.support.alerts import add_matches, open_store, write_config
from tests.support.configs import WEBHOOK_SECRET
from tests.support.servers import SmtpSink, WebhookReceiver

ROOT = Path(__file__).resolve().parents[1]
CRASH_RUNS = 25
LEASE_SECONDS = 1.0


def dispatcher(config_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "alerts", "send", "--config", str(config_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def setup(
    tmp_path: Path, database_url: str, smtp: SmtpSink, hook: WebhookReceiver
) -> tuple[Path, Config, Store]:
    path = tmp_path / "newswatch.yaml"
    config = write_config(
        path,
        {
            "database": database_url,
            "topics": {"usfj": {"all": ["USFJ"], "channels": ["mail", "hook"]}},
            "channels": {
                "mail": {
                    "type": "email",
                    "to": ["analyst@example.org"],
                    "from": "newswatch@example.org",
                    "smtp": {"host": "127.0.0.1", "port": smtp.port, "timeout": "5s"},
                },
                "hook": {"type": "webhook", "url": hook.hook_url, "secret": WEBHOOK_SECRET, "timeout": "5s"},
            },
            "alerts": {
                "lease": f"{LEASE_SECONDS}s",
                "initial_backoff": "0.5s",
                "max_backoff": "1s",
                "max_attempts": 100,
            },
        },
    )
    return path, config, open_store(database_url)


def received_keys(smtp: SmtpSink, hook: WebhookReceiver) -> list[str]:
    """The idempotency key of every message received, checked to be carried consistently."""
    keys = []
    for mail in list(smtp.messages):
        key = str(mail.message["X-Newswatch-Alert"])
        assert mail.message["Message-ID"] == f"<{key}@example.org>"
        keys.append(key)
    verifier = Webhook(WEBHOOK_SECRET)
    for request in list(hook.deliveries):
        payload = verifier.verify(request.body, request.headers)
        assert request.headers["webhook-id"] == request.headers["idempotency-key"] == payload["id"]
        keys.append(payload["id"])
    return keys


def received_count(smtp: SmtpSink, hook: WebhookReceiver) -> int:
    return len(smtp.messages) + len(hook.deliveries)


def statuses(store: Store) -> Counter[str]:
    from pipeline.store.tables import AlertRow

    with store.session() as session:
        return Counter(
            dict(session.execute(select(AlertRow.status, func.count()).group_by(AlertRow.status)).all())
        )


@pytest.mark.slow
def test_dispatcher_killed_at_random_points_loses_nothing(tmp_path: Path, database_url: str) -> None:
    backend = database_url.split(":", 1)[0]
    seed = int(os.environ.get("NEWSWATCH_CRASH_SEED", random.randrange(1_000_000)))
    rng = random.Random(seed)
    smtp = SmtpSink(delay=0.02).start()
    hook = WebhookReceiver(delay=0.02).start()
    try:
        path, config, store = setup(tmp_path, database_url, smtp, hook)
        keys = add_matches(store, config, range(1, 101), "usfj")
        killed = killed_mid_send = runs = 0
        for _ in range(CRASH_RUNS):
            runs += 1
            before = received_count(smtp, hook)
            process = dispatcher(path)
            if rng.random() < 0.2:
                # Sometimes while it starts: imports, schema check, first claim.
                time.sleep(rng.uniform(0.1, 1.5))
            else:
                # Mostly while it sends: a random moment after its first delivery.
                deadline = time.monotonic() + 30
                while received_count(smtp, hook) == before and process.poll() is None:
                    assert time.monotonic() < deadline, "the dispatcher never delivered"
                    time.sleep(0.01)
                time.sleep(rng.uniform(0.0, 0.4))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed += 1
            process.communicate(timeout=30)
            delivered = received_count(smtp, hook) - before
            left = statuses(store)
            if process.returncode == -signal.SIGKILL and delivered and (left["pending"] or left["sending"]):
                killed_mid_send += 1
            if not (left["pending"] or left["sending"]):
                break
        # Restart until the outbox is empty; claims left by the last kill free up when their lease ends.
        for _ in range(5):
            if not (statuses(store)["pending"] or statuses(store)["sending"]):
                break
            time.sleep(LEASE_SECONDS + 0.2)
            process = dispatcher(path)
            output, _ = process.communicate(timeout=120)
            assert process.returncode == 0, output
        final = statuses(store)
        got = received_keys(smtp, hook)
    finally:
        smtp.stop()
        hook.stop()
    store.engine.dispose()

    counted = Counter(got)
    lost = set(keys) - set(counted)
    duplicated = sum(count - 1 for count in counted.values())
    print(
        f"\ncrash test [{backend}] seed {seed}: {runs} runs, {killed} SIGKILLed "
        f"({killed_mid_send} while sending), {len(keys)} alerts, {len(got)} messages received: "
        f"lost {len(lost)}, duplicated {duplicated} (each duplicate under its alert's own key)"
    )
    assert runs == killed == CRASH_RUNS and killed_mid_send >= CRASH_RUNS // 2
    assert final == Counter({"sent": len(keys)})
    assert not lost
    assert set(counted) == set(keys)  # every message received is one of ours, by its key


@pytest.mark.slow
@pytest.mark.postgres
def test_two_dispatchers_on_one_postgres_database_send_each_alert_exactly_once(
    tmp_path: Path, postgres_url: str
) -> None:
    smtp = SmtpSink(delay=0.005).start()
    hook = WebhookReceiver(delay=0.005).start()
    try:
        path, config, store = setup(tmp_path, postgres_url, smtp, hook)
        keys = add_matches(store, config, range(1, 251), "usfj")
        assert len(keys) == 500
        processes = [dispatcher(path), dispatcher(path)]
        outputs = [process.communicate(timeout=300)[0] for process in processes]
        got = received_keys(smtp, hook)
    finally:
        smtp.stop()
        hook.stop()
    from pipeline.store.tables import AlertRow

    with store.session() as session:
        by_dispatcher = Counter(session.scalars(select(AlertRow.claimed_by)))
    final = statuses(store)
    store.engine.dispose()

    counted = Counter(got)
    print(
        f"\ntwo dispatchers [postgresql]: {len(keys)} alerts, {len(got)} messages received, "
        f"{len(counted)} distinct, duplicated {len(got) - len(counted)}; "
        f"sent per dispatcher: {sorted(by_dispatcher.values())}"
    )
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert final == Counter({"sent": 500})
    assert len(got) == 500 and set(counted) == set(keys)  # each exactly once
    assert len(by_dispatcher) == 2 and min(by_dispatcher.values()) > 0  # both really worked
