"""Promises the README makes that CI must keep true."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    command = re.search(r'^TEST_COMMAND="(.+)"$', ci, re.MULTILINE)
    assert command, "TEST_COMMAND not found in .ci/run"
    assert f"```sh\n{command.group(1)}\n```" in (ROOT / "README.md").read_text()


def test_readme_install_command_runs_the_daemon_on_the_example_config() -> None:
    readme = (ROOT / "README.md").read_text()
    install_and_run = "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/newswatch run"
    assert f"```sh\n{install_and_run}\n```" in readme
    assert "sqlite:///data/newswatch.db" in (ROOT / "config" / "newswatch.yaml").read_text()
