"""The console's Starlette application: routes, who may call each, and the headers every answer carries.

Every route is declared with its access level (`Access`), and `guarded` enforces it before the handler
runs, so a new route cannot forget authentication: a test walks `app.routes` and asks each one
without credentials and with a read-only user.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.config import Config
from pipeline.console.article_window import ArticleWindow
from pipeline.console.auth import (
    SESSION_COOKIE,
    LoginLimiter,
    SessionSigner,
    hash_token,
    same_token,
)
from pipeline.console.views import safe_url
from pipeline.store.console import ConsoleStore, User

HERE = Path(__file__).parent
log = logging.getLogger(__name__)
# The days of stored articles the playground and the search read unless asked for others.
DEFAULT_WINDOW_DAYS = 30
MAX_WINDOW_DAYS = 365

# No inline script or style anywhere, so the policy can forbid both: a script smuggled into a stored
# title could not run even if escaping failed. Images only from this server (no tracking pixels).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


# The largest id a 64-bit INTEGER column holds (SQLite and PostgreSQL bigint alike).
MAX_ID = 2**63 - 1


class Access(enum.Enum):
    PUBLIC = "public"  # the login form, the vendored static files, the daemon's /healthz and /metrics
    USER = "user"  # any signed-in user or API token
    OPERATOR = "operator"  # changes what the daemon does: retry alerts, enable feeds
    FEED_KEY = "feed-key"  # per-topic feeds: the secret in the URL is the credential


@dataclass
class Console:
    # Asked on every request: in the daemon a reload swaps the config, and the pages follow it.
    current_config: Callable[[], Config]
    store: ConsoleStore
    templates: Environment
    signer: SessionSigner
    feed_secret: str
    # The recent stored articles, folded once for the playground and the search.
    window: ArticleWindow
    limiter: LoginLimiter
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    # Where relative golden-example paths are resolved (the config file's folder).
    config_dir: Path | None = None
    _examples: tuple[Config, dict[str, list[Any]]] | None = None

    @property
    def config(self) -> Config:
        return self.current_config()

    def examples(self) -> dict[str, list[Any]]:
        """Each topic's golden examples, run once per config (again after the daemon reloads it).
        Only files are read: the console does not fetch URLs on a page view."""
        config = self.config
        if self._examples is None or self._examples[0] is not config:
            from pipeline.console.examples import run_examples

            self._examples = (config, run_examples(config, self.config_dir or Path.cwd()))
        return self._examples[1]

    def render(self, template: str, /, **context: Any) -> str:
        return self.templates.get_template(template).render(**context)


@dataclass
class Ctx:
    """What a handler gets: the request, who asks, the parsed form (POST) and the console."""

    request: Request
    console: Console
    user: User | None
    csrf: str | None
    form: dict[str, str]
    via_api: bool

    def page(self, template: str, /, status: int = 200, **context: Any) -> Response:
        html = self.console.render(
            template,
            user=self.user,
            csrf=self.csrf,
            request=self.request,
            topics=list(self.console.config.topics),
            **context,
        )
        return Response(html, status_code=status, media_type="text/html; charset=utf-8")


Handler = Callable[[Ctx], Response]


def api_error(status: int, code: str, message: str, column: int | None = None) -> JSONResponse:
    """The one error shape of the API: {"error": {"status", "code", "message"}}, and "column" when
    the error is at a place in a query the caller sent."""
    error: dict[str, Any] = {"status": status, "code": code, "message": message}
    if column is not None:
        error["column"] = column
    return JSONResponse({"error": error}, status_code=status)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _refuse(request: Request, console: Console, status: int, message: str) -> Response:
    if _is_api(request):
        return api_error(status, "unauthenticated" if status == 401 else "forbidden", message)
    if status == 401 and request.method == "GET" and not request.url.path.startswith("/topics/feed/"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
    html = console.render("error.html", user=None, csrf=None, request=request, topics=[], message=message)
    return Response(html, status_code=status, media_type="text/html; charset=utf-8")


def _identify(request: Request, console: Console) -> tuple[User | None, str | None, bool]:
    """(user, session CSRF token or None, whether by API token). A bearer token wins over a cookie."""
    token = _bearer(request)
    if token:
        return console.store.user_by_token(hash_token(token)), None, True
    session = console.signer.read(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return None, None, False
    return console.store.user_by_id(session.user_id), session.csrf, False


def guarded(access: Access, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        console: Console = request.app.state.console
        if any(isinstance(v, int) and not 0 <= v <= MAX_ID for v in request.path_params.values()):
            # No row has such an id, and the database driver would refuse to even compare it.
            return await _not_routed(request, HTTPException(404))
        form: dict[str, str] = {}
        request.state.body = b""
        if request.method == "POST" and "form" in request.headers.get("content-type", ""):
            form = {key: str(value) for key, value in (await request.form()).items()}
        elif request.method == "POST":
            request.state.body = await request.body()
        if access in (Access.PUBLIC, Access.FEED_KEY):
            ctx = Ctx(request, console, None, None, form, _is_api(request))
            return await run_in_threadpool(handler, ctx)
        user, csrf, by_token = await run_in_threadpool(_identify, request, console)
        if user is None:
            return _refuse(request, console, 401, "sign in first")
        if access is Access.OPERATOR and not user.is_operator:
            return _refuse(request, console, 403, "only operators may do this")
        if request.method not in ("GET", "HEAD") and not by_token:
            # A cookie is sent by the browser whatever page asks; only our own pages know the token.
            given = form.get("csrf") or request.headers.get("x-csrf-token")
            if not same_token(csrf, given):
                return _refuse(request, console, 403, "the form has expired; reload the page and try again")
        ctx = Ctx(request, console, user, csrf, form, _is_api(request))
        return await run_in_threadpool(handler, ctx)

    endpoint.__name__ = getattr(handler, "__name__", "endpoint")
    endpoint.access = access  # type: ignore[attr-defined]
    return endpoint


def route(path: str, handler: Handler, access: Access, methods: list[str] | None = None) -> Route:
    return Route(path, guarded(access, handler), methods=methods or ["GET"])


def route_access(route: BaseRoute) -> Access | None:
    """The access level a route was declared with (None for the static mount)."""
    endpoint = getattr(route, "endpoint", None)
    return getattr(endpoint, "access", None)


class SecurityHeaders:
    """Adds the CSP and friends to every response, errors and static files included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in SECURITY_HEADERS if name not in names]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, with_headers)


