"""The peer: rss2email (Debian package `rss2email`) over the same feed farm, mailing a local SMTP sink.

rss2email is installed with apt-get when `r2e` is missing (the benchmark runs as root). It polls
feeds one after another, with conditional GET (feedparser's ETag/Last-Modified support), and
sends one email per new entry. Both rss2email and the SMTP sink run as their own processes; wall
time and peak RSS (benchmarks.measure) are measured per run.

    python -m benchmarks.peers sink PORT      # the counting SMTP sink on its own
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.measure import ProcessRun, run_measured

REPO_ROOT = Path(__file__).resolve().parents[1]


def ensure_rss2email() -> str:
    """The path of `r2e`, installing Debian's rss2email first if needed."""
    found = shutil.which("r2e")
    if found:
        return found
    print("rss2email is not installed; installing the Debian package (apt-get)...", file=sys.stderr)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "rss2email"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    found = shutil.which("r2e")
    if not found:
        raise RuntimeError("rss2email was installed but r2e is not on PATH")
    return found


def rss2email_version(r2e: str) -> str:
    return subprocess.run([r2e, "--version"], capture_output=True, text=True).stdout.strip()


def write_rss2email_config(folder: Path, feed_urls: list[str], smtp_port: int) -> tuple[Path, Path]:
    """A config with one [feed.NAME] section per feed, mailing the sink over plain SMTP."""
    config = folder / "rss2email.cfg"
    data = folder / "rss2email.json"
    lines = [
        "[DEFAULT]",
        "to = analyst@example.org",
        "from = rss2email@example.org",
        "email-protocol = smtp",
        "smtp-server = 127.0.0.1",
        f"smtp-port = {smtp_port}",
        "smtp-ssl = False",
        "smtp-auth = False",
        "feed-timeout = 20",
        "",
    ]
    for index, url in enumerate(feed_urls):
        lines += [f"[feed.farm{index:05d}]", f"url = {url}", ""]
    config.write_text("\n".join(lines))
    return config, data


def run_rss2email(r2e: str, config: Path, data: Path) -> ProcessRun:
    return run_measured([r2e, "--config", str(config), "--data", str(data), "run"])


class SmtpSink:
    """A counting SMTP sink (aiosmtpd) in its own process."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> SmtpSink:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.peers", "sink", str(self.port)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"the SMTP sink did not start: {line!r}")
        return self

    def stop(self) -> int:
        """Stop the sink; the number of messages it accepted."""
        assert self._process is not None
        self._process.send_signal(signal.SIGTERM)
        out, _ = self._process.communicate(timeout=30)
        self._process = None
        return int(out.strip().split()[-1]) if out.strip() else 0

    def __exit__(self, *_: object) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()


def _serve_sink(port: int) -> None:
    from aiosmtpd.controller import Controller

    class Counter:
        count = 0

        async def handle_DATA(self, _server: Any, _session: Any, _envelope: Any) -> str:
            Counter.count += 1
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    stop = False

    def on_term(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    print("ready", flush=True)
    while not stop:
        time.sleep(0.1)
    controller.stop()
    print(f"messages {Counter.count}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "sink":
        _serve_sink(int(sys.argv[2]))
    else:
        sys.exit(__doc__)
