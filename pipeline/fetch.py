"""HTTP fetching with hard limits: every outcome is a FetchResult, never an exception.

What a hostile or broken server can cost is bounded here, once, for feeds and pages alike:

- Connections go through `GuardedNetworkBackend`: it resolves the host itself, refuses the
  connection if any address the name resolves to is loopback, private, link-local, multicast,
  reserved or unspecified (unless allowed), and then connects to the address it checked, so a
  DNS answer that changes between check and connect (rebinding) cannot slip through. Every
  redirect hop opens its connection through the same check.
- The total deadline is enforced on every socket read and write (a thread-local budget clamps
  each timeout), so a server trickling its headers or body one byte at a time is cut off.
- Bodies are read raw and decompressed here with bounded output (gzip, deflate, brotli), so a
  compression bomb stops at the size cap instead of inflating in one call.
- Redirects are followed by hand: each hop is counted, loops are named, and a chain made only of
  permanent redirects is reported so the caller can record the feed's new address.
- A global limit and a per-host limit on concurrent requests keep newswatch polite.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urljoin, urlsplit

import brotli
import httpcore

from pipeline.config import FeedConfig, FetchConfig
from pipeline.http_headers import parse_retry_after
from pipeline.httpx_cli import httpx
from pipeline.models import ConditionalState, FetchError, FetchErrorKind, FetchResult

_PERMANENT_REDIRECTS = {301, 308}
_REDIRECTS = {301, 302, 303, 307, 308}
# Only what this module can decode with a bounded output buffer.
ACCEPT_ENCODING = "gzip, deflate, br"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
KEEPALIVE_SECONDS = 30.0
# Connection pools kept for origins with nothing in flight; past this, the least recently used
# are closed (and their sockets with them).
MAX_IDLE_ORIGINS = 256


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """The runtime form of `fetch:` in the config. No defaults here: they live in `FetchConfig`
    alone, so a limit has one value wherever it is read."""

    connect_timeout: float
    read_timeout: float
    # Wall-clock budget for one fetch, all redirect hops included (time spent waiting for a
    # concurrency slot is not counted: that is newswatch's queue, not the server's slowness).
    total_timeout: float
    max_bytes: int
    max_redirects: int
    user_agent: str
    max_connections: int
    max_per_host: int
    allow_private_addresses: bool

    @classmethod
    def from_config(cls, settings: FetchConfig) -> FetchLimits:
        return cls(
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            total_timeout=settings.total_timeout,
            max_bytes=settings.max_bytes,
            max_redirects=settings.max_redirects,
            user_agent=settings.user_agent,
            max_connections=settings.max_connections,
            max_per_host=settings.max_per_host,
            allow_private_addresses=settings.allow_private_addresses,
        )


def trusted_hosts(feeds: Iterable[FeedConfig]) -> set[str]:
    """The feed hosts the operator vouched for (`allow_private_addresses` on the feed)."""
    return {urlsplit(feed.url).hostname or "" for feed in feeds if feed.allow_private_addresses} - {""}


def refreshed_validators(stored: ConditionalState, result: FetchResult) -> ConditionalState:
    """A 304 may carry updated validators; keep the stored ones it does not replace."""
    fresh = result.validators
    return ConditionalState(
        etag=fresh.etag or stored.etag, last_modified=fresh.last_modified or stored.last_modified
    )


# --- which addresses may be fetched --------------------------------------------------------


def blocked_address_reason(address: IPAddress) -> str | None:
    """Why `address` must not be fetched from third-party links, or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address wrapped in IPv6 reaches the same host as the bare one.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in ipaddress.IPv6Network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return blocked_address_reason(embedded)
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "not globally routable"
    return None


class AddressBlocked(Exception):
    """A host resolved to an address the policy refuses."""


class NameNotResolved(Exception):
    """DNS gave no address for a host."""


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise NameNotResolved(f"cannot resolve host {host!r}: {error}") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise NameNotResolved(f"cannot resolve host {host!r}: no addresses")
    return addresses


def _is_literal(host: str, address: IPAddress) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")) == address
    except ValueError:
        return False


