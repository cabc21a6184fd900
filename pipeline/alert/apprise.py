"""Apprise channels: one Apprise URL (Slack, Discord, Telegram, Teams, ntfy, Matrix, json://, ...).

Apprise knows each service's API; we give it a title and a plain-text body and read its
per-service result. Apprise does not say whether a failure is permanent, so every failure
is retried by the dispatcher's policy. Its logs can contain parts of the URL (often a
token), so its logger gets a filter that masks every secret of every Apprise channel.
"""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import SecretStr, field_validator

from pipeline.alert.base import Channel, DeliveryError
from pipeline.alert.registry import register
from pipeline.alert.render import render_text, subject
from pipeline.alert.secrets import MASK, RedactingFilter, Redactor, url_secrets
from pipeline.config import ChannelConfigBase
from pipeline.models import AlertKind, OutgoingAlert


def _drop_record(_record: logging.LogRecord) -> bool:
    return False


class AppriseChannelConfig(ChannelConfigBase):
    """Any service Apprise knows (Slack, Discord, Telegram, Teams, ntfy, Matrix, ...) by its URL.

    One URL per channel, so that a channel's delivery either happened or did not.
    The URL usually carries a token, so it is a secret: never echoed.
    """

    type: Literal["apprise"]
    url: SecretStr

    @field_validator("url")
    @classmethod
    def _apprise_understands(cls, url: SecretStr) -> SecretStr:
        # Imported here: Apprise is large, and only configs with an Apprise channel need it.
        from apprise import Apprise

        value = url.get_secret_value()
        scheme = value.split("://", 1)[0] if "://" in value else ""
        # Apprise logs what it cannot parse, with part of the URL: the token must not reach the logs.
        apprise_log = logging.getLogger("apprise")
        apprise_log.addFilter(_drop_record)
        try:
            understood = Apprise.instantiate(value) is not None
        finally:
            apprise_log.removeFilter(_drop_record)
        if not understood:
            # Only the scheme is shown: the rest of the URL is usually a token.
            raise ValueError(
                f"not a usable Apprise URL (scheme {scheme!r}); the Apprise wiki gives each service's URL"
                if scheme
                else "not an Apprise URL; expected SCHEME://... (e.g. slack://, discord://, json://)"
            )
        return url

    def describe(self) -> str:
        scheme = self.url.get_secret_value().split("://", 1)[0]
        return f"apprise {scheme}://{MASK}"

    def secrets(self) -> list[str]:
        # Apprise URLs carry tokens anywhere: in the host, the path or the query.
        return url_secrets(self.url.get_secret_value(), whole_path=True)


APPRISE_LOGGER = "apprise"
_redactor = Redactor([])
_filter = RedactingFilter(_redactor)


def _mask_in_apprise_logs(secrets: list[str]) -> None:
    # One filter for every Apprise channel of this process; adding secrets only widens it.
    _redactor.secrets = sorted(set(_redactor.secrets) | set(secrets), key=len, reverse=True)
    logger = logging.getLogger(APPRISE_LOGGER)
    if _filter not in logger.filters:
        logger.addFilter(_filter)


@register("apprise", AppriseChannelConfig)
class AppriseChannel(Channel):
    def __init__(self, name: str, config: AppriseChannelConfig) -> None:
        super().__init__(name)
        import apprise  # large: imported only when a config has an Apprise channel

        url = config.url.get_secret_value()
        self._redact = Redactor(url_secrets(url, whole_path=True))
        _mask_in_apprise_logs(self._redact.secrets)
        self._apprise = apprise.Apprise()
        if not self._apprise.add(url):
            # The config check refuses such URLs; this is a safety net, and it never prints the URL.
            raise ValueError(f"channel {name}: Apprise cannot use this URL")
        service = self._apprise[0]
        self.service_name = str(getattr(service, "service_name", type(service).__name__))
        self._notify_types = apprise.NotifyType
        self._text_format = apprise.NotifyFormat.TEXT

    def send(self, alert: OutgoingAlert) -> str:
        notify_type = (
            self._notify_types.WARNING if alert.kind == AlertKind.NOTICE else self._notify_types.INFO
        )
        result = self._apprise.notify(
            body=render_text(alert),
            title=subject(alert),
            notify_type=notify_type,
            body_format=self._text_format,
        )
        if result:
            return f"{self.service_name} accepted the notification (via Apprise)"
        reasons = []
        for service in getattr(result, "results", ()):
            if service:
                continue
            warnings = [entry.message for entry in service.logs() if entry.level in ("WARNING", "ERROR")]
            reasons.append(f"{service.name}: {warnings[-1] if warnings else service.status.name.lower()}")
        detail = "; ".join(reasons) or f"status {getattr(getattr(result, 'status', None), 'name', 'failure')}"
        raise DeliveryError(self._redact(f"apprise {self.name} ({self.service_name}): {detail}"))