def _templates() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        # Every stored string is third-party text: autoescape all templates, HTML and XML alike.
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["safe_url"] = safe_url
    environment.filters["when"] = lambda value: value.strftime("%Y-%m-%d %H:%M UTC") if value else "–"
    environment.filters["percent"] = lambda value: "–" if value is None else f"{100 * value:.0f}%"
    return environment


async def _not_routed(request: Request, error: Exception) -> Response:
    """No route (or no such method): the API's error shape under /api, a page elsewhere."""
    status = int(getattr(error, "status_code", 404))
    if _is_api(request):
        code = "not_found" if status == 404 else "method_not_allowed"
        return api_error(status, code, "no such resource" if status == 404 else "method not allowed here")
    console: Console = request.app.state.console
    message = "No such page." if status == 404 else "Not allowed here."
    html = console.render("error.html", user=None, csrf=None, request=request, topics=[], message=message)
    return Response(html, status_code=status, media_type="text/html; charset=utf-8")


@asynccontextmanager
async def _warm_window(app: Starlette) -> AsyncIterator[None]:
    """Fold the playground's default window while the server starts, in a thread of its own, so the
    first query typed does not wait for a month of articles to be read (later ones only add the new)."""
    console: Console = app.state.console

    def warm() -> None:
        try:
            console.window.articles(console.clock(), DEFAULT_WINDOW_DAYS)
        except Exception:
            log.exception("could not prepare the playground's articles; the first query will")

    threading.Thread(target=warm, name="console-window", daemon=True).start()
    yield


def _fixed(config: Config) -> Callable[[], Config]:
    return lambda: config


def create_app(
    config: Config | Callable[[], Config],
    engine: Engine,
    clock: Callable[[], datetime] | None = None,
    config_dir: Path | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    *,
    prepare_window: bool = True,
) -> Starlette:
    """The console over `engine`. `config` is a Config, or a function answering the current one (the
    daemon's, which a reload replaces). `extra_routes` are served beside it, each declared with
    `route` and its access level (the daemon's /healthz and /metrics). `prepare_window`: fold the
    playground's default window while starting (else at the first query that needs it)."""
    from pipeline.console import api, pages, syndication

    store = ConsoleStore(engine)
    console = Console(
        current_config=_fixed(config) if isinstance(config, Config) else config,
        store=store,
        templates=_templates(),
        signer=SessionSigner(store.secret("session")),
        feed_secret=store.secret("topic-feeds"),
        window=ArticleWindow(store),
        limiter=LoginLimiter(store),
        config_dir=config_dir,
    )
    if clock is not None:
        console.clock = clock
    routes: list[BaseRoute] = [
        *extra_routes,
        *pages.routes(),
        *syndication.routes(),
        *api.routes(),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={404: _not_routed, 405: _not_routed},
        lifespan=_warm_window if prepare_window else None,
    )
    app.state.console = console
    app.state.started = time.time()
    app.add_middleware(SecurityHeaders)
    return app
