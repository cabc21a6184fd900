"""The outbox dispatcher: deliver due alerts, mark them sent, or schedule a retry.

A failed send is never dropped: it stays pending with its error and attempt
count, and waits a little longer before each new try.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeline.alert.base import Channel, DeliveryError
from pipeline.config import AlertConfig
from pipeline.models import OutgoingAlert
from pipeline.store import Store
from pipeline.store.tables import utcnow

log = logging.getLogger(__name__)


@dataclass
class DispatchReport:
    sent: int = 0
    retrying: int = 0
    errors: list[str] = field(default_factory=list)


def describe(alert: OutgoingAlert) -> str:
    if alert.match is not None:
        return f"topic {alert.match.topic}: {alert.match.article_url}"
    return f"notice: {alert.notice.subject if alert.notice else alert.kind}"


def retry_delay(attempts: int, policy: AlertConfig, permanent: bool) -> timedelta:
    """Exponential backoff from `initial_backoff`, capped; a permanent error waits the cap at once."""
    if permanent:
        return timedelta(seconds=policy.max_backoff)
    seconds = policy.initial_backoff * (2 ** max(0, attempts - 1))
    return timedelta(seconds=min(seconds, policy.max_backoff))


def dispatch_due(
    store: Store,
    channels: Mapping[str, Channel],
    policy: AlertConfig,
    now: datetime | None = None,
    batch_size: int = 100,
) -> DispatchReport:
    report = DispatchReport()
    now = now or utcnow()
    # Batches until nothing is due: a failed alert is rescheduled into the future, so this ends.
    while batch := store.due_alerts(now, limit=batch_size):
        for alert in batch:
            _deliver(store, channels, policy, alert, report)
    return report


def _deliver(
    store: Store,
    channels: Mapping[str, Channel],
    policy: AlertConfig,
    alert: OutgoingAlert,
    report: DispatchReport,
) -> None:
    channel = channels.get(alert.channel)
    try:
        if channel is None:
            raise DeliveryError(f"channel {alert.channel!r} is no longer configured", permanent=True)
        try:
            channel.send(alert)
        except DeliveryError:
            raise
        except Exception as error:  # a channel bug must cost a retry, not the whole dispatch round
            log.exception("channel %s failed unexpectedly", alert.channel)
            raise DeliveryError(f"{type(error).__name__}: {error}") from error
    except DeliveryError as error:
        attempts = alert.attempts + 1
        delay = retry_delay(attempts, policy, error.permanent)
        store.mark_alert_retry(alert.alert_id, str(error), utcnow() + delay)
        report.retrying += 1
        report.errors.append(str(error))
        log.warning(
            "alert %s (%s, channel %s) not delivered, attempt %d, retry in %ds: %s",
            alert.alert_id,
            describe(alert),
            alert.channel,
            attempts,
            delay.total_seconds(),
            error,
        )
        return
    store.mark_alert_sent(alert.alert_id, utcnow())
    report.sent += 1
    log.info("alert %s sent via %s: %s", alert.alert_id, alert.channel, describe(alert))
