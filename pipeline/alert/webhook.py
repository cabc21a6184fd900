"""Webhook alerts: a JSON POST signed as the Standard Webhooks specification defines.

Signature: `webhook-signature: v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`,
where the secret is base64 (optionally prefixed `whsec_`), so receivers can verify
with any off-the-shelf Standard Webhooks library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Literal

from pydantic import SecretStr, field_validator

from pipeline.alert.base import Channel, DeliveryError, duration_text
from pipeline.alert.registry import register
from pipeline.alert.render import webhook_payload
from pipeline.alert.secrets import MASK, redact_url, url_secrets
from pipeline.config import ChannelConfigBase, Duration, require_http_url
from pipeline.http_headers import parse_retry_after
from pipeline.models import OutgoingAlert

if TYPE_CHECKING:
    import httpx

SECRET_PREFIX = "whsec_"


class WebhookChannelConfig(ChannelConfigBase):
    type: Literal["webhook"]
    url: str
    # Standard Webhooks secret: base64, optionally prefixed "whsec_".
    secret: SecretStr | None = None
    timeout: Duration = 10.0

    _url = field_validator("url")(require_http_url)

    @field_validator("secret")
    @classmethod
    def _secret_is_base64(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is None:
            return None
        encoded = secret.get_secret_value().removeprefix("whsec_")
        try:
            decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except binascii.Error:
            decoded = b""
        if len(decoded) < 16:
            # The value itself is never echoed: it is a secret.
            raise ValueError(
                "must be at least 16 bytes of base64, optionally prefixed 'whsec_' "
                '(e.g. the output of: python -c "import secrets,base64;'
                "print('whsec_'+base64.b64encode(secrets.token_bytes(32)).decode())\")"
            )
        return secret

    def describe(self) -> str:
        signing = f"signed with secret {MASK}" if self.secret else "UNSIGNED (no secret)"
        return f"webhook POST {redact_url(self.url)} ({signing}, timeout {duration_text(self.timeout)})"

    def secrets(self) -> list[str]:
        # The URL's password and query values (tokens); its path is usually a readable route.
        found = url_secrets(self.url, whole_path=False)[1:]
        if self.secret is not None:
            value = self.secret.get_secret_value()
            found += [value, value.removeprefix(SECRET_PREFIX)]
        return found


def decode_secret(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)


def sign(secret: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


@register("webhook", WebhookChannelConfig)
class WebhookChannel(Channel):
    def __init__(
        self, name: str, config: WebhookChannelConfig, transport: httpx.BaseTransport | None = None
    ) -> None:
        super().__init__(name)
        self.config = config
        self._secret = decode_secret(config.secret.get_secret_value()) if config.secret else None
        # Imported here: validating a config loads every channel module, and `newswatch match` must
        # not pay for httpx (pipeline/httpx_cli.py keeps its command line's rich out).
        from pipeline.httpx_cli import httpx

        self._client = httpx.Client(timeout=config.timeout, follow_redirects=False, transport=transport)

    def close(self) -> None:
        self._client.close()

    def send(self, alert: OutgoingAlert) -> str:
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
        import httpx  # loaded already: the client was made with it

        try:
            response = self._client.post(self.config.url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise DeliveryError(f"webhook {self.name}: timed out after {self.config.timeout:g}s") from None
        except httpx.HTTPError as error:
            # httpx's messages name the error, not the URL (which may carry a token).
            raise DeliveryError(f"webhook {self.name}: {type(error).__name__}: {error}") from None
        if response.is_success:
            return f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
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
