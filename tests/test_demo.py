"""`newswatch demo`: a first run with nothing set up shows a real alert and why it matched."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.demo import SITE
from tests.support.servers import FIXTURES

REPO = Path(__file__).resolve().parents[1]
# The seed article's headline (fixtures/articles/usfj-joint-force-hq.txt, first line).
SEED_TITLE = (FIXTURES / "articles" / "usfj-joint-force-hq.txt").read_text(encoding="utf-8").splitlines()[0]
DEMO_FILES = [
    "site.json",
    "feeds/pacific-security-desk.xml",
    *(f"pages/{page.name}" for page in sorted((FIXTURES / "pages").glob("*.html"))),
]


def _assert_seed_alert(output: str) -> None:
    assert "2 entries, 2 new, 1 matched" in output
    assert f"usfj-reorganisation (score 9)  {SEED_TITLE}" in output
    # The explanation: the query's clause tree and the snippet with the matched words marked.
    assert "query: @usfj NEAR/25 @command-overhaul\n" in output
    assert "yes @usfj: USFJ, U.S. Forces Japan (5 mentions)\n" in output
    assert "[U.S. Forces Japan] ([USFJ])" in output
    assert "Tokyo Ramen Counter" not in output


@pytest.mark.parametrize("name", DEMO_FILES)
def test_the_packaged_demo_site_is_the_fixtures(name: str) -> None:
    # The package carries copies (a non-editable install has no fixtures/); they must not drift.
    assert (SITE / name).read_bytes() == (FIXTURES / name).read_bytes()


def test_demo_prints_the_seed_alert_and_why(tmp_path: Path) -> None:
    out = io.StringIO()
    assert main(["demo", "--keep", str(tmp_path)], out=out) == 0
    _assert_seed_alert(out.getvalue())
    # --keep leaves a config the operator can start from; it validates.
    assert (tmp_path / "newswatch-demo.db").is_file()
    assert main(["check-config", "--config", str(tmp_path / "newswatch-demo.yaml")], out=io.StringIO()) == 0


def test_demo_writes_nothing_outside_its_temporary_directory(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "demo"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    _assert_seed_alert(result.stdout)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_the_readme_install_then_demo_in_a_fresh_venv(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH")}
    subprocess.run(["python3", "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "-e", "."],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    # Run from elsewhere: the demo must find its feed through the package, not the working directory.
    run = subprocess.run(
        [str(venv / "bin" / "newswatch"), "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    _assert_seed_alert(run.stdout)


@pytest.mark.slow
def test_a_built_wheel_carries_the_demo_site(tmp_path: Path) -> None:
    # A non-editable install has only what the wheel holds.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("newswatch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"pipeline/demo/site/{name}" for name in DEMO_FILES} | {"pipeline/demo/demo.yaml"} <= names