# --- the per-fetch time budget, enforced at the socket ------------------------------------------

_budget = threading.local()


def _clamp(timeout: float | None, error: type[Exception]) -> float | None:
    """The socket timeout to use now: the stage's own timeout, never past the fetch deadline."""
    deadline: float | None = getattr(_budget, "deadline", None)
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise error("the fetch's total time limit has passed")
    return remaining if timeout is None else min(timeout, remaining)


@contextmanager
def _deadline(deadline: float) -> Iterator[None]:
    previous = getattr(_budget, "deadline", None)
    _budget.deadline = deadline
    try:
        yield
    finally:
        _budget.deadline = previous


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedNetworkBackend(httpcore.NetworkBackend):
    """Resolves, checks and connects to the checked address; streams obey the fetch deadline.

    `trusted_hosts` (lower-case host names or literals) may resolve to any address: the operator
    vouched for them (a feed on an intranet). Everything else is checked unless `allow_private`.
    """

    def __init__(self, allow_private: bool = False, trusted_hosts: Iterable[str] = ()) -> None:
        self.allow_private = allow_private
        self.trusted_hosts = frozenset(host.lower() for host in trusted_hosts)
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve(host, port)
        if not self.allow_private and host.lower() not in self.trusted_hosts:
            for address in addresses:
                reason = blocked_address_reason(address)
                if reason:
                    shown = host if _is_literal(host, address) else f"{host} resolves to {address}, which"
                    article = "an" if reason[0] in "aeiou" else "a"
                    raise AddressBlocked(
                        f"refused: {shown} is {article} {reason} address; third-party links may not reach "
                        "internal networks (set fetch.allow_private_addresses: true to allow)"
                    )
        last_error: Exception | None = None
        for address in addresses:
            try:
                stream = self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=_clamp(timeout, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last_error = error
                continue
            return _DeadlineStream(stream)
        assert last_error is not None
        raise last_error

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _OriginTransport(httpx.HTTPTransport):
    """httpx's transport for one origin, on a small connection pool that uses our backend."""

    def __init__(self, backend: GuardedNetworkBackend, ssl_context: ssl.SSLContext, size: int) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx takes no network backend argument, so its pool is rebuilt around ours (httpx and
        # httpcore are pinned; tests/test_fetch_guard.py proves the guard is in the path).
        self._pool.close()
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=size,
            max_keepalive_connections=size,
            keepalive_expiry=KEEPALIVE_SECONDS,
            network_backend=backend,
        )


class _CountedStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, done: Any) -> None:
        self._inner = inner
        self._done = done

    def __iter__(self) -> Iterator[bytes]:
        yield from self._inner

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            done, self._done = self._done, None
            if done is not None:
                done()


class _GuardedTransport(httpx.BaseTransport):
    """One small connection pool per origin (scheme, host, port).

    httpcore's single pool scans all its connections for every request, which grows costly with
    the many hosts of a large feed list; per-origin pools keep that scan at a couple of
    connections. Pools idle for long are closed, so file descriptors stay bounded.
    """

    def __init__(self, backend: GuardedNetworkBackend, limits: FetchLimits) -> None:
        self._backend = backend
        self._size = limits.max_per_host
        self._ssl_context = httpx.create_ssl_context(trust_env=False)
        self._origins: dict[tuple[bytes, bytes, int | None], _OriginTransport] = {}
        self._in_flight: dict[tuple[bytes, bytes, int | None], int] = {}
        self._last_used: dict[tuple[bytes, bytes, int | None], float] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        origin = (request.url.raw_scheme, request.url.raw_host, request.url.port)
        with self._lock:
            transport = self._origins.get(origin)
            if transport is None:
                if len(self._origins) >= MAX_IDLE_ORIGINS:
                    self._close_idle_locked()
                transport = _OriginTransport(self._backend, self._ssl_context, self._size)
                self._origins[origin] = transport
            self._in_flight[origin] = self._in_flight.get(origin, 0) + 1
            self._last_used[origin] = time.monotonic()

        def done() -> None:
            with self._lock:
                self._in_flight[origin] -= 1

        try:
            response = transport.handle_request(request)
        except BaseException:
            done()
            raise
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _CountedStream(response.stream, done)
        return response

    def _close_idle_locked(self) -> None:
        for origin in sorted(self._origins, key=self._last_used.__getitem__):
            if self._in_flight.get(origin, 0) == 0:
                self._origins.pop(origin).close()
                self._in_flight.pop(origin, None)
                self._last_used.pop(origin, None)
            if len(self._origins) < MAX_IDLE_ORIGINS // 2:
                break

    def close_idle(self) -> None:
        """Close the pools of every origin with nothing in flight (e.g. at the end of a cycle)."""
        with self._lock:
            for origin in [origin for origin in self._origins if self._in_flight.get(origin, 0) == 0]:
                self._origins.pop(origin).close()
                self._in_flight.pop(origin, None)
                self._last_used.pop(origin, None)

    def close(self) -> None:
        with self._lock:
            transports, self._origins = list(self._origins.values()), {}
        for transport in transports:
            transport.close()


