"""The docs site builds without a warning, and its configuration examples are configurations."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.config import Config, known_keys, parse_config
from tests.support.configs import WEBHOOK_SECRET

ROOT = Path(__file__).parents[1]
# Pages other branches of issue 13 add; mkdocs.yml lists them already (validation.nav.not_found: info).
_YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)
# Values for the ${VARIABLES} the examples reference: secrets are never written into the docs.
EXAMPLE_ENVIRONMENT = {
    "SMTP_PASSWORD": "example-password",
    "WEBHOOK_SECRET": WEBHOOK_SECRET,
    "TEAM_CHAT_APPRISE_URL": "json://localhost/newswatch",
}


def whole_config_examples() -> list[tuple[str, str]]:
    """(page:block number, text) of every ```yaml block whose top-level keys are all config sections.

    Fragments (a lone `query:` line, a channel's options) are left out: they are not files."""
    sections = set(known_keys(Config))
    found = []
    for page in sorted([*ROOT.joinpath("docs").glob("*.md"), ROOT / "README.md"]):
        for number, block in enumerate(_YAML_BLOCK.findall(page.read_text(encoding="utf-8")), 1):
            try:
                document = yaml.safe_load(block)
            except yaml.YAMLError:
                document = None
            if isinstance(document, dict) and document and set(document) <= sections:
                found.append((f"{page.relative_to(ROOT)}:{number}", block))
    return found


EXAMPLES = whole_config_examples()


def test_the_docs_have_configuration_examples() -> None:
    pages = {name.split(":")[0] for name, _ in EXAMPLES}
    assert {"docs/configuration.md", "README.md"} <= pages


@pytest.mark.parametrize(("name", "text"), EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_every_configuration_example_loads(name: str, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, value in EXAMPLE_ENVIRONMENT.items():
        monkeypatch.setenv(variable, value)
    parse_config(yaml.safe_load(text), name)


def test_every_nav_entry_is_a_page() -> None:
    document = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    entries = [next(iter(item.values())) for item in document["nav"]]
    missing = {entry for entry in entries if not (ROOT / "docs" / entry).is_file()}
    assert missing == set()


@pytest.mark.slow
def test_the_site_builds_strictly_with_the_generated_config_reference(tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr
    reference = (site / "configuration" / "index.html").read_text(encoding="utf-8")
    # Every section and key of the schema is in the reference, so it cannot drift from the code.
    for key in known_keys(Config):
        assert f"<code>{key}</code>" in reference, key
    assert "<code>allow_private_addresses</code>" in reference and "<code>max_per_host</code>" in reference
    assert (site / "watchlists" / "index.html").is_file()
