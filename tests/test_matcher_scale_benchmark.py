"""The matcher-scale benchmark's inputs: real articles split in two, topics made of one half's words
that all compile, and on the other half presearch gives exactly the verdicts of full evaluation."""

from __future__ import annotations

import pytest

from benchmarks.real_text import EVAL_ITEMS, load_real_text, real_vocabulary
from benchmarks.real_topics import aliases_used, make_real_topics
from pipeline.match import Matcher

pytestmark = pytest.mark.skipif(not EVAL_ITEMS.is_file(), reason="../shared is absent")


def test_generated_topics_compile_and_presearch_keeps_every_verdict_on_held_out_real_news() -> None:
    text = load_real_text()
    assert "ja" in text.languages and "en" in text.languages
    vocabulary = real_vocabulary(text.half(0))
    assert vocabulary.names and vocabulary.words and vocabulary.phrases and vocabulary.japanese
    topics, aliases = make_real_topics(400, vocabulary)
    used = aliases_used(topics, aliases)
    matcher = Matcher(topics, used)
    assert len(matcher.topics) == 400
    assert set(used) < set(aliases)
    assert any("NEAR/" in topic.query for topic in topics.values())
    assert any(" NOT " in topic.query for topic in topics.values())
    matched = 0
    for article in text.half(1).articles[:120]:
        full = [(verdict.topic, verdict.score) for verdict in matcher.evaluate(article) if verdict.matched]
        assert [(verdict.topic, verdict.score) for verdict in matcher.match(article)] == full
        matched += len(full)
    assert matched > 0  # the comparison was not over empty results