# --- bounded decompression ---------------------------------------------------------------------


class _TooLarge(Exception):
    pass


class _Decoder:
    """Decodes one Content-Encoding, never producing more than `room` bytes per call."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._zlib: Any = None
        self._brotli: Any = None
        self._first = True
        if encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj()
        elif encoding == "br":
            self._brotli = brotli.Decompressor()
        else:
            raise ValueError(f"unsupported Content-Encoding {encoding!r}")

    def decode(self, data: bytes, room: int) -> bytes:
        if self._brotli is not None:
            out = self._brotli.process(data, output_buffer_limit=room)
        else:
            try:
                out = self._zlib.decompress(data, room)
            except zlib.error:
                if not (self.encoding == "deflate" and self._first):
                    raise
                # "deflate" is sent both zlib-wrapped (as specified) and raw (as servers often do).
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                out = self._zlib.decompress(data, room)
        self._first = False
        if len(out) >= room:
            raise _TooLarge
        return bytes(out)

    def flush(self, room: int) -> bytes:
        out = self._zlib.flush() if self._zlib is not None else b""
        if len(out) >= room:
            raise _TooLarge
        return out


def _decoders(content_encoding: str | None) -> list[_Decoder]:
    encodings = [part.strip().lower() for part in (content_encoding or "").split(",") if part.strip()]
    # Encodings are listed in the order applied; undo them in reverse.
    return [_Decoder(encoding) for encoding in reversed(encodings) if encoding != "identity"]


# --- the fetcher -------------------------------------------------------------------------------


# A 304, redirect or error response's body is read (and dropped) up to this size, so that its
# keep-alive connection can serve the next request; a longer one is cut off with its connection.
DRAIN_LIMIT = 64 * 1024


def _drain(response: httpx.Response) -> None:
    drained = 0
    for chunk in response.iter_raw():
        drained += len(chunk)
        if drained > DRAIN_LIMIT:
            return


class _Abort(Exception):
    def __init__(self, error: FetchError, retry_after: float | None = None) -> None:
        self.error = error
        self.retry_after = retry_after


def _check_scheme(url: str) -> None:
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as error:
        raise _Abort(FetchError(FetchErrorKind.INVALID_URL, f"malformed URL {url!r}: {error}")) from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise _Abort(FetchError(FetchErrorKind.INVALID_URL, f"not an http(s) URL: {url!r}"))


def host_key(url: str) -> str:
    """What the per-host limit counts by: host and port (the poll pool admits feeds by it too)."""
    parts = urlsplit(url)
    return f"{(parts.hostname or '').lower()}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _status_error(status: int, headers: dict[str, str]) -> _Abort:
    described = f"HTTP {status} {_reason(status)}".strip()
    if status == 410:
        return _Abort(FetchError(FetchErrorKind.GONE, f"{described}: the publisher removed it"))
    retry_after = parse_retry_after(headers.get("retry-after"))
    if status == 429 or (status == 503 and retry_after is not None):
        wait = f"; Retry-After {retry_after:.0f}s" if retry_after is not None else ""
        return _Abort(FetchError(FetchErrorKind.RETRY_LATER, f"{described}{wait}"), retry_after)
    return _Abort(FetchError(FetchErrorKind.HTTP_STATUS, described))


class Fetcher:
    """Fetches URLs within `FetchLimits`. Thread-safe: one instance serves the whole daemon.

    `trusted_hosts` are feed hosts the operator allowed on private networks; they are trusted only
    for `fetch(..., trusted=True)` (the feed itself), never for links found in feeds. The two kinds
    of fetch use separate connection pools, so a connection opened under trust is never reused for
    an untrusted request.
    """

    def __init__(self, limits: FetchLimits, trusted_hosts: Iterable[str] = ()) -> None:
        self.limits = limits
        self._slots = threading.BoundedSemaphore(limits.max_connections)
        self._host_slots: dict[str, threading.BoundedSemaphore] = {}
        self._host_slots_lock = threading.Lock()
        self._transports: list[_GuardedTransport] = []
        self._client = self._make_client(GuardedNetworkBackend(limits.allow_private_addresses))
        trusted = frozenset(host.lower() for host in trusted_hosts)
        self.trusted_hosts = trusted
        self._trusted_client = (
            self._make_client(GuardedNetworkBackend(limits.allow_private_addresses, trusted))
            if trusted and not limits.allow_private_addresses
            else self._client
        )

    def built_as(self, limits: FetchLimits, trusted_hosts: Iterable[str]) -> bool:
        """True if a Fetcher built with these arguments would behave as this one, so a config
        reload can keep this one and its open connections."""
        return self.limits == limits and self.trusted_hosts == frozenset(
            host.lower() for host in trusted_hosts
        )

    def _make_client(self, backend: GuardedNetworkBackend) -> httpx.Client:
        limits = self.limits
        transport = _GuardedTransport(backend, limits)
        self._transports.append(transport)
        timeout = httpx.Timeout(
            connect=limits.connect_timeout, read=limits.read_timeout, write=limits.read_timeout, pool=None
        )
        return httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": limits.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            transport=transport,
            trust_env=False,
        )

    def close_idle_connections(self) -> None:
        """Close keep-alive connections nothing uses now (their servers would drop them anyway)."""
        for transport in self._transports:
            transport.close_idle()

    def close(self) -> None:
        self._client.close()
        if self._trusted_client is not self._client:
            self._trusted_client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _slot(self, url: str) -> Iterator[None]:
        key = host_key(url)
        with self._host_slots_lock:
            host_slot = self._host_slots.setdefault(key, threading.BoundedSemaphore(self.limits.max_per_host))
        with host_slot, self._slots:
            yield

    def fetch(
        self, url: str, conditional: ConditionalState | None = None, *, trusted: bool = False
    ) -> FetchResult:
        started = time.monotonic()
        budget = self.limits.total_timeout
        client = self._trusted_client if trusted else self._client
        current = url
        visited = [url]
        permanent = True
        status: int | None = None
        headers: dict[str, str] = {}
        try:
            for _hop in range(self.limits.max_redirects + 1):
                _check_scheme(current)
                with self._slot(current):
                    hop_started = time.monotonic()
                    try:
                        status, headers, body = self._fetch_once(
                            client, current, conditional, hop_started + budget
                        )
                    finally:
                        budget -= time.monotonic() - hop_started
                if status in _REDIRECTS and "location" in headers:
                    permanent = permanent and status in _PERMANENT_REDIRECTS
                    current = urljoin(current, headers["location"].strip())
                    if current in visited:
                        chain = " -> ".join([*visited, current])
                        raise _Abort(FetchError(FetchErrorKind.REDIRECT_LOOP, f"redirect loop: {chain}"))
                    visited.append(current)
                    continue
                if not (200 <= status < 300 or status == 304):
                    raise _status_error(status, headers)
                return FetchResult(
                    requested_url=url,
                    final_url=current,
                    status=status,
                    body=body,
                    headers=headers,
                    elapsed_seconds=time.monotonic() - started,
                    permanent_redirect=permanent and current != url,
                )
            raise _Abort(
                FetchError(
                    FetchErrorKind.TOO_MANY_REDIRECTS,
                    f"more than {self.limits.max_redirects} redirects (last: {current})",
                )
            )
        except _Abort as abort:
            return FetchResult(
                requested_url=url,
                final_url=current,
                status=status,
                headers=headers,
                error=abort.error,
                elapsed_seconds=time.monotonic() - started,
                retry_after=abort.retry_after,
            )

    def _fetch_once(
        self, client: httpx.Client, url: str, conditional: ConditionalState | None, deadline: float
    ) -> tuple[int, dict[str, str], bytes]:
        request_headers: dict[str, str] = {}
        if conditional and conditional.etag:
            request_headers["If-None-Match"] = conditional.etag
        if conditional and conditional.last_modified:
            request_headers["If-Modified-Since"] = conditional.last_modified
        try:
            with _deadline(deadline), client.stream("GET", url, headers=request_headers) as response:
                headers = {key.lower(): value for key, value in response.headers.items()}
                status = response.status_code
                if not 200 <= status < 300:
                    _drain(response)
                    return status, headers, b""
                return status, headers, self._read_capped(response, url, headers, deadline)
        except AddressBlocked as error:
            raise _Abort(FetchError(FetchErrorKind.BLOCKED_ADDRESS, f"{url}: {error}")) from None
        except NameNotResolved as error:
            raise _Abort(FetchError(FetchErrorKind.DNS, f"{url}: {error}")) from None
        except httpx.TimeoutException as error:
            if time.monotonic() >= deadline - 0.001:
                message = f"{url} took longer than the {self.limits.total_timeout:g}s total limit"
            else:
                message = f"{type(error).__name__} fetching {url}"
            raise _Abort(FetchError(FetchErrorKind.TIMEOUT, message)) from None
        except (httpx.ConnectError, httpx.NetworkError) as error:
            raise _Abort(
                FetchError(FetchErrorKind.CONNECT, f"{url}: {error or type(error).__name__}")
            ) from None
        except (httpx.ProtocolError, httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
            raise _Abort(FetchError(FetchErrorKind.PROTOCOL, f"{url}: {error}")) from None

    def _read_capped(
        self, response: httpx.Response, url: str, headers: dict[str, str], deadline: float
    ) -> bytes:
        cap = self.limits.max_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise _Abort(
                FetchError(FetchErrorKind.TOO_LARGE, f"{url} declares {int(declared)} bytes, limit is {cap}")
            )
        try:
            decoders = _decoders(headers.get("content-encoding"))
        except ValueError as error:
            raise _Abort(FetchError(FetchErrorKind.DECODING, f"{url}: {error}")) from None
        too_large = _Abort(
            FetchError(
                FetchErrorKind.TOO_LARGE,
                f"{url} body exceeds the {cap}-byte limit" + (" after decompression" if decoders else ""),
            )
        )
        chunks: list[bytes] = []
        raw_size = size = 0
        try:
            for raw in response.iter_raw():
                raw_size += len(raw)
                if raw_size > cap:
                    raise too_large
                data = raw
                for decoder in decoders:
                    data = decoder.decode(data, cap - size + 1)
                size += len(data)
                if size > cap:
                    raise too_large
                if time.monotonic() > deadline:
                    raise _Abort(
                        FetchError(
                            FetchErrorKind.TIMEOUT,
                            f"{url} took longer than the {self.limits.total_timeout:g}s total limit",
                        )
                    )
                chunks.append(data)
            tail = b""
            for decoder in decoders:
                tail = decoder.decode(tail, cap - size + 1) if tail else b""
                tail += decoder.flush(cap - size + 1)
            size += len(tail)
            if size > cap:
                raise too_large
            chunks.append(tail)
        except _TooLarge:
            raise too_large from None
        except (zlib.error, brotli.error) as error:
            encoding = headers.get("content-encoding")
            raise _Abort(
                FetchError(FetchErrorKind.DECODING, f"cannot decode {encoding} body of {url}: {error}")
            ) from None
        return b"".join(chunks)
