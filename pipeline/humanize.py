"""How newswatch writes times, counts and durations for people and for --json, in one place so that
every command and log line says them the same way. Standard library only (imported for --help)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_time(value: datetime | None) -> str | None:
    """One date style in every --json output: ISO 8601 in UTC with a `Z`, to the second; None
    (JSON null) when unknown."""
    if value is None:
        return None
    if value.tzinfo is None:  # stored times are UTC; SQLite hands some back naive
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def text_time(value: datetime | None) -> str:
    """The same instant for people: `2026-12-02 15:04 UTC`, `-` when unknown."""
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`1 match`, `2 matches`, `0 feeds`."""
    word = singular if count == 1 else plural_form or _plural_of(singular)
    return f"{count} {word}"


def _plural_of(word: str) -> str:
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def human_duration(seconds: float) -> str:
    """90d, 12h, 10m, 30s, 1h30m: the way the config file spells durations, never 7.776e+06s."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    remaining = round(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if remaining >= size:
            amount, remaining = divmod(remaining, size)
            parts.append(f"{amount}{unit}")
    # Two units are precise enough to read (1d2h, not 1d2h3m4s).
    return "".join(parts[:2])
