"""The daemon's HTTP endpoint on `web.listen`: `/healthz` for liveness checks, `/metrics` for Prometheus,
and the analysts' console (every route of `newswatch web`, behind its sign-in).

It only reads: health comes from probes the daemon hands in, metrics from the registry, pages from
the store (the console's own writes, such as feedback, go through `store/`).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from pipeline import metrics as process_metrics

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from starlette.applications import Starlette
    from starlette.routing import Route
    from starlette.types import ASGIApp

    from pipeline.config import Config

log = logging.getLogger(__name__)

# How long start() waits for uvicorn to listen, and stop() for it to finish.
STARTUP_SECONDS = 10.0


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


def status_routes(probes: HealthProbes) -> list[Route]:
    """/healthz and /metrics, open to anyone as before the console: probes and Prometheus do not sign in."""
    from starlette.responses import JSONResponse, Response

    from pipeline.console.app import Access, Ctx, route

    def healthz(_ctx: Ctx) -> Response:
        status, body = health_report(probes)
        return JSONResponse(body, status_code=status)

    def metrics(_ctx: Ctx) -> Response:
        return Response(generate_latest(process_metrics.enable()), media_type=CONTENT_TYPE_PLAIN_0_0_4)

    return [route("/healthz", healthz, Access.PUBLIC), route("/metrics", metrics, Access.PUBLIC)]


def daemon_app(
    probes: HealthProbes, current_config: Callable[[], Config], engine: Engine, config_dir: Path | None
) -> Starlette:
    """What the daemon serves on `web.listen`: the console, behind its sign-in, beside /healthz and
    /metrics. The console follows `current_config`, so a reload reaches its pages too.

    The playground's window (a month of stored articles, folded and indexed) is prepared at the
    first query that needs it, not while the daemon starts: most daemons serve /metrics and /healthz
    and no playground, and the window is the daemon's largest memory after its imports (issue 16:
    about 50,000 articles at 100,000 stored, 70-105 MB that a daemon would otherwise hold for good)."""
    from pipeline.console.app import create_app

    return create_app(
        current_config,
        engine,
        config_dir=config_dir,
        extra_routes=status_routes(probes),
        prepare_window=False,
    )


class StatusServer:
    """An ASGI app served by uvicorn in a thread of the daemon.

    The socket is bound here, in the caller's thread, so a port already taken raises OSError at once
    (the daemon then runs without the endpoint) instead of ending uvicorn's thread quietly."""

    def __init__(self, host: str, port: int, app: ASGIApp) -> None:
        import uvicorn

        self._socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind((host, port))
        except OSError:
            self._socket.close()
            raise
        # log_config=None: the daemon's logging stays as configured; no access log (Prometheus
        # scrapes every few seconds and would drown the poll log).
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_config=None,
                access_log=False,
                proxy_headers=True,
                timeout_graceful_shutdown=5,
            )
        )
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="status-http", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._socket.getsockname()[:2]
        return str(host), int(port)

    def start(self) -> StatusServer:
        self._thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        log.info("console, /healthz and /metrics on http://%s:%d", *self.address)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(STARTUP_SECONDS)
        self._socket.close()
