"""`newswatch test-channel NAME`: send one labelled test alert through a configured channel, now.

The alert goes through the channel's real `send` (built by the registry, as the dispatcher builds
it), so a wrong SMTP password, a closed port or a webhook answering 404 shows up here rather than
when the first real match is lost to the retry queue. It is sent directly, not through the outbox:
a test must leave no trace in the database, and nothing here opens it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pipeline.commands.common import EXIT_OK, EXIT_RUNTIME, CommandError, add_command, config_path, load

if TYPE_CHECKING:
    from pipeline.models import OutgoingAlert

TEST_SUBJECT = "test alert"


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    command = add_command(
        commands,
        "test-channel",
        common,
        summary="send a test alert through one configured channel and show what the receiver answered",
        details="The alert, '[newswatch] test alert', says it is a test and is about no article. It is\n"
        "sent at once through the channel's real delivery code; the database is not opened.\n"
        "Exits 3 when the delivery fails (the error is printed), 2 for an unknown channel.",
        example="newswatch test-channel analysts-email",
    )
    command.add_argument("channel", metavar="NAME", help="a channel from the config's channels: section")
    command.set_defaults(handler=cmd_test_channel)


def labelled_test_alert(channel: str, config_file: str) -> OutgoingAlert:
    """A notice that says what it is: a reader who never ran the command must not take it for news."""
    import socket
    import uuid
    from datetime import UTC, datetime

    from pipeline.models import AlertKind, Notice, OutgoingAlert

    now = datetime.now(UTC)
    host = socket.gethostname()
    notice = Notice(
        TEST_SUBJECT,
        "This is a test alert from newswatch, sent by hand with `newswatch test-channel` to check that "
        "this channel delivers. It is not about any article; no action is needed.",
        {
            "channel": channel,
            "sent from": host,
            "config": config_file,
            "sent at": f"{now:%Y-%m-%d %H:%M} UTC",
        },
    )
    # A fresh key each time: receivers that drop repeated keys (Message-ID, webhook-id) must not
    # swallow a second test.
    key = f"test-{uuid.uuid4().hex}"
    return OutgoingAlert(
        alert_id=0,
        idempotency_key=key,
        channel=channel,
        attempts=1,
        kind=AlertKind.NOTICE,
        created_at=now,
        notice=notice,
    )


def _written_in_file(path: str, channel: str) -> bool:
    import yaml

    document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    channels = document.get("channels") if isinstance(document, dict) else None
    return isinstance(channels, dict) and channel in channels


def cmd_test_channel(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.alert import DeliveryError, build_channel
    from pipeline.alert.secrets import Redactor

    config = load(args)
    settings = config.channels.get(args.channel)
    if settings is None:
        known = ", ".join(config.channels) or "none (the config has no channels: section)"
        if _written_in_file(config_path(args), args.channel):
            # The loaded config leaves disabled channels out; "no such channel" would send the
            # operator looking for a typo when the fix is an environment variable.
            raise CommandError(
                f"channel {args.channel!r} is disabled (its enabled: is false, or empty because the "
                f"environment variable it names is unset); enabled channels: {known}"
            )
        raise CommandError(f"no channel named {args.channel!r} in the config; known: {known}")
    redact = Redactor.for_channels(config.channels)
    out.write(f"sending a test alert through {args.channel}: {redact(settings.describe())}\n")
    out.flush()  # before a console channel writes the alert itself to the same stream
    channel = build_channel(args.channel, settings)
    try:
        answer = channel.send(labelled_test_alert(args.channel, config_path(args)))
    except DeliveryError as error:
        kind = "permanent: fix the channel's settings" if error.permanent else "may pass on a retry"
        raise CommandError(f"not delivered ({kind}): {redact(str(error))}", EXIT_RUNTIME) from None
    finally:
        channel.close()
    out.write(f"delivered: {redact(answer or 'no error')}\n")
    return EXIT_OK
