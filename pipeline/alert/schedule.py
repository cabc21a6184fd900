"""Cron schedules in a time zone: when does a digest tick next, and when did it last tick.

croniter does the cron arithmetic on local wall-clock time (naive datetimes), and
zoneinfo turns wall-clock times into instants. Working on wall-clock time gives the
semantics operators expect around daylight-saving changes: "daily at 02:30" fires once
on the day the clocks go back (at the first 02:30), and on the day they go forward (when
02:30 does not exist) it fires at the instant that wall time maps to (03:30 summer time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

# Daylight-saving shifts move wall-clock time by at most two hours against the instant it stands
# for; starting the search this far to the safe side never misses a tick.
_DST_MARGIN = timedelta(hours=3)
_MAX_STEPS = 10_000


@dataclass(frozen=True)
class CronSchedule:
    expression: str
    timezone: str = "UTC"

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _wall(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone).replace(tzinfo=None)

    def _instant(self, wall: datetime) -> datetime:
        # fold=0: an ambiguous wall time (clocks going back) is its first occurrence.
        return wall.replace(tzinfo=self.zone, fold=0).astimezone(UTC)

    def next_after(self, instant: datetime) -> datetime:
        """The first tick strictly after `instant` (an aware datetime), in UTC."""
        # Here, not at the top: every cycle imports this module, few configs have a digest.
        from croniter import croniter

        ticks = croniter(self.expression, self._wall(instant) - _DST_MARGIN)
        for _ in range(_MAX_STEPS):
            candidate = self._instant(ticks.get_next(datetime))
            if candidate > instant:
                return candidate
        raise ValueError(f"schedule {self.expression!r} has no tick after {instant.isoformat()}")

    def latest_at(self, instant: datetime) -> datetime:
        """The last tick at or before `instant`, in UTC."""
        from croniter import croniter

        ticks = croniter(self.expression, self._wall(instant) + _DST_MARGIN)
        for _ in range(_MAX_STEPS):
            candidate = self._instant(ticks.get_prev(datetime))
            if candidate <= instant:
                return candidate
        raise ValueError(f"schedule {self.expression!r} has no tick before {instant.isoformat()}")

    def describe(self) -> str:
        return f"'{self.expression}' {self.timezone}"
