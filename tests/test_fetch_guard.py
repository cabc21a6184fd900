"""The fetcher's guards, one by one: address policy, Retry-After, decoding, concurrency limits."""

from __future__ import annotations

import gzip
import ipaddress
import shutil
import ssl
import subprocess
import threading
import time
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import brotli
import pytest

from pipeline.config import FetchConfig
from pipeline.fetch import ACCEPT_ENCODING, Fetcher, FetchLimits, blocked_address_reason
from pipeline.http_headers import parse_retry_after
from pipeline.models import FetchErrorKind
from tests.support.servers import LocalHTTPServer, RecordedRequest, Response

LOOPBACK_OK = FetchLimits.from_config(
    FetchConfig(connect_timeout=2, read_timeout=2, total_timeout=5, allow_private_addresses=True)
)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.5.6.7", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.0.10", "private"),
        ("fd00::1", "private"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not globally routable"),  # carrier-grade NAT
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:a00:1::", "private"),  # 6to4 wrapping 10.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 wrapping 169.254.169.254
        ("93.184.215.14", None),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", None),
    ],
)
def test_address_policy(address: str, reason: str | None) -> None:
    assert blocked_address_reason(ipaddress.ip_address(address)) == reason


def test_retry_after_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(format_datetime(now + timedelta(minutes=5), usegmt=True), now) == 300.0
    assert parse_retry_after(format_datetime(now - timedelta(minutes=5), usegmt=True), now) == 0.0
    for value in (None, "", "soon", "-5", "1.5"):
        assert parse_retry_after(value, now) is None


@pytest.fixture
def fetcher():
    with Fetcher(LOOPBACK_OK) as instance:
        yield instance


def test_sends_user_agent_and_only_the_encodings_it_can_bound(
    http_server: LocalHTTPServer, fetcher: Fetcher
) -> None:
    fetcher.fetch(http_server.add("/ua", Response(200, b"ok")))
    headers = http_server.requests_to("/ua")[0].headers
    assert headers["user-agent"].startswith("newswatch/")
    assert headers["accept-encoding"] == ACCEPT_ENCODING == "gzip, deflate, br"


@pytest.mark.parametrize(
    ("encoding", "encoded"),
    [
        ("gzip", gzip.compress(b"<rss>hello</rss>", mtime=0)),
        ("deflate", zlib.compress(b"<rss>hello</rss>")),
        ("deflate", zlib.compress(b"<rss>hello</rss>")[2:-4]),  # raw deflate, as some servers send
        ("br", brotli.compress(b"<rss>hello</rss>")),
        ("gzip, br", brotli.compress(gzip.compress(b"<rss>hello</rss>", mtime=0))),
        ("identity", b"<rss>hello</rss>"),
    ],
    ids=["gzip", "deflate", "raw-deflate", "br", "gzip-then-br", "identity"],
)
def test_decodes_compressed_bodies(
    http_server: LocalHTTPServer, fetcher: Fetcher, encoding: str, encoded: bytes
) -> None:
    result = fetcher.fetch(http_server.add("/z", Response(200, encoded, {"Content-Encoding": encoding})))
    assert result.ok and result.body == b"<rss>hello</rss>"


def test_undecodable_bodies_are_decoding_errors(http_server: LocalHTTPServer, fetcher: Fetcher) -> None:
    corrupt = fetcher.fetch(
        http_server.add("/bad", Response(200, b"not gzip at all", {"Content-Encoding": "gzip"}))
    )
    assert corrupt.error is not None and corrupt.error.kind is FetchErrorKind.DECODING
    assert "cannot decode gzip body" in corrupt.error.message
    unknown = fetcher.fetch(
        http_server.add("/zstd", Response(200, b"\x28\xb5\x2f\xfd", {"Content-Encoding": "zstd"}))
    )
    assert unknown.error is not None and unknown.error.kind is FetchErrorKind.DECODING
    assert "unsupported Content-Encoding 'zstd'" in unknown.error.message


def test_compression_bomb_stops_at_the_cap_without_inflating(http_server: LocalHTTPServer) -> None:
    # 1 GB of zeros in ~1 MB of gzip: the decoder must stop near the 1 MB cap, not inflate it all.
    bomb = gzip.compress(b"\0" * 200_000_000, compresslevel=9)
    url = http_server.add("/bomb", Response(200, bomb, {"Content-Encoding": "gzip"}))
    settings = FetchConfig(
        connect_timeout=2, read_timeout=5, total_timeout=10, max_bytes=1_000_000, allow_private_addresses=True
    )
    limits = FetchLimits.from_config(settings)
    with Fetcher(limits) as fetcher:
        started = time.monotonic()
        result = fetcher.fetch(url)
    assert result.error is not None and result.error.kind is FetchErrorKind.TOO_LARGE
    assert "after decompression" in result.error.message
    assert time.monotonic() - started < 2  # inflating 200 MB would take longer than this


def _concurrency_probe(server: LocalHTTPServer, path: str) -> tuple[str, list[int]]:
    active = [0]
    peak: list[int] = [0]
    lock = threading.Lock()

    def handler(_request: RecordedRequest) -> Response:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.15)
        with lock:
            active[0] -= 1
        return Response(200, b"ok")

    return server.add(path, handler), peak


def test_per_host_and_global_limits(http_server: LocalHTTPServer) -> None:
    url, peak = _concurrency_probe(http_server, "/busy")
    settings = FetchConfig(max_connections=3, max_per_host=2, allow_private_addresses=True)
    limits = FetchLimits.from_config(settings)
    with Fetcher(limits) as fetcher:
        threads = [threading.Thread(target=fetcher.fetch, args=(url,)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert peak[0] == 2  # one host: never more than max_per_host at once
        peak[0] = 0
        # Two host names for the same server: the global limit of 3 binds before 2 x 2.
        other = url.replace("127.0.0.1", "localhost")
        threads = [threading.Thread(target=fetcher.fetch, args=(target,)) for target in [url, other] * 4]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert peak[0] == 3


def test_trusted_feed_host_does_not_trust_links_to_the_same_host(http_server: LocalHTTPServer) -> None:
    url = http_server.add("/feed", Response(200, b"<rss/>"))
    with Fetcher(FetchLimits.from_config(FetchConfig()), trusted_hosts=["127.0.0.1"]) as fetcher:
        assert fetcher.fetch(url, trusted=True).ok
        page = fetcher.fetch(url)
    assert page.error is not None and page.error.kind is FetchErrorKind.BLOCKED_ADDRESS
    assert len(http_server.requests_to("/feed")) == 1


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_https_goes_through_the_guarded_backend_and_verifies_certificates(tmp_path: Path) -> None:
    """TLS is negotiated on the checked connection (SNI = the URL's host) and certificates are
    verified: a self-signed server is refused with the reason."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subprocess.run(
        [*command, "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    server = LocalHTTPServer()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server._server.socket = context.wrap_socket(server._server.socket, server_side=True)
    server.add("/feed", Response(200, b"<rss/>"))
    server.start()
    try:
        with Fetcher(LOOPBACK_OK) as fetcher:
            result = fetcher.fetch(server.url("/feed").replace("http://", "https://"))
    finally:
        server.stop()
    assert result.error is not None and result.error.kind is FetchErrorKind.CONNECT
    assert "CERTIFICATE_VERIFY_FAILED" in result.error.message
