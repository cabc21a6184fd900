"""The shipped topics on real third-party news pages (the shared corpus), extracted as the pipeline does.

Only one page there is on a shipped topic (The Japan News on the Japan-U.S. Status of Forces
Agreement); the rest, including Japanese pages whose sidebars mention the SDF or US bases,
must not alert.
"""

from __future__ import annotations

import pytest

from pipeline.config import parse_config
from pipeline.extract import article_from_page
from pipeline.match import Matcher
from tests.support.configs import shipped_document
from tests.support.corpus import corpus_files, missing_reason

PAGES = [path for path in corpus_files("articles", "*.html") if ".expected" not in path.name]
ON_TOPIC = {"jp-thejapannews-sofa-debate-2024-10-13.html": ["us-japan-alliance"]}


@pytest.mark.slow
@pytest.mark.skipif(not PAGES, reason=missing_reason("articles"))
def test_shipped_topics_on_real_pages() -> None:
    config = parse_config(shipped_document())
    matcher = Matcher.from_topics(config.topics, config.aliases)
    assert len(PAGES) > 20
    found = {}
    for page in PAGES:
        article = article_from_page(page.read_bytes(), f"https://example.org/{page.name}")
        found[page.name] = [verdict.topic for verdict in matcher.match(article)]
    assert {name: topics for name, topics in found.items() if topics} == ON_TOPIC
