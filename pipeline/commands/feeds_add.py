"""`newswatch feeds add URL`: find the feed behind a URL and add it to the config file, keeping the
file's comments and layout (ruamel.yaml round-trip)."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pipeline.commands.common import EXIT_RUNTIME, CommandError
from pipeline.discover import alternate_feed_links

if TYPE_CHECKING:
    from pipeline.config import Config
    from pipeline.fetch import Fetcher


@dataclass(frozen=True)
class FoundFeed:
    url: str
    title: str | None
    # The page the operator gave, when the feed was discovered from it.
    discovered_from: str | None = None


def _fetch(fetcher: Fetcher, url: str) -> tuple[bytes, str, dict[str, str]]:
    result = fetcher.fetch(url, trusted=True)
    if not result.ok:
        raise CommandError(f"cannot fetch {url}: {result.error}", EXIT_RUNTIME)
    return result.body, result.final_url, result.headers


def find_feed(url: str, config: Config) -> FoundFeed:
    """The feed at `url`, or the first feed an HTML page at `url` links to."""
    from pipeline.fetch import Fetcher, FetchLimits
    from pipeline.parse import FeedParseError, parse_feed

    # The operator typed this URL: its host is trusted like a configured feed's (as in `match`).
    limits = FetchLimits.from_config(config.fetch)
    with Fetcher(limits, trusted_hosts=[urlsplit(url).hostname or ""]) as fetcher:
        body, final_url, headers = _fetch(fetcher, url)
        try:
            return FoundFeed(final_url, parse_feed(body, final_url, headers).title)
        except FeedParseError as not_a_feed:
            if not_a_feed.feed_links == []:
                # An HTML page without feed links: the parser's message already says so.
                raise CommandError(f"{url}: {not_a_feed}") from None
            # parse_feed found the links when the body looked like a page; a body that did not
            # (broken markup, odd content type) may still carry them.
            candidates = not_a_feed.feed_links or alternate_feed_links(body, final_url)
            if not candidates:
                raise CommandError(
                    f"{url} is not a feed ({not_a_feed}) and links to none "
                    '(no <link rel="alternate" type="application/rss+xml" ...>)'
                ) from None
        problems = []
        for candidate in candidates:
            try:
                body, feed_url, headers = _fetch(fetcher, candidate)
                return FoundFeed(feed_url, parse_feed(body, feed_url, headers).title, discovered_from=url)
            except (CommandError, FeedParseError) as error:
                problems.append(f"{candidate}: {error}")
    raise CommandError(f"{url} links to feeds, but none is usable: {'; '.join(problems)}")


_PLAIN = re.compile(r"\w[\w .:/?&=%~+,()'\u2013-]*(?<![ :])")


def _scalar(value: str) -> str:
    """`value` as a YAML scalar: plain when YAML reads it back as the same string (not as a number,
    a boolean or null), else double-quoted (JSON's quoting is valid YAML)."""
    import yaml

    looks_plain = _PLAIN.fullmatch(value) and ": " not in value and " #" not in value
    if looks_plain and yaml.safe_load(f"value: {value}") == {"value": value}:
        return value
    return json.dumps(value, ensure_ascii=False)


def _entry_lines(dash_column: int, fields: dict[str, str]) -> list[str]:
    lines = []
    for index, (key, value) in enumerate(fields.items()):
        lead = " " * dash_column + ("- " if index == 0 else "  ")
        lines.append(f"{lead}{key}: {_scalar(value)}")
    return lines


def with_feed_added(text: str, fields: dict[str, str]) -> str:
    """The config text with one more entry at the end of its `feeds:` list.

    Inserted as text at the place ruamel.yaml locates, so every other byte of the file (comments,
    flow lists laid out by hand, quoting) stays as the operator wrote it; a round-trip dump would
    re-wrap long flow lists. A `feeds:` written in flow style (`feeds: [...]`) is the one case left
    to ruamel's round-trip dump.
    """
    from ruamel.yaml import YAML

    yaml = YAML()
    document = yaml.load(text)
    if not isinstance(document, dict):
        raise CommandError("the config file is not a YAML mapping; cannot add a feed to it")
    if "feeds" not in document:
        return text.rstrip("\n") + "\n\nfeeds:\n" + "\n".join(_entry_lines(2, fields)) + "\n"
    feeds = document["feeds"]
    if not feeds or feeds.fa.flow_style():
        # `feeds:` with nothing under it, `feeds: []` or a flow list: ruamel's round-trip dump
        # (comments kept), never re-wrapping what the operator wrote on one line.
        if feeds:
            feeds.append(fields)
        else:
            document["feeds"] = [fields]
        yaml.width = 4096
        buffer = io.StringIO()
        yaml.dump(document, buffer)
        return buffer.getvalue()
    lines = text.splitlines()
    last_line, column = feeds.lc.item(len(feeds) - 1)
    dash_column = lines[last_line][:column].rstrip().rfind("-")
    keys = list(document.keys())
    after = keys.index("feeds") + 1
    end = document.lc.key(keys[after])[0] if after < len(keys) else len(lines)
    # The last feed ends at its last line that is neither blank nor a top-level comment (those
    # introduce the next section).
    while end - 1 > last_line and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1
    new_lines = lines[:end] + _entry_lines(dash_column, fields) + lines[end:]
    return "\n".join(new_lines) + ("\n" if text.endswith("\n") else "")


def add_feed_to_file(path: Path, name: str, url: str, interval: str | None) -> None:
    """Add the feed to the config file, keeping the rest of it as written, and replace the file
    (atomically) only once the result loads as a valid config."""
    add_feeds_to_file(path, [(name, url)], interval)


def add_feeds_to_file(
    path: Path,
    feeds: Iterable[tuple[str, str]],
    interval: str | None,
) -> None:
    """Add each (name, url) in order, then replace the file once, atomically, if the result is a
    valid config: an import that fails half-way leaves the file as it was."""
    from pipeline.config import load_config

    updated = path.read_text(encoding="utf-8")
    for name, url in feeds:
        fields = {"name": name, "url": url}
        if interval:
            fields["interval"] = interval
        updated = with_feed_added(updated, fields)
    staged = path.with_name(f".{path.name}.newswatch-add")
    staged.write_text(updated, encoding="utf-8")
    try:
        load_config(staged)
    except Exception:
        staged.unlink()
        raise
    os.replace(staged, path)
