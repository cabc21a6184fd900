"""Email alerts over SMTP (plain, STARTTLS or implicit TLS, with optional login), multipart text + HTML.

The Message-ID is derived from the alert's idempotency key alone, so a resend after a crash
carries the same Message-ID as the first send and mail systems that deduplicate on it (and
every reader's client threading) recognise it.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, SecretStr, field_validator, model_validator

from pipeline.alert.base import Channel, DeliveryError
from pipeline.alert.registry import register
from pipeline.alert.render import render_html, render_text, subject
from pipeline.alert.secrets import MASK
from pipeline.config import ChannelConfigBase, Duration, StrictModel
from pipeline.models import OutgoingAlert


class SmtpConfig(StrictModel):
    host: str
    port: int = Field(default=25, gt=0, lt=65536)
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password: SecretStr | None = None
    timeout: Duration = 30.0
    # A PEM file of CA certificates to trust instead of the system's (a private or self-signed CA).
    ca_file: str | None = None

    @model_validator(mode="after")
    def _tls_is_consistent(self) -> SmtpConfig:
        if self.ssl and self.starttls:
            raise ValueError("choose one of ssl (implicit TLS, port 465) and starttls (port 587)")
        if self.username and not (self.ssl or self.starttls):
            raise ValueError(
                "a username without ssl or starttls would send the password in clear; "
                "set starttls: true (port 587) or ssl: true (port 465)"
            )
        if self.ca_file and not (self.ssl or self.starttls):
            raise ValueError("ca_file only applies with ssl or starttls")
        return self

    @field_validator("ca_file")
    @classmethod
    def _ca_file_readable(cls, ca_file: str | None) -> str | None:
        if ca_file is not None and not Path(ca_file).is_file():
            raise ValueError(f"no such file: {ca_file}")
        return ca_file


def _check_address(value: str) -> str:
    from email.headerregistry import Address
    from email.utils import parseaddr

    address = parseaddr(value)[1]
    try:
        Address(addr_spec=address)
    except Exception:
        address = ""
    if "@" not in address:
        raise ValueError(f"{value!r} is not an email address")
    return value


class EmailChannelConfig(ChannelConfigBase):
    type: Literal["email"]
    to: list[Annotated[str, AfterValidator(_check_address)]] = Field(min_length=1)
    sender: Annotated[str, AfterValidator(_check_address)] = Field(alias="from")
    smtp: SmtpConfig

    def describe(self) -> str:
        smtp = self.smtp
        security = "implicit TLS" if smtp.ssl else "STARTTLS" if smtp.starttls else "no TLS"
        login = f", login {smtp.username} with password {MASK}" if smtp.username else ""
        trust = f", trusting CA file {smtp.ca_file}" if smtp.ca_file else ""
        return (
            f"email to {', '.join(self.to)} from {self.sender} via {smtp.host}:{smtp.port} "
            f"({security}{login}{trust})"
        )

    def secrets(self) -> list[str]:
        password = self.smtp.password
        return [password.get_secret_value()] if password and password.get_secret_value() else []


def message_id(idempotency_key: str, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "newswatch"
    return f"<{idempotency_key}@{domain}>"


def build_message(alert: OutgoingAlert, sender: str, recipients: list[str]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject(alert)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id(alert.idempotency_key, sender)
    if alert.match is not None:
        message["X-Newswatch-Topic"] = alert.match.topic
    message["X-Newswatch-Alert"] = alert.idempotency_key
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_text(alert))
    message.add_alternative(render_html(alert), subtype="html")
    return message


def _is_permanent(code: int) -> bool:
    return 500 <= code < 600


class _KeepsDataReply(smtplib.SMTP):
    """Remembers the server's reply to DATA: smtplib's send_message reads it and returns only the
    refused recipients, but "250 queued as 4F2A..." is what an operator checking a channel wants."""

    data_reply: tuple[int, bytes] | None = None

    def data(self, msg: bytes | str) -> tuple[int, bytes]:
        reply = super().data(msg)
        self.data_reply = reply
        return reply


class _SMTP_SSL(_KeepsDataReply, smtplib.SMTP_SSL):
    pass


@register("email", EmailChannelConfig)
class EmailChannel(Channel):
    def __init__(self, name: str, config: EmailChannelConfig) -> None:
        super().__init__(name)
        self.config = config

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.config.smtp.ca_file)

    def _connect(self) -> _KeepsDataReply:
        smtp = self.config.smtp
        if smtp.ssl:
            client: _KeepsDataReply = _SMTP_SSL(
                smtp.host, smtp.port, timeout=smtp.timeout, context=self._tls_context()
            )
        else:
            client = _KeepsDataReply(smtp.host, smtp.port, timeout=smtp.timeout)
        try:
            if smtp.starttls:
                client.starttls(context=self._tls_context())
            if smtp.username:
                password = smtp.password.get_secret_value() if smtp.password else ""
                client.login(smtp.username, password)
        except BaseException:
            client.close()
            raise
        return client

    def send(self, alert: OutgoingAlert) -> str:
        message = build_message(alert, self.config.sender, list(self.config.to))
        where = f"email {self.name} (SMTP {self.config.smtp.host}:{self.config.smtp.port})"
        try:
            with self._connect() as client:
                refused = client.send_message(message)
                reply = client.data_reply
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            refused = ", ".join(f"{address} ({code})" for address, (code, _) in error.recipients.items())
            raise DeliveryError(
                f"{where} refused every recipient: {refused}", permanent=all(map(_is_permanent, codes))
            ) from None
        except smtplib.SMTPAuthenticationError as error:
            raise DeliveryError(
                f"{where} rejected the login for user {self.config.smtp.username!r}: {error.smtp_code}",
                permanent=_is_permanent(error.smtp_code),
            ) from None
        except smtplib.SMTPResponseException as error:
            reply = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else ""
            raise DeliveryError(
                f"{where} answered {error.smtp_code} {reply}".rstrip(),
                permanent=_is_permanent(error.smtp_code),
            ) from None
        except ssl.SSLCertVerificationError as error:
            raise DeliveryError(
                f"{where}: TLS certificate not trusted ({error.verify_message}); "
                "set smtp.ca_file to trust a private CA"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise DeliveryError(f"{where} does not offer STARTTLS (or AUTH); not sending in clear") from None
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"{where}: {type(error).__name__}: {error}") from None
        accepted = [address for address in self.config.to if address not in refused]
        answer = f"{reply[0]} {reply[1].decode('utf-8', 'replace')}" if reply else "accepted"
        receipt = f"SMTP {self.config.smtp.host}:{self.config.smtp.port} accepted the message for "
        receipt += f"{', '.join(accepted)}: {answer}"
        if refused:
            refusals = ", ".join(f"{address} ({code})" for address, (code, _) in refused.items())
            receipt += f"; refused {refusals}"
        return receipt
