"""`newswatch demo`: the whole pipeline on this machine, with nothing to set up.

A local HTTP server on 127.0.0.1 serves a feed and its article pages (copies of the repository's
fixtures, shipped with the package so that a non-editable install has them too); one cycle polls
it into a throwaway SQLite database with `demo.yaml`'s topics. The caller prints what matched.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SITE = Path(__file__).resolve().parent / "site"
CONFIG_TEMPLATE = Path(__file__).resolve().parent / "demo.yaml"
FEED_PATH = "/feeds/pacific-security-desk.xml"


class _SiteServer(ThreadingHTTPServer):
    daemon_threads = True
    # Set once the port is known: the fixtures' placeholder host is rewritten to this server.
    base_url = ""
    routes: dict[str, tuple[str, str]] = {}  # noqa: RUF012 - replaced per instance in serve_site
    placeholder = ""


class _SiteHandler(BaseHTTPRequestHandler):
    server: _SiteServer

    def log_message(self, *_: Any) -> None:
        pass  # the demo's output is the pipeline's, not an access log

    def do_GET(self) -> None:
        route = self.server.routes.get(self.path.split("?", 1)[0])
        if route is None:
            self.send_error(404)
            return
        file, content_type = route
        placeholder, here = self.server.placeholder.encode(), self.server.base_url.encode()
        body = (SITE / file).read_bytes().replace(placeholder, here)
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serve_site() -> Iterator[str]:
    """Serve the demo site on a free port of 127.0.0.1; yields its base URL."""
    manifest = json.loads((SITE / "site.json").read_text(encoding="utf-8"))
    server = _SiteServer(("127.0.0.1", 0), _SiteHandler)
    host, port = server.server_address[:2]
    server.base_url = f"http://{host}:{port}"
    server.placeholder = manifest["base_url"]
    server.routes = {path: (spec["file"], spec["content_type"]) for path, spec in manifest["routes"].items()}
    thread = threading.Thread(target=server.serve_forever, name="newswatch-demo-site", daemon=True)
    thread.start()
    try:
        yield server.base_url
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class DemoSetup:
    config_path: Path
    database_url: str
    feed_url: str


def write_config(directory: Path, base_url: str) -> DemoSetup:
    """demo.yaml with the local feed's URL and a database in `directory`."""
    database_url = f"sqlite:///{directory / 'newswatch-demo.db'}"
    feed_url = base_url + FEED_PATH
    text = CONFIG_TEMPLATE.read_text(encoding="utf-8")
    text = text.replace("{database}", database_url).replace("{feed_url}", feed_url)
    path = directory / "newswatch-demo.yaml"
    path.write_text(text, encoding="utf-8")
    return DemoSetup(path, database_url, feed_url)
