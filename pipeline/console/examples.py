"""Golden examples for the topic pages, through the same check as `newswatch check-config`."""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Config
from pipeline.extract import article_from_page, article_from_text
from pipeline.match.examples import ExampleResult, check_examples
from pipeline.match.matcher import Matcher
from pipeline.models import Article


def _read_file(source: str) -> Article:
    if source.startswith(("http://", "https://")):
        # A page view must not make the server fetch from the network; check-config does that.
        raise ValueError("a URL: run `newswatch check-config` to check it")
    data = Path(source).read_bytes()
    if Path(source).suffix.lower() in (".html", ".htm") or data.lstrip()[:1] == b"<":
        return article_from_page(data, source)
    return article_from_text(data.decode("utf-8", errors="replace"), source)


def run_examples(config: Config, base_dir: Path) -> dict[str, list[ExampleResult]]:
    results = check_examples(
        Matcher.from_topics(config.topics, config.aliases), config.topics, base_dir, _read_file
    )
    by_topic: dict[str, list[ExampleResult]] = {}
    for result in results:
        by_topic.setdefault(result.topic, []).append(result)
    return by_topic
