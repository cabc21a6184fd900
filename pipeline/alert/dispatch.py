"""The outbox dispatcher: close due digests, claim due alerts, send them, record the outcome.

One round (`Dispatcher.run`):
1. Digests: alerts waiting for a stream the config no longer has are re-routed; every stream
   whose tick has come gets one digest alert holding everything that waited for it.
2. Claims: batches of due alerts are claimed under a lease (rate limits applied: alerts over
   a channel's limit move to its overflow digest), then sent one by one, the lease renewed
   just before each send.
3. Outcomes: sent; or retried after an exponential, jittered backoff (at least what the
   receiver's Retry-After asked); or failed, kept with its last error, after `max_attempts`
   tries or at once when the channel says the error is permanent (a rejected recipient, an
   HTTP 4xx): trying again cannot help until the operator fixes something, and then
   `newswatch alerts retry` re-queues it.
Every error text is passed through the secrets redactor before it is logged or stored.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeline import metrics
from pipeline.alert.base import Channel, DeliveryError
from pipeline.alert.keys import idempotency_key
from pipeline.alert.routing import DeliveryPlan
from pipeline.alert.secrets import Redactor
from pipeline.config import AlertConfig, Config
from pipeline.models import OutgoingAlert
from pipeline.store import Store
from pipeline.store.outbox import ChannelLimit, Outbox, StreamSpec
from pipeline.store.tables import utcnow

log = logging.getLogger(__name__)

DEFAULT_BATCH = 10
_process_ids: dict[int, str] = {}

Clock = Callable[[], datetime]


def default_dispatcher_id() -> str:
    """Names this process's claims: host, pid and a random tag, so it is unique across processes and
    hosts sharing a database (and across pid reuse). Looked up by pid, so a forked child gets its own."""
    pid = os.getpid()
    if pid not in _process_ids:
        _process_ids[pid] = f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:6]}"
    return _process_ids[pid]


@dataclass
class DispatchReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    # digest alerts created this round, and alerts a rate limit moved into an overflow digest
    digests: int = 0
    rolled_over: int = 0
    errors: list[str] = field(default_factory=list)


def describe(alert: OutgoingAlert) -> str:
    if alert.match is not None:
        return f"topic {alert.match.topic}: {alert.match.article_url}"
    if alert.digest is not None:
        return (
            f"digest of {len(alert.digest.items)} matches ('{alert.digest.schedule}' {alert.digest.timezone})"
        )
    return f"notice: {alert.notice.subject if alert.notice else alert.kind}"


def retry_delay(
    attempts: int, policy: AlertConfig, retry_after: float | None = None, rng: random.Random | None = None
) -> timedelta:
    """Exponential backoff from `initial_backoff`, capped at `max_backoff`, shortened at random by up to
    `jitter`, and never shorter than the receiver's Retry-After."""
    seconds = min(policy.max_backoff, policy.initial_backoff * 2 ** max(0, attempts - 1))
    seconds *= 1 - policy.jitter * (rng or random).random()
    if retry_after is not None:
        seconds = max(seconds, min(retry_after, policy.max_retry_after))
    return timedelta(seconds=seconds)


