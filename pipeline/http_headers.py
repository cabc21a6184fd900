"""Reading HTTP response headers that more than one stage interprets.

One definition, so the feed fetcher and the webhook channel cannot drift apart on what a
server's Retry-After means.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date; None if absent/bad.

    A date in the past means "now" (0 seconds), not a negative wait.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        # IndexError: some malformed dates make email.utils fail that way rather than with ValueError.
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
