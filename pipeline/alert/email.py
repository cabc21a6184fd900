"""Email alerts over SMTP (plain, STARTTLS or implicit TLS), multipart text + HTML."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from pipeline.alert.base import Channel, DeliveryError
from pipeline.alert.render import render_html, render_text, subject
from pipeline.config import EmailChannelConfig
from pipeline.models import OutgoingAlert


def build_message(alert: OutgoingAlert, sender: str, recipients: list[str]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject(alert)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    # The idempotency key in the Message-ID lets a mail system recognise a resend after a crash.
    message["Message-ID"] = make_msgid(idstring=alert.idempotency_key, domain="newswatch")
    if alert.match is not None:
        message["X-Newswatch-Topic"] = alert.match.topic
    message["X-Newswatch-Alert"] = alert.idempotency_key
    message.set_content(render_text(alert))
    message.add_alternative(render_html(alert), subtype="html")
    return message


class EmailChannel(Channel):
    def __init__(self, name: str, config: EmailChannelConfig) -> None:
        super().__init__(name)
        self.config = config

    def _connect(self) -> smtplib.SMTP:
        smtp = self.config.smtp
        context = ssl.create_default_context()
        if smtp.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=smtp.timeout, context=context
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
            if smtp.starttls:
                client.starttls(context=context)
        if smtp.username:
            password = smtp.password.get_secret_value() if smtp.password else ""
            client.login(smtp.username, password)
        return client

    def send(self, alert: OutgoingAlert) -> None:
        message = build_message(alert, self.config.sender, list(self.config.to))
        where = f"{self.config.smtp.host}:{self.config.smtp.port}"
        try:
            with self._connect() as client:
                client.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            raise DeliveryError(
                f"SMTP {where} refused every recipient: {error.recipients}", permanent=True
            ) from None
        except smtplib.SMTPAuthenticationError as error:
            raise DeliveryError(
                f"SMTP {where} rejected the login: {error.smtp_code}", permanent=True
            ) from None
        except smtplib.SMTPResponseException as error:
            permanent = 500 <= error.smtp_code < 600
            raise DeliveryError(f"SMTP {where} answered {error.smtp_code}", permanent=permanent) from None
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"SMTP {where}: {type(error).__name__}: {error}") from None