class Dispatcher:
    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel],
        config: Config,
        *,
        clock: Clock = utcnow,
        dispatcher_id: str | None = None,
        batch_size: int = DEFAULT_BATCH,
        rng: random.Random | None = None,
    ) -> None:
        self.outbox = Outbox(store)
        self.channels = channels
        self.policy = config.alerts
        self.plan = DeliveryPlan.from_config(config)
        self.redact = Redactor.for_channels(config.channels)
        self.clock = clock
        self.dispatcher_id = dispatcher_id or default_dispatcher_id()
        self.batch_size = batch_size
        self.rng = rng or random.Random()
        self.limits = {
            name: ChannelLimit(limit.max_alerts, limit.window, limit.overflow.key)
            for name, limit in self.plan.rate_limits.items()
        }

    def _lease_end(self) -> datetime:
        return self.clock() + timedelta(seconds=self.policy.lease)

    def run(self, stopping: threading.Event | None = None) -> DispatchReport:
        """Deliver every due alert; with `stopping` set, stop between two alerts and hand the rest
        of the claim back, so that a shutdown neither waits out a slow channel's whole queue nor
        leaves alerts leased to a dispatcher that is gone."""
        report = DispatchReport()
        as_of = self.clock()
        self._close_due_digests(as_of, report)
        # Due-ness is judged against the round's start: an alert rescheduled during the round
        # (even with a tiny backoff) waits for the next round instead of looping here.
        while True:
            claim = self.outbox.claim(
                self.dispatcher_id,
                as_of,
                self._lease_end(),
                self.batch_size,
                self.policy.max_attempts,
                self.limits,
            )
            for channel, count in claim.overflowed.items():
                report.rolled_over += count
                stream = self.plan.rate_limits[channel].overflow
                log.warning(
                    "channel %s is over its rate limit: %d alerts wait for the digest at %s",
                    channel,
                    count,
                    stream.schedule.next_after(as_of).isoformat(timespec="minutes"),
                )
            for alert_id in claim.abandoned:
                report.failed += 1
                log.error("alert %s failed: dispatchers kept stopping while sending it", alert_id)
            if not (claim.alerts or claim.overflowed or claim.abandoned):
                return report
            for position, alert in enumerate(claim.alerts):
                if stopping is not None and stopping.is_set():
                    left = [waiting.alert_id for waiting in claim.alerts[position:]]
                    self.outbox.release(left, self.dispatcher_id)
                    log.info("stopping: %d claimed alerts handed back for the next start", len(left))
                    return report
                self._deliver(alert, report)

    # --- digests ------------------------------------------------------------------

    def _close_due_digests(self, now: datetime, report: DispatchReport) -> None:
        streams = self.plan.streams
        moved = self.outbox.reroute_waiting(set(streams), self.plan.reroute, now)
        if moved:
            log.warning("%d alerts waited for a digest schedule no longer configured; re-routed", moved)
        specs = [
            StreamSpec(
                key,
                stream.channel,
                stream.schedule.expression,
                stream.schedule.timezone,
                stream.schedule.next_after(now),
            )
            for key, stream in streams.items()
        ]
        self.outbox.ensure_streams(specs, now)
        for state in self.outbox.due_streams(set(streams), now):
            stream = streams[state.key]
            closed = self.outbox.close_digest(
                state.key,
                now,
                tick=stream.schedule.latest_at(now),
                next_tick=stream.schedule.next_after(now),
                make_key=lambda label, channel=stream.channel: idempotency_key("digest", label, channel),
            )
            if closed is not None and closed.digest_id is not None:
                report.digests += 1
                log.info(
                    "digest for %s %s: %d matches in alert %s",
                    stream.channel,
                    stream.schedule.describe(),
                    closed.items,
                    closed.digest_id,
                )

    # --- one alert ------------------------------------------------------------------

    def _deliver(self, alert: OutgoingAlert, report: DispatchReport) -> None:
        if not self.outbox.renew(alert.alert_id, self.dispatcher_id, self._lease_end()):
            log.warning("alert %s: claim taken over by another dispatcher; not sending", alert.alert_id)
            return
        channel = self.channels.get(alert.channel)
        try:
            if channel is None:
                raise DeliveryError(f"channel {alert.channel!r} is no longer configured", permanent=True)
            try:
                channel.send(alert)
            except DeliveryError:
                raise
            except Exception as error:  # a channel bug must cost a retry, not the whole round
                trace = self.redact("".join(traceback.format_exception(error)))
                log.error(
                    "channel %s failed unexpectedly on alert %s:\n%s", alert.channel, alert.alert_id, trace
                )
                raise DeliveryError(f"{type(error).__name__}: {error}") from error
        except DeliveryError as error:
            self._not_delivered(alert, error, report)
            return
        self.outbox.mark_sent(alert.alert_id, self.clock())
        report.sent += 1
        metrics.count_delivery(alert.channel, delivered=True)
        log.info("alert %s sent via %s: %s", alert.alert_id, alert.channel, self.redact(describe(alert)))

    def _not_delivered(self, alert: OutgoingAlert, error: DeliveryError, report: DispatchReport) -> None:
        message = self.redact(str(error))
        report.errors.append(message)
        metrics.count_delivery(alert.channel, delivered=False)
        attempts = alert.attempts  # includes this one: counted when claimed
        if error.permanent or attempts >= self.policy.max_attempts:
            why = "permanent error" if error.permanent else f"gave up after {attempts} attempts"
            stored = message if error.permanent else f"{why}: {message}"
            self.outbox.mark_failed(alert.alert_id, self.dispatcher_id, stored, self.clock())
            report.failed += 1
            log.error(
                "alert %s (%s, channel %s) failed (%s); `newswatch alerts retry %s` re-queues it: %s",
                alert.alert_id,
                self.redact(describe(alert)),
                alert.channel,
                why,
                alert.alert_id,
                message,
            )
            return
        delay = retry_delay(attempts, self.policy, error.retry_after, self.rng)
        self.outbox.mark_retry(alert.alert_id, self.dispatcher_id, message, self.clock() + delay)
        report.retrying += 1
        log.warning(
            "alert %s (%s, channel %s) not delivered, attempt %d of %d, retry in %ds: %s",
            alert.alert_id,
            self.redact(describe(alert)),
            alert.channel,
            attempts,
            self.policy.max_attempts,
            round(delay.total_seconds()),
            message,
        )


def dispatch_due(
    store: Store,
    channels: Mapping[str, Channel],
    config: Config,
    clock: Clock = utcnow,
    dispatcher_id: str | None = None,
    stopping: threading.Event | None = None,
) -> DispatchReport:
    """One dispatch round with a fresh Dispatcher (the daemon and `newswatch once` call this)."""
    return Dispatcher(store, channels, config, clock=clock, dispatcher_id=dispatcher_id).run(stopping)
