"""The daemon's small HTTP endpoint: `/healthz` for liveness checks and `/metrics` for Prometheus.

It only reads: health comes from probes the daemon hands in, metrics from the registry.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from pipeline.metrics import REGISTRY

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HealthProbes:
    scheduler_running: Callable[[], bool]
    # Raises when the database cannot be reached.
    check_database: Callable[[], None]
    # Unix time of the last poll that succeeded, None before the first.
    last_successful_poll: Callable[[], float | None]
    # A poll that succeeded longer ago than this makes the daemon unhealthy (it may be stuck).
    max_success_age_seconds: float
    started_at: float


def health_report(probes: HealthProbes, now: float | None = None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body): 200 when the scheduler runs, the database answers and polls succeed."""
    now = time.time() if now is None else now
    problems: list[str] = []
    scheduler_ok = probes.scheduler_running()
    if not scheduler_ok:
        problems.append("scheduler is not running")
    try:
        probes.check_database()
        database = "ok"
    except Exception as error:
        database = f"error: {type(error).__name__}: {error}".splitlines()[0][:300]
        problems.append("database unreachable")
    last_success = probes.last_successful_poll()
    # Before the first success, age counts from start-up, so a daemon that never succeeds turns unhealthy too.
    age = now - (last_success or probes.started_at)
    if age > probes.max_success_age_seconds:
        problems.append(f"no successful poll for {age:.0f}s (limit {probes.max_success_age_seconds:.0f}s)")
    body = {
        "status": "ok" if not problems else "unhealthy",
        "scheduler_running": scheduler_ok,
        "database": database,
        "last_successful_poll_age_seconds": round(age, 3) if last_success else None,
        "uptime_seconds": round(now - probes.started_at, 3),
        "problems": problems,
    }
    return (200 if not problems else 503), body


class StatusServer:
    def __init__(self, host: str, port: int, probes: HealthProbes) -> None:
        self.probes = probes
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    status, body = health_report(server.probes)
                    self._reply(status, "application/json", json.dumps(body).encode())
                elif path == "/metrics":
                    self._reply(200, CONTENT_TYPE_PLAIN_0_0_4, generate_latest(REGISTRY))
                else:
                    self._reply(404, "text/plain", b"not found: try /healthz or /metrics\n")

            def _reply(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="status-http", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    def start(self) -> StatusServer:
        self._thread.start()
        log.info("status endpoint on http://%s:%d (/healthz, /metrics)", *self.address)
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
