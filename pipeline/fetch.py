"""HTTP fetching with hard limits: every outcome is a FetchResult, never an exception.

Redirects are followed by hand so that each hop is counted and a chain made
only of permanent redirects can be reported (the caller then updates the
stored feed URL). Bodies are streamed and abandoned as soon as they pass the
size cap or the total deadline, so a hostile or broken server costs bounded
memory and time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urljoin, urlsplit

import httpx

from pipeline.models import ConditionalState, FetchError, FetchErrorKind, FetchResult

_PERMANENT_REDIRECTS = {301, 308}
_REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True, slots=True)
class FetchLimits:
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    user_agent: str = "newswatch/0.1"


class _Abort(Exception):
    def __init__(self, error: FetchError) -> None:
        self.error = error


def _check_scheme(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Abort(FetchError(FetchErrorKind.INVALID_URL, f"not an http(s) URL: {url!r}"))


class Fetcher:
    """Fetches URLs within `FetchLimits`. Thread-safe: one instance serves the whole daemon."""

    def __init__(self, limits: FetchLimits, transport: httpx.BaseTransport | None = None) -> None:
        self.limits = limits
        timeout = httpx.Timeout(
            connect=limits.connect_timeout, read=limits.read_timeout, write=limits.read_timeout, pool=None
        )
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            headers={"User-Agent": limits.user_agent},
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def fetch(self, url: str, conditional: ConditionalState | None = None) -> FetchResult:
        started = time.monotonic()
        deadline = started + self.limits.total_timeout
        current = url
        permanent = True
        status: int | None = None
        try:
            for _hop in range(self.limits.max_redirects + 1):
                _check_scheme(current)
                status, headers, body = self._fetch_once(current, conditional, deadline)
                if status in _REDIRECTS and "location" in headers:
                    permanent = permanent and status in _PERMANENT_REDIRECTS
                    current = urljoin(current, headers["location"])
                    continue
                error = None
                if not (200 <= status < 300 or status == 304):
                    error = FetchError(FetchErrorKind.HTTP_STATUS, f"HTTP {status} {_reason(status)}".strip())
                    body = b""
                return FetchResult(
                    requested_url=url,
                    final_url=current,
                    status=status,
                    body=body,
                    headers=headers,
                    error=error,
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
                error=abort.error,
                elapsed_seconds=time.monotonic() - started,
            )

    def _fetch_once(
        self, url: str, conditional: ConditionalState | None, deadline: float
    ) -> tuple[int, dict[str, str], bytes]:
        request_headers: dict[str, str] = {}
        if conditional and conditional.etag:
            request_headers["If-None-Match"] = conditional.etag
        if conditional and conditional.last_modified:
            request_headers["If-Modified-Since"] = conditional.last_modified
        try:
            with self._client.stream("GET", url, headers=request_headers) as response:
                headers = {key.lower(): value for key, value in response.headers.items()}
                if response.status_code in _REDIRECTS or response.status_code == 304:
                    return response.status_code, headers, b""
                return response.status_code, headers, self._read_capped(response, url, deadline)
        except httpx.TimeoutException as error:
            raise _Abort(
                FetchError(FetchErrorKind.TIMEOUT, f"{type(error).__name__} fetching {url}")
            ) from None
        except httpx.DecodingError as error:
            raise _Abort(
                FetchError(FetchErrorKind.DECODING, f"cannot decode body of {url}: {error}")
            ) from None
        except (httpx.ConnectError, httpx.NetworkError) as error:
            raise _Abort(
                FetchError(FetchErrorKind.CONNECT, f"{url}: {error or type(error).__name__}")
            ) from None
        except (httpx.ProtocolError, httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
            raise _Abort(FetchError(FetchErrorKind.PROTOCOL, f"{url}: {error}")) from None

    def _read_capped(self, response: httpx.Response, url: str, deadline: float) -> bytes:
        cap = self.limits.max_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise _Abort(
                FetchError(FetchErrorKind.TOO_LARGE, f"{url} declares {int(declared)} bytes, limit is {cap}")
            )
        chunks: list[bytes] = []
        size = 0
        # iter_bytes yields decompressed data, so the cap also stops compression bombs.
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > cap:
                raise _Abort(FetchError(FetchErrorKind.TOO_LARGE, f"{url} body exceeds the {cap}-byte limit"))
            if time.monotonic() > deadline:
                raise _Abort(
                    FetchError(
                        FetchErrorKind.TIMEOUT,
                        f"{url} took longer than the {self.limits.total_timeout:g}s total limit",
                    )
                )
            chunks.append(chunk)
        return b"".join(chunks)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
