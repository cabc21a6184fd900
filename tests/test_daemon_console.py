"""`newswatch run` with `web.listen` set, as a real subprocess: the console is served beside /healthz and
/metrics; those two stay open, every console route asks for a user, "poll now" makes the daemon
poll, and the pages follow a reload."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.configs import write_test_config
from tests.support.console import csrf_of
from tests.support.livefeed import LiveFeed, Story
from tests.support.servers import LocalHTTPServer, free_port
from tests.test_daemon_process import start_daemon, stop, wait_for

pytestmark = pytest.mark.slow

PASSWORD = "daemon console password"
TITLE = "USFJ to be upgraded to a joint force headquarters"
BODY = (
    "U.S. Forces Japan will be upgraded to a joint force headquarters, the Pentagon said on Tuesday. "
    "The new command in Tokyo will work with Japan's Joint Operations Command.\n\n"
    "Officials said the reorganisation of USFJ would take several years."
) * 2


def _newswatch(config: Path, *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", *args, "--config", str(config)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code in (200, 503)
    except httpx.TransportError:
        return False


def test_the_daemon_serves_the_console_behind_sign_in(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer
) -> None:
    feed = LiveFeed(http_server)
    feed.publish(Story("usfj", TITLE, BODY))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = write_test_config(
        tmp_path / "newswatch.yaml",
        database_url=database_url,
        # Polled once at start, then not for an hour: a second poll soon after can only be asked for.
        feeds=[{"name": "Live", "url": feed.url, "interval": "1h"}],
        extra={"web": {"listen": f"127.0.0.1:{port}"}},
    )
    daemon = start_daemon(config, tmp_path / "daemon.log")
    try:
        wait_for(lambda: _answers(f"{base}/healthz"), timeout=60)
        _newswatch(
            config, "users", "add", "rita", "--role", "operator", "--password-stdin", stdin=PASSWORD + "\n"
        )
        token = _newswatch(config, "users", "token", "rita").strip()

        # Monitoring keeps working without credentials, as before the console.
        health = httpx.get(f"{base}/healthz", timeout=5)
        assert health.json()["scheduler_running"] is True
        metrics = httpx.get(f"{base}/metrics", timeout=5)
        assert metrics.status_code == 200 and "newswatch_polls_total" in metrics.text

        # Every console route wants a user: a page sends to the sign-in, the API answers 401.
        page = httpx.get(f"{base}/matches", timeout=5)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        api = httpx.get(f"{base}/api/matches", timeout=5)
        assert api.status_code == 401 and api.json()["error"]["code"] == "unauthenticated"

        # The daemon's own poll reaches the console: the match shows through the API and the pages.
        headers = {"authorization": f"Bearer {token}"}

        def matched() -> bool:
            items = httpx.get(f"{base}/api/matches", headers=headers, timeout=5).json()["items"]
            return any(item["title"] == TITLE for item in items)

        wait_for(matched, timeout=60)
        with httpx.Client(base_url=base, timeout=5) as browser:
            form = browser.get("/login")
            signed_in = browser.post(
                "/login", data={"csrf": csrf_of(form.text), "name": "rita", "password": PASSWORD}
            )
            assert signed_in.status_code == 303
            assert TITLE in browser.get("/matches").text

            # "Poll now" is a true poll: the daemon fetches the feed again long before its hour is up.
            polls = len(http_server.requests_to("/live.xml"))
            feeds_page = browser.get("/feeds").text
            found = re.search(r'action="/feeds/(\d+)/poll"', feeds_page)
            assert found is not None, feeds_page
            feed_id = found.group(1)
            asked = browser.post(f"/feeds/{feed_id}/poll", data={"csrf": csrf_of(feeds_page)})
            assert asked.status_code == 303
            wait_for(lambda: len(http_server.requests_to("/live.xml")) > polls, timeout=30)

            # A reload the daemon applies reaches the console's pages without a restart.
            document = yaml.safe_load(config.read_text())
            document["topics"]["kyoto-blossoms"] = {"query": "Kyoto AND blossom*"}
            config.write_text(yaml.safe_dump(document, allow_unicode=True))
            wait_for(lambda: "kyoto-blossoms" in browser.get("/topics").text, timeout=30)
    finally:
        stop(daemon)
    assert daemon.returncode == 0, (tmp_path / "daemon.log").read_text()[-3000:]
