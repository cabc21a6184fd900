"""A local feed farm: N RSS feeds of M items each, and an article page per item, over HTTP.

The server runs in its own process (`Farm` starts `python -m benchmarks.farm`), so it does not
share a GIL with the code being measured. Feeds are spread over several loopback addresses
(127.0.0.1, 127.0.0.2, ...: all of 127/8 reaches this machine) so that per-host limits behave as
they would against many publishers. Feeds carry an ETag and Last-Modified and answer 304 to a
matching conditional request; they are gzip-compressed when the client accepts it, and declare
their language, as most real feeds do.

Article pages are the real pages of the shared corpus (`articles/*.html`) with their links
rewritten to point inside the farm and one paragraph unique to the item added, so no two pages
are the same text; without the corpus, pages are generated.

    python -m benchmarks.farm --feeds 1000 --items 5      # serve until interrupted
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import hashlib
import json
import os
import random
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
# Items are published over the hours before the farm starts (fixed for the farm's lifetime, so
# ETags stay valid between cycles): a fresh set of feeds, not an archive.
PUBLISHED_BASE = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
LAST_MODIFIED = format_datetime(PUBLISHED_BASE, usegmt=True)

# Everyday news vocabulary; none of the shipped topics' terms, so feed-summary runs match nothing.
WORDS = [
    "council",
    "budget",
    "harbour",
    "festival",
    "railway",
    "election",
    "museum",
    "weather",
    "market",
    "bridge",
    "school",
    "hospital",
    "farmers",
    "river",
    "energy",
    "village",
    "coastal",
    "season",
    "report",
    "minister",
    "parliament",
    "airport",
    "football",
    "court",
    "library",
    "mayor",
    "storm",
    "traffic",
    "tourism",
    "harvest",
    "orchestra",
    "science",
    "climate",
    "research",
    "university",
    "water",
    "housing",
    "transport",
    "police",
    "fishing",
    "island",
    "mountain",
    "factory",
    "exports",
    "tariffs",
    "shipping",
    "rainfall",
    "drought",
    "vaccine",
    "clinic",
    "teachers",
    "students",
    "volunteers",
    "charity",
    "concert",
    "theatre",
    "gallery",
    "novel",
    "author",
    "award",
    "record",
    "growth",
    "prices",
    "inflation",
    "wages",
    "workers",
    "union",
    "strike",
    "talks",
    "agreement",
    "plan",
    "project",
    "funding",
]


def corpus_dir() -> Path:
    configured = os.environ.get("NEWSWATCH_CORPUS")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "corpus"


def sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _inside_kept_paragraph(page: str) -> int | None:
    """Where the item's own sentences go: inside the longest paragraph that the extractor keeps,
    so that two items sharing a template never extract to the same text (a sentence added to a
    navigation or cookie paragraph would be dropped with it). None if no paragraph is kept."""
    import trafilatura

    kept = trafilatura.extract(page, include_comments=False, include_tables=False) or ""
    best: tuple[int, int] | None = None
    for found in re.finditer(r"<p\b[^>]*>((?:(?!<p\b|<script|</p>).)*)</p>", page, re.S | re.I):
        text = " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())
        if len(text) >= 40 and text[:40] in kept and (best is None or len(text) > best[0]):
            best = (len(text), found.end(1))
    return best[1] if best else None


@dataclass(frozen=True)
class FarmSpec:
    feeds: int = 1000
    items: int = 5
    hosts: int = 50
    seed: int = 4
    use_corpus: bool = True

    def host(self, feed: int) -> str:
        return f"127.0.0.{1 + feed % self.hosts}"


def feed_path(feed: int) -> str:
    return f"/feeds/{feed:05d}.xml"


def page_path(feed: int, item: int) -> str:
    return f"/pages/{feed:05d}/{item:03d}.html"


class FarmContent:
    """Everything the farm serves, built once at start-up (pages are assembled per request)."""

    def __init__(self, spec: FarmSpec, port: int) -> None:
        self.spec = spec
        self.port = port
        self.templates = self._templates()
        self.feeds: dict[str, tuple[bytes, bytes, str]] = {}
        for feed in range(spec.feeds):
            body = self._feed(feed)
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            self.feeds[feed_path(feed)] = (body, gzip.compress(body, compresslevel=6), etag)

    def base(self, feed: int) -> str:
        return f"http://{self.spec.host(feed)}:{self.port}"

    def _templates(self) -> list[tuple[str, int]]:
        folder = corpus_dir() / "articles"
        pages = []
        if self.spec.use_corpus and folder.is_dir():
            for path in sorted(folder.glob("*.html")):
                if path.name.endswith(".expected.html"):
                    continue
                text = path.read_bytes().decode("utf-8", errors="replace")
                # Links lead inside the farm instead of to the publisher's site.
                text = re.sub(r'href="https?://[^"]*"', 'href="/pages/00000/000.html"', text)
                cut = _inside_kept_paragraph(text)
                if cut is not None:
                    pages.append((text, cut))
        return pages

    def _feed(self, feed: int) -> bytes:
        rng = random.Random(self.spec.seed * 1_000_003 + feed)
        parts = [
            '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>Farm feed {feed}</title><link>{self.base(feed)}/</link>"
            "<description>newswatch benchmark farm</description><language>en</language>"
        ]
        for item in range(self.spec.items):
            link = self.base(feed) + page_path(feed, item)
            published = PUBLISHED_BASE - timedelta(hours=item, minutes=feed % 60)
            title = f"{sentence(rng, 6)[:-1]} ({feed}-{item})"
            summary = " ".join(sentence(rng, rng.randint(10, 18)) for _ in range(3))
            parts.append(
                f"<item><title>{escape(title)}</title><link>{link}</link><guid>{link}</guid>"
                f"<pubDate>{format_datetime(published, usegmt=True)}</pubDate>"
                f"<description>{escape(summary)}</description></item>"
            )
        parts.append("</channel></rss>")
        return "".join(parts).encode()

    def page(self, feed: int, item: int) -> bytes:
        rng = random.Random(self.spec.seed * 7_919 + feed * 1_009 + item)
        unique = f" Farm dispatch {feed}-{item}: {sentence(rng, 24)} {sentence(rng, 18)}"
        if self.templates:
            template, cut = self.templates[(feed * self.spec.items + item) % len(self.templates)]
            return (template[:cut] + unique + template[cut:]).encode()
        paragraphs = "".join(f"<p>{sentence(rng, 25)} {sentence(rng, 20)}</p>" for _ in range(8))
        title = sentence(rng, 7)
        return (
            f'<!DOCTYPE html><html lang="en"><head><title>{title}</title></head><body>'
            f"<nav><a href='/'>Home</a> <a href='/pages/00000/000.html'>Latest</a></nav>"
            f"<article><h1>{title}</h1>{unique}{paragraphs}</article><footer>Farm news</footer></body></html>"
        ).encode()


class FarmServer:
    def __init__(self, content: FarmContent, page_delay: float = 0.0) -> None:
        self.content = content
        # A page answer waits this long: overlapping requests to one host become visible in
        # `max_in_flight_per_host` instead of finishing before the next one arrives.
        self.page_delay = page_delay
        self.stats: Counter[str] = Counter()
        # Requests being answered now, and the most ever at once, per Host header.
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self.feed_requests: Counter[str] = Counter()

    def route(self, target: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        path = target.split("?", 1)[0]
        self.stats["requests"] += 1
        if path in self.content.feeds:
            body, compressed, etag = self.content.feeds[path]
            self.stats["feeds"] += 1
            self.feed_requests[path] += 1
            if headers.get("if-none-match") == etag or headers.get("if-modified-since") == LAST_MODIFIED:
                self.stats["not_modified"] += 1
                return 304, {"ETag": etag, "Last-Modified": LAST_MODIFIED}, b""
            out = {
                "Content-Type": "application/rss+xml; charset=utf-8",
                "ETag": etag,
                "Last-Modified": LAST_MODIFIED,
            }
            if "gzip" in headers.get("accept-encoding", ""):
                out["Content-Encoding"] = "gzip"
                return 200, out, compressed
            return 200, out, body
        found = re.fullmatch(r"/pages/(\d+)/(\d+)\.html", path)
        if found:
            self.stats["pages"] += 1
            feed, item = int(found.group(1)), int(found.group(2))
            return 200, {"Content-Type": "text/html; charset=utf-8"}, self.content.page(feed, item)
        if path == "/__stats":
            report = {
                **self.stats,
                "max_in_flight_per_host": max(self.max_in_flight.values(), default=0),
                "feed_requests": dict(self.feed_requests),
            }
            return 200, {"Content-Type": "application/json"}, json.dumps(report).encode()
        self.stats["not_found"] += 1
        return 404, {"Content-Type": "text/plain"}, b"not found"

    async def _answer(
        self,
        writer: asyncio.StreamWriter,
        method: str,
        target: str,
        headers: dict[str, str],
        keep_alive: bool,
    ) -> None:
        status, out, body = self.route(target, headers)
        if self.page_delay and target.startswith("/pages/"):
            await asyncio.sleep(self.page_delay)
        reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}[status]
        head = [f"HTTP/1.1 {status} {reason}"] + [f"{name}: {value}" for name, value in out.items()]
        if status != 304:
            head.append(f"Content-Length: {len(body)}")
        if not keep_alive:
            head.append("Connection: close")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if method != "HEAD":
            writer.write(body)
        await writer.drain()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request_line = await reader.readline()
                if not request_line.strip():
                    break
                headers: dict[str, str] = {}
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                method, target, version = request_line.decode("latin-1").split()
                length = int(headers.get("content-length") or 0)
                if length:
                    await reader.readexactly(length)
                host = headers.get("host", "")
                counted = not target.startswith("/__stats")
                if counted:
                    self.in_flight[host] += 1
                    self.max_in_flight[host] = max(self.max_in_flight[host], self.in_flight[host])
                keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
                try:
                    await self._answer(writer, method, target, headers, keep_alive)
                finally:
                    if counted:
                        self.in_flight[host] -= 1
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()


async def serve(spec: FarmSpec, port: int, page_delay: float = 0.0) -> None:
    # Take a free port on 127.0.0.1, then the same port on the other loopback addresses.
    first = await asyncio.start_server(lambda r, w: None, "127.0.0.1", port)
    port = first.sockets[0].getsockname()[1]
    first.close()
    await first.wait_closed()
    server = FarmServer(FarmContent(spec, port), page_delay)
    hosts = sorted({spec.host(feed) for feed in range(spec.feeds)} | {"127.0.0.1"})
    servers = [await asyncio.start_server(server.handle, host, port, backlog=1024) for host in hosts]
    print(f"ready {port}", flush=True)
    await asyncio.gather(*(listener.serve_forever() for listener in servers))


class Farm:
    """Starts the farm in a child process; a context manager."""

    def __init__(self, spec: FarmSpec, page_delay: float = 0.0) -> None:
        self.spec = spec
        self.page_delay = page_delay
        self.port = 0
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> Farm:
        command = [
            sys.executable,
            "-m",
            "benchmarks.farm",
            "--feeds",
            str(self.spec.feeds),
            "--items",
            str(self.spec.items),
            "--hosts",
            str(self.spec.hosts),
            "--seed",
            str(self.spec.seed),
        ]
        if not self.spec.use_corpus:
            command.append("--generated")
        if self.page_delay:
            command += ["--page-delay", str(self.page_delay)]
        self._process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.startswith("ready "):
            self.__exit__()
            raise RuntimeError(f"the feed farm did not start: {line!r}")
        self.port = int(line.split()[1])
        return self

    def __exit__(self, *_: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def feed_url(self, feed: int) -> str:
        return f"http://{self.spec.host(feed)}:{self.port}{feed_path(feed)}"

    def feed_urls(self) -> list[str]:
        return [self.feed_url(feed) for feed in range(self.spec.feeds)]

    def stats(self) -> dict[str, Any]:
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/__stats", timeout=10) as response:
            return dict(json.loads(response.read()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.farm", description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=5)
    parser.add_argument(
        "--hosts", type=int, default=50, help="loopback addresses to spread feeds over (1-250)"
    )
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--generated", action="store_true", help="generated pages even if the corpus is there"
    )
    parser.add_argument(
        "--page-delay", type=float, default=0.0, help="seconds each page answer waits (0: none)"
    )
    args = parser.parse_args(argv)
    spec = FarmSpec(args.feeds, args.items, max(1, min(args.hosts, 250)), args.seed, not args.generated)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(spec, args.port, args.page_delay))


if __name__ == "__main__":
    main()
