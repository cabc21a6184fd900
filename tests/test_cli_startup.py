"""Start-up cost: `newswatch --help` and a quick `match` must not load what they do not use.

Each check runs in a fresh interpreter (a subprocess): this test process has imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pipeline.commands import alerts
from pipeline.store.outbox import STATUSES
from tests.support.configs import SHIPPED_CONFIG, write_test_config
from tests.support.servers import FIXTURES, LocalHTTPServer, Response

HEAVY = ("sqlalchemy", "alembic", "trafilatura", "apprise", "numpy", "py3langid", "courlan", "feedparser")


def _modules_after(code: str) -> set[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def _loaded_after(code: str) -> set[str]:
    return {name.split(".")[0] for name in _modules_after(code)} & set(HEAVY)


def test_importing_the_cli_and_building_its_parser_loads_no_heavy_library() -> None:
    assert _loaded_after("import pipeline.cli") == set()
    assert _loaded_after("import pipeline.cli; pipeline.cli.build_parser()") == set()


def test_help_and_version_load_no_heavy_library() -> None:
    for argv in (["--help"], ["match", "--help"], ["--version"]):
        code = f"import pipeline.cli\ntry:\n    pipeline.cli.main({argv!r})\nexcept SystemExit:\n    pass"
        assert _loaded_after(code) == set(), argv


def test_matching_a_text_file_needs_no_extraction_database_or_language_model() -> None:
    seed = FIXTURES / "articles" / "usfj-joint-force-hq.txt"
    argv = ["match", "--config", str(SHIPPED_CONFIG), str(seed)]
    code = f"import pipeline.cli\npipeline.cli.main({argv!r})"
    assert _loaded_after(code) == set()


def test_the_cli_lists_the_outbox_statuses_without_importing_the_store() -> None:
    assert alerts.STATUSES == STATUSES


def test_a_cycle_where_no_feed_changed_compiles_no_topic_and_parses_no_feed(
    tmp_path: Path, http_server: LocalHTTPServer
) -> None:
    """`newswatch once` from cron, every feed answering 304: what is only needed for a new item
    (feedparser, courlan, the matcher, numpy, trafilatura) and httpx's command-line client stay out."""
    feed = http_server.add("/feed.xml", Response(304))
    config = write_test_config(
        tmp_path / "newswatch.yaml",
        database_url=f"sqlite:///{tmp_path / 'newswatch.db'}",
        feeds=[{"name": "Unchanged", "url": feed}],
    )
    argv = ["once", "--config", str(config)]
    modules = _modules_after(f"import pipeline.cli\npipeline.cli.main({argv!r})")
    assert len(http_server.requests_to("/feed.xml")) == 1
    never = {"feedparser", "courlan", "numpy", "trafilatura", "pipeline.match.matcher", "click", "rich"}
    assert never & modules == set()
