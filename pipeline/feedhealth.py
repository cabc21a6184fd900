"""Feed health policy applied to the store: what a poll's outcome writes to its feed, which notices it
raises, the silence check across feeds, and the per-state feed counts for /metrics.

The rules themselves are pure functions in `health.py`; this module is where they meet the stored
feed states and the outbox, so the cycle only reports what a poll came to.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace

from pipeline.alert.keys import notice_key
from pipeline.clock import Clock
from pipeline.config import Config, FeedConfig
from pipeline.health import HealthEvent, HealthPolicy, PollOutcome, after_poll, assess_silence, describe_state
from pipeline.models import ConditionalState, FeedHealth, FeedState, FeedUpdate, Notice
from pipeline.schedule import PollFacts, PollReason, ScheduleSettings, next_poll_at
from pipeline.store import Store
from pipeline.store.outbox import Outbox
from pipeline.store.repository import JoinedWork, PollPlan

log = logging.getLogger(__name__)


class FeedStateBuffer:
    """Feed states written in batches during a cycle: one transaction per `size` polls instead of
    one per poll (for a cycle of 304s, these writes would cost as much as the HTTP requests).
    Articles are never buffered; losing buffered states to a crash only costs a re-fetch."""

    def __init__(self, store: Store, size: int = 250) -> None:
        self.store = store
        self.size = size
        self._updates: list[FeedUpdate] = []
        # Each feed's health as last added, flushed or not: the cycle's silence check reads the
        # states after the polls from here instead of from the database.
        self._healths: dict[int, FeedHealth] = {}
        self._lock = threading.Lock()

    def add(self, update: FeedUpdate) -> None:
        with self._lock:
            self._updates.append(update)
            self._healths[update.feed_id] = update.health
            if len(self._updates) < self.size:
                return
            batch, self._updates = self._updates, []
        self.store.save_feed_healths(batch)

    def flush(self, also: JoinedWork | None = None) -> None:
        """Write what is buffered; `also` runs in the same transaction (see Store.save_feed_healths)."""
        with self._lock:
            batch, self._updates = self._updates, []
        self.store.save_feed_healths(batch, also)

    def after_polls(self, states: Mapping[str, FeedState]) -> dict[str, FeedState]:
        """`states` as read before the polls, with the health each poll added here."""
        with self._lock:
            healths = dict(self._healths)
        return {
            url: replace(state, health=healths[state.feed_id]) if state.feed_id in healths else state
            for url, state in states.items()
        }


class FeedHealthKeeper:
    """Keeps each feed's stored health and tells the operator (`health.channels`) about incidents."""

    def __init__(self, config: Config, store: Store, clock: Clock) -> None:
        self.policy = HealthPolicy.from_config(config)
        self.fetch_settings = config.fetch
        self.channels = list(config.health.channels)
        self.store = store
        self.outbox = Outbox(store)
        self.clock = clock

    def record(
        self,
        feed: FeedConfig,
        state: FeedState,
        outcome: PollOutcome,
        validators: ConditionalState | None,
        new_items: int,
        buffer: FeedStateBuffer | None,
    ) -> None:
        """Write what one poll did to the feed, with when it is next due (now, or into `buffer`), and
        raise its notices."""
        item_times = []
        if feed.adaptive and outcome.error is None:
            # After the poll's articles are stored: the rhythm includes what it just brought.
            item_times = self.store.recent_item_times([state.feed_id]).get(state.feed_id, [])
        health, events = after_poll(
            feed.name,
            feed.url,
            state.health,
            outcome,
            ScheduleSettings.for_feed(feed, self.fetch_settings),
            self.policy,
            item_times,
        )
        changed = (health.health_state, health.health_since) != (
            state.health.health_state,
            state.health.health_since,
        )
        update = FeedUpdate(state.feed_id, health, validators or state.conditional, new_items, changed)
        if buffer is not None:
            buffer.add(update)
        else:
            self.store.save_feed_healths([update])
        self._raise(feed, events)

    def replan(self, feeds: Sequence[FeedConfig]) -> list[str]:
        """Ask `next_poll_at` again for every feed on its regular schedule, from its last poll under
        its settings now: after a reload, or a start with an edited config, a shortened interval
        applies at once. Feeds held back (backoff, Retry-After, disabled) or asked for keep their
        time. Returns the names of the feeds whose next poll moved."""
        states = self.store.feed_states([(feed.url, feed.name) for feed in feeds], register=False)
        plans, moved = [], []
        for feed in feeds:
            state = states.get(feed.url)
            if state is None:
                continue
            health = state.health
            if health.next_poll_reason is not PollReason.SCHEDULE or health.last_polled_at is None:
                continue
            facts = PollFacts(health.last_polled_at, current_interval=health.poll_interval)
            due = next_poll_at(ScheduleSettings.for_feed(feed, self.fetch_settings), facts)
            if due.at is not None and (due.at, due.interval) != (health.next_poll_at, health.poll_interval):
                plans.append(PollPlan(state.feed_id, health.last_polled_at, due.at, due.interval))
                moved.append(feed.name)
        self.store.replan_polls(plans)
        return moved

    def check_silence(
        self, feeds: Sequence[FeedConfig], states: Mapping[str, FeedState] | None = None
    ) -> None:
        """Raise 'silent' notices (and their recoveries) from each feed's publishing rhythm.
        `states`: the feeds' states as a cycle's polls left them (`FeedStateBuffer.after_polls`),
        read from the database when not given."""
        if states is None:
            states = self.store.feed_states([(feed.url, feed.name) for feed in feeds], register=False)
        item_times = self.store.recent_item_times([state.feed_id for state in states.values()])
        now = self.clock.now()
        for feed in feeds:
            state = states.get(feed.url)
            if state is None:
                continue
            health, events = assess_silence(
                feed.name,
                feed.url,
                state.health,
                item_times.get(state.feed_id, []),
                feed.interval,
                now,
                self.policy,
                watched_since=state.created_at,
            )
            if events:
                self.store.set_health_state(state.feed_id, health.health_state, health.health_since)
                self._raise(feed, events)

    def state_counts(self, feeds: Sequence[FeedConfig]) -> dict[str, int]:
        """Configured feeds by state ('new' for one never polled), for the /metrics gauges."""
        states = self.store.feed_states([(feed.url, feed.name) for feed in feeds], register=False)
        now = self.clock.now()
        counts = Counter(
            describe_state(states[feed.url].health, feed.interval, now) if feed.url in states else "new"
            for feed in feeds
        )
        return dict(counts)

    def _raise(self, feed: FeedConfig, events: list[HealthEvent]) -> None:
        for event in events:
            log.warning("feed health: %s: %s", event.subject, event.text)
            notice = Notice(event.subject, event.text, event.details)
            for channel in self.channels:
                key = notice_key(event.kind, feed.url, event.incident, channel)
                self.outbox.queue_notice(channel, key, notice)
