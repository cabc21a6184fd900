"""Console alerts: each alert written to standard output, as readable text or as one JSON line.

For trying a config out, for a container whose logs are collected, or for piping into another
program (`format: json` gives one webhook-payload object per line). Like every channel it sends
from the durable outbox: each alert is written once and then marked sent.
"""

from __future__ import annotations

import json
import sys
from typing import Literal

from pipeline.alert.base import Channel, DeliveryError
from pipeline.alert.registry import register
from pipeline.alert.render import render_text, subject, webhook_payload
from pipeline.config import ChannelConfigBase
from pipeline.models import OutgoingAlert

_RULE = "=" * 72


class ConsoleChannelConfig(ChannelConfigBase):
    type: Literal["console"]
    # text: the alert as an email's plain-text part; json: the webhook payload, one object per line.
    format: Literal["text", "json"] = "text"

    def describe(self) -> str:
        return f"console: {'JSON lines' if self.format == 'json' else 'text'} to standard output"


def console_text(alert: OutgoingAlert) -> str:
    """The subject, then the plain-text alert (title, topic, source, link, time, the explanation's
    clause tree with the score, and the snippet), between rules so consecutive alerts stay apart."""
    return f"{_RULE}\n{subject(alert)}\n{_RULE}\n{render_text(alert)}"


@register("console", ConsoleChannelConfig)
class ConsoleChannel(Channel):
    def __init__(self, name: str, config: ConsoleChannelConfig) -> None:
        super().__init__(name)
        self.config = config

    def send(self, alert: OutgoingAlert) -> str:
        if self.config.format == "json":
            text = json.dumps(webhook_payload(alert), ensure_ascii=False, separators=(",", ":")) + "\n"
        else:
            text = console_text(alert)
        # sys.stdout looked up at each send, not kept: whoever redirects it later (a test, a
        # daemon's supervisor) gets the alerts.
        stream = sys.stdout
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError) as error:  # a closed pipe or stream: worth another try later
            raise DeliveryError(f"console {self.name}: cannot write to standard output: {error}") from None
        return "written to standard output"
