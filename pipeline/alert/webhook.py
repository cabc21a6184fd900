"""Webhook alerts: a JSON POST signed as the Standard Webhooks specification defines.

Signature: `webhook-signature: v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`,
where the secret is base64 (optionally prefixed `whsec_`), so receivers can verify
with any off-the-shelf Standard Webhooks library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx

from pipeline.alert.base import Channel, DeliveryError
from pipeline.alert.render import webhook_payload
from pipeline.config import WebhookChannelConfig
from pipeline.http_headers import parse_retry_after
from pipeline.models import OutgoingAlert

SECRET_PREFIX = "whsec_"


def decode_secret(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)


def sign(secret: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


class WebhookChannel(Channel):
    def __init__(
        self, name: str, config: WebhookChannelConfig, transport: httpx.BaseTransport | None = None
    ) -> None:
        super().__init__(name)
        self.config = config
        self._secret = decode_secret(config.secret.get_secret_value()) if config.secret else None
        self._client = httpx.Client(timeout=config.timeout, follow_redirects=False, transport=transport)

    def close(self) -> None:
        self._client.close()

    def send(self, alert: OutgoingAlert) -> None:
        body = json.dumps(webhook_payload(alert), ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "newswatch-webhook/1",
            "Idempotency-Key": alert.idempotency_key,
            "webhook-id": alert.idempotency_key,
            "webhook-timestamp": str(timestamp),
        }
        if self._secret is not None:
            headers["webhook-signature"] = sign(self._secret, alert.idempotency_key, timestamp, body)
        try:
            response = self._client.post(self.config.url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise DeliveryError(f"webhook {self.name}: timed out after {self.config.timeout:g}s") from None
        except httpx.HTTPError as error:
            # httpx's messages name the error, not the URL (which may carry a token).
            raise DeliveryError(f"webhook {self.name}: {type(error).__name__}: {error}") from None
        if response.is_success:
            return
        status = response.status_code
        retryable = status in (408, 429) or status >= 500
        message = f"webhook {self.name}: HTTP {status} {response.reason_phrase}".rstrip()
        if response.is_redirect:
            message += (
                " (redirects are not followed: a signed POST must not be replayed elsewhere; fix the URL)"
            )
        retry_after = parse_retry_after(response.headers.get("retry-after")) if retryable else None
        if retry_after is not None:
            message += f", Retry-After {retry_after:g}s"
        raise DeliveryError(message, permanent=not retryable, retry_after=retry_after)
