"""`newswatch init [DIR]`: write a commented starter config and say what to edit next."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from pipeline.commands.common import EXIT_OK, CommandError, add_command

CONFIG_NAME = "newswatch.yaml"

STARTER_CONFIG = """\
# newswatch configuration: one feed, one topic, one channel. Check it with
#   newswatch check-config --config {path}
# and run one cycle with
#   newswatch once --config {path}
#
# Values may use ${{ENV_VAR}} or ${{ENV_VAR:-default}}; keep passwords out of this file.

# Where articles, matches and the alert outbox are kept. A relative SQLite path is relative to the
# directory newswatch runs in. For production: postgresql://newswatch@db/newswatch
database: ${{NEWSWATCH_DATABASE:-sqlite:///data/newswatch.db}}

# The feeds to poll (RSS or Atom). Add more with: newswatch feeds add URL --config {path}
feeds:
  - name: Stars and Stripes (Pacific)
    url: https://www.stripes.com/feeds/pacific.rss
    interval: 10m                      # how often to poll: 30s, 10m, 2h ...

# Reusable term sets, referenced in queries as @name ("any of these").
aliases:
  usfj: ["USFJ", "U.S. Forces Japan", "United States Forces Japan"]

# What to watch for. Queries use AND, OR, NOT, (), "exact phrases", prefix*, NEAR/n (within n
# words), title: / body: and @aliases. Title hits weigh 3, body hits 1; a topic matches when
# its query holds and the score reaches min_score.
topics:
  usfj-reorganisation:
    description: U.S. Forces Japan becoming a joint force headquarters
    query: '@usfj NEAR/25 (reorgani* OR restructur* OR "joint force headquarters")'
    min_score: 4
    channels: [analyst-email]
    # Golden examples, checked by check-config (paths relative to this file):
    # examples:
    #   match: [examples/usfj-story.txt]
    #   no_match: [examples/unrelated.txt]

# Where alerts go. This one mails a local mail catcher (e.g. Mailpit on port 1025); point it at
# your SMTP server, or use type: webhook (url, secret) or type: apprise (url).
channels:
  analyst-email:
    type: email
    to: ["${{ALERT_EMAIL_TO:-analyst@example.org}}"]
    from: newswatch@example.org
    smtp:
      host: ${{SMTP_HOST:-localhost}}
      port: ${{SMTP_PORT:-1025}}
      starttls: false
      # username: newswatch
      # password: "${{SMTP_PASSWORD}}"
"""


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    init = add_command(
        commands,
        "init",
        common,
        summary="write a commented starter config (one feed, one topic, one channel) to edit",
        details=f"Writes DIR/{CONFIG_NAME} (DIR defaults to ./config) and says what to edit next.\n"
        "An existing file is never overwritten.",
        example="newswatch init   |   newswatch init ~/newswatch",
    )
    init.add_argument("directory", nargs="?", default="config", metavar="DIR")
    init.set_defaults(handler=cmd_init)


def cmd_init(args: argparse.Namespace, out: TextIO) -> int:
    path = Path(args.directory) / CONFIG_NAME
    if path.exists():
        raise CommandError(f"{path} already exists; edit it, or give another directory")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STARTER_CONFIG.format(path=path), encoding="utf-8")
    out.write(
        f"wrote {path}. Next:\n"
        f"  1. edit the feed, the topic's query and the channel's address in it\n"
        f"  2. check it:                     newswatch check-config --config {path}\n"
        f"  3. try the query on an article:  newswatch match --config {path} ARTICLE.txt\n"
        f"  4. run one real cycle:           newswatch once --config {path}\n"
        f"  5. start the daemon:             newswatch run --config {path}\n"
    )
    return EXIT_OK
