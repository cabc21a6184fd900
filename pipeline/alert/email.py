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

from pipeline.alert.base import Channel, DeliveryError
from pipeline.alert.render import render_html, render_text, subject
from pipeline.config import EmailChannelConfig
from pipeline.models import OutgoingAlert


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


class EmailChannel(Channel):
    def __init__(self, name: str, config: EmailChannelConfig) -> None:
        super().__init__(name)
        self.config = config

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.config.smtp.ca_file)

    def _connect(self) -> smtplib.SMTP:
        smtp = self.config.smtp
        if smtp.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=smtp.timeout, context=self._tls_context()
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
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

    def send(self, alert: OutgoingAlert) -> None:
        message = build_message(alert, self.config.sender, list(self.config.to))
        where = f"email {self.name} (SMTP {self.config.smtp.host}:{self.config.smtp.port})"
        try:
            with self._connect() as client:
                client.send_message(message)
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
