"""Golden examples: `newswatch check-config` runs every topic's must-match / must-not-match
articles and fails loudly, naming the example, the topic and why, when an edit breaks one."""

from __future__ import annotations

import io
from pathlib import Path

import yaml

from pipeline.cli import main
from tests.support.configs import SHIPPED_CONFIG, shipped_document
from tests.support.servers import FixtureSite

SEED_PATH = "/news/2025/10/29/usfj-joint-force-headquarters-phase-two"


def check(config: Path) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["check-config", "--config", str(config)], out=out)
    return code, out.getvalue()


def write(path: Path, document: dict) -> Path:
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_shipped_examples_pass_with_paths_relative_to_the_config_file() -> None:
    document = shipped_document()
    assert document["topics"]["usfj-reorganisation"]["examples"]["match"][0].startswith("../fixtures/")
    code, output = check(SHIPPED_CONFIG)
    assert code == 0, output
    assert "golden examples: 6 of 6 as expected" in output


def test_a_broken_example_fails_loudly(tmp_path: Path) -> None:
    fixtures = SHIPPED_CONFIG.parent.parent / "fixtures"
    (tmp_path / "golden").mkdir()
    (tmp_path / "golden" / "seed.txt").write_text(
        (fixtures / "articles" / "usfj-joint-force-hq.txt").read_text()
    )
    document = shipped_document()
    usfj = document["topics"]["usfj-reorganisation"]
    # An edit that narrows the topic to titles only: the seed (USFJ only in its body) no longer matches.
    usfj["query"] = "title:(@usfj NEAR/25 @new-command)"
    usfj["examples"] = {
        "match": ["golden/seed.txt", "golden/missing.txt"],
        "no_match": [str(fixtures / "articles" / "tokyo-ramen-michelin.txt")],
    }
    alliance = document["topics"]["us-japan-alliance"]
    alliance["examples"] = {
        "match": [],
        "no_match": ["golden/seed.txt"],
    }  # wrong: the seed is on the alliance
    del document["topics"]["japan-defence-buildup"]["examples"]

    code, output = check(write(tmp_path / "edited.yaml", document))

    assert code == 1
    lines = output.splitlines()
    assert lines[-1] == "golden examples: 2 of 3 FAILED (1 skipped: file not found)"
    seed = str(tmp_path / "golden" / "seed.txt")
    assert (
        f"FAIL topics.usfj-reorganisation.examples.match[0]: {seed}: should match but does not: "
        "in the title: not found: @usfj" in output
    )
    missing = tmp_path / "golden" / "missing.txt"
    # An absent file is a warning, not a failure (tests/test_deployment.py says why).
    assert f"WARNING topics.usfj-reorganisation.examples.match[1]: {missing}: no such file" in output
    assert (
        f"FAIL topics.us-japan-alliance.examples.no_match[0]: {seed}: should not match but does (score"
        in output
    )
    failure = next(line for line in output.splitlines() if line.startswith("FAIL topics.us-japan-alliance"))
    assert "U.S.-Japan" in failure and "alliance" in failure


def test_examples_may_be_urls(tmp_path: Path, fixture_site: FixtureSite) -> None:
    document = shipped_document()
    for topic in document["topics"].values():
        topic.pop("examples", None)
    document["topics"]["usfj-reorganisation"]["examples"] = {"match": [fixture_site.url(SEED_PATH)]}
    code, output = check(write(tmp_path / "urls.yaml", document))
    assert code == 0, output
    assert "golden examples: 1 of 1 as expected" in output
    assert fixture_site.requests_to(SEED_PATH)


def test_skip_examples(tmp_path: Path) -> None:
    document = shipped_document()
    document["topics"]["usfj-reorganisation"]["examples"] = {"match": ["nowhere.txt"]}
    out = io.StringIO()
    code = main(
        ["check-config", "--skip-examples", "--config", str(write(tmp_path / "c.yaml", document))], out=out
    )
    assert code == 0 and "golden examples" not in out.getvalue()


def test_malformed_query_fails_check_config_with_key_and_column(tmp_path: Path, capsys) -> None:
    document = shipped_document()
    document["topics"]["usfj-reorganisation"]["query"] = "@usfj AND (reorgani* OR upgrade"
    code, _ = check(write(tmp_path / "bad.yaml", document))
    assert code == 2
    assert "topics.usfj-reorganisation.query: column 32: expected ')'" in capsys.readouterr().err
