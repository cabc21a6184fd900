"""The shipped topics on the labelled evaluation set (tests/eval/): no false alarms, few misses.

The table behind this test: `python -m benchmarks.evaluate`.
"""

from __future__ import annotations

import re

import pytest

from benchmarks.evaluate import EVAL_DIR, evaluate, load_labels
from pipeline.config import parse_config
from pipeline.match import Matcher
from tests.support.configs import shipped_document

SHIPPED_TOPICS = ["usfj-reorganisation", "us-japan-alliance", "japan-defence-buildup"]
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def scores() -> dict:
    config = parse_config(shipped_document())
    found, _ = evaluate(Matcher.from_topics(config.topics, config.aliases))
    return found


def test_the_set_is_big_varied_and_fully_labelled() -> None:
    labels = load_labels()  # also fails if a file has no label or a label no file
    assert len(labels) >= 60
    texts = {name: (EVAL_DIR / "articles" / name).read_text(encoding="utf-8") for name in labels}
    for topic in SHIPPED_TOPICS:
        positives = [name for name, topics in labels.items() if topic in topics]
        assert len(positives) >= 10, topic
        assert sum(bool(_JAPANESE.search(texts[name].splitlines()[0])) for name in positives) >= 3, topic
    near_misses = [name for name, topics in labels.items() if not topics]
    assert len(near_misses) >= 20
    # The hard near-misses the issue names, among others.
    for needle in (
        "U.S. Forces Korea",
        "NATO",
        "restructuring",
        "Baseball",
        "tariff",
        "USFJ (U.S. Forces Japan)",
    ):
        assert any(needle in texts[name] for name in near_misses), needle
    assert any("事業再編" in texts[name] for name in near_misses)


@pytest.mark.parametrize("topic", SHIPPED_TOPICS)
def test_shipped_topic_precision_and_recall(scores: dict, topic: str) -> None:
    score = scores[topic]
    assert score.precision == 1.0, f"false positives: {score.false_positives}"
    assert score.recall >= 0.95, f"missed: {score.false_negatives}"
