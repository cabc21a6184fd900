"""`newswatch feeds import OPML` and `newswatch feeds export`: moving a subscription list between
newswatch and feed readers (OPML is what every reader exports and imports).

Import reads the OPML with listparser (it copes with the OPML 1.0/2.0 dialects readers actually
write), and adds the new feeds to the config file the way `feeds add` does: as text at the end of
the `feeds:` list, the file replaced only once the result is a valid config. Export writes OPML 2.0
with xml.etree, which escapes every name and URL: a feed's title is text from the internet.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pipeline.commands.common import CommandError

if TYPE_CHECKING:
    from pipeline.config import FeedConfig

# Below this many feeds an import is over before a bar could be read.
PROGRESS_FROM = 20


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    title: str


@dataclass(frozen=True)
class ImportPlan:
    """What an import adds (name, url) and what it leaves out, each with the reason."""

    add: list[tuple[str, str]]
    skipped: list[tuple[OpmlFeed, str]]


def read_opml(path: Path) -> list[OpmlFeed]:
    """The feeds an OPML file lists, nested outlines (categories) flattened, in file order."""
    import listparser

    try:
        data = path.read_bytes()
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror or error}") from None
    # Bytes, never the path: given a string, listparser would also fetch URLs.
    result = listparser.parse(data)
    if not result.feeds and (result.bozo or b"<opml" not in data[:4096].lower()):
        why = f" ({result.bozo_exception})" if result.bozo else ""
        raise CommandError(f"{path} is not an OPML subscription list{why}")
    return [OpmlFeed(str(feed.url).strip(), " ".join(str(feed.title).split())) for feed in result.feeds]


def _same_url(url: str) -> str:
    return url.rstrip("/")


def plan_import(feeds: list[OpmlFeed], configured: list[FeedConfig]) -> ImportPlan:
    """Which OPML feeds are new. A URL already configured (or listed twice) is skipped, saying where;
    a name already taken gets the feed's host, then a number, since operators tell feeds apart by
    name in `newswatch feeds` and `feeds enable`."""
    known_urls = {_same_url(feed.url): feed.name for feed in configured}
    names = {feed.name for feed in configured}
    add: list[tuple[str, str]] = []
    skipped: list[tuple[OpmlFeed, str]] = []
    for feed in feeds:
        parts = urlsplit(feed.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            skipped.append((feed, "not an http(s) URL"))
            continue
        known = known_urls.get(_same_url(feed.url))
        if known is not None:
            skipped.append((feed, f"already in the config as {known!r}"))
            continue
        name = feed.title or parts.hostname
        if name in names:
            name = f"{name} ({parts.hostname})"
        number = 2
        base = name
        while name in names:
            name = f"{base} {number}"
            number += 1
        names.add(name)
        known_urls[_same_url(feed.url)] = name
        add.append((name, feed.url))
    return ImportPlan(add, skipped)


def export_opml(feeds: list[FeedConfig], title: str = "newswatch feeds") -> str:
    """The feeds as an OPML 2.0 document, one `<outline type="rss">` each."""
    import xml.etree.ElementTree as ElementTree

    opml = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(opml, "head")
    ElementTree.SubElement(head, "title").text = title
    ElementTree.SubElement(head, "dateCreated").text = formatdate(usegmt=True)
    body = ElementTree.SubElement(opml, "body")
    for feed in feeds:
        ElementTree.SubElement(body, "outline", type="rss", text=feed.name, title=feed.name, xmlUrl=feed.url)
    ElementTree.indent(opml)
    # The declaration as the OPML 2.0 specification's examples write it (ElementTree's own would say
    # 'utf-8' in single quotes); the document is returned as text for a text stream.
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(opml, encoding="unicode") + "\n"
