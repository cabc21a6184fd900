"""The one interface every alert channel implements, and the one error type it raises."""

from __future__ import annotations

from abc import ABC, abstractmethod

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
    def __init__(self, name: str) -> None:
        self.name = name

    @abstractmethod
    def send(self, alert: OutgoingAlert) -> None:
        """Deliver one alert or raise DeliveryError."""

    def close(self) -> None:  # noqa: B027 - most channels hold nothing open
        """Release connections; called when the daemon stops or reloads."""
