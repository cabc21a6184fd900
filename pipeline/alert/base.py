"""The one interface every alert channel implements, and the one error type it raises."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from pipeline.models import OutgoingAlert


class DeliveryError(Exception):
    """A send that did not go through.

    `permanent` says whether trying again can help (a 4xx from a webhook, a
    rejected recipient) or not; the dispatcher's retry policy reads only this,
    never channel details.
    """

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        # Seconds the receiver asked us to wait (HTTP Retry-After); the next try waits at least this.
        self.retry_after = retry_after


class Channel(ABC):
    """One configured channel. Its type registers it with its config model (pipeline/alert/registry.py);
    the registry builds it as `ChannelClass(name, config)`."""

    def __init__(self, name: str, config: Any = None) -> None:
        self.name = name

    @abstractmethod
    def send(self, alert: OutgoingAlert) -> str | None:
        """Deliver one alert or raise DeliveryError.

        Returns what the receiver answered, in one line (`SMTP ... accepted: 250 ...`, `HTTP 200 OK`),
        for an operator checking a channel by hand (`newswatch test-channel`); the dispatcher needs
        only the absence of an error.
        """

    def close(self) -> None:  # noqa: B027 - most channels hold nothing open
        """Release connections; called when the daemon stops or reloads."""


def duration_text(seconds: float) -> str:
    """30s, 10m, 2h, 1d: how durations are written in the config, so descriptions read the same."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"
