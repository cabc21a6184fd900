"""The console's tables and queries on real SQLite and PostgreSQL: users, tokens, feedback (one current
judgement per article, topic and user), precision from feedback, labels in the eval format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.console.auth import hash_token
from pipeline.console.labels import labels_lines
from pipeline.match.quality import parse_labels
from pipeline.store.console import ConsoleStore, MatchFilters, UserExists
from tests.support.console import NOW, seed


def test_users_feedback_and_precision(tmp_path: Path, database_url: str) -> None:
    seeded = seed(tmp_path, database_url)
    store = ConsoleStore(seeded.engine)
    olive = store.user_by_name("olive")
    rita = store.user_by_name("rita")
    assert olive and rita and olive.is_operator and not rita.is_operator
    with pytest.raises(UserExists):
        store.add_user("olive", "x", "operator")
    assert store.user_by_token(hash_token(seeded.reader_token)) == rita
    assert store.user_by_token(hash_token("nwt_wrong")) is None

    topic = "usfj-reorganisation"
    assert store.topic_stats([topic], NOW)[topic].precision is None
    store.set_feedback(seeded.usfj_id, topic, True, olive)
    store.set_feedback(seeded.hostile_id, topic, True, olive)
    store.set_feedback(seeded.hostile_id, topic, False, rita)
    assert store.topic_stats([topic], NOW)[topic].precision == pytest.approx(2 / 3)
    # A second mark by the same user replaces the first: one current judgement each.
    store.set_feedback(seeded.hostile_id, topic, False, olive)
    stats = store.topic_stats([topic], NOW)[topic]
    assert (stats.relevant, stats.not_relevant) == (1, 2)
    assert stats.matches == 2 and sum(count for _, count in stats.per_day) == 2
    # Judging an unmatched article says nothing about precision.
    store.set_feedback(seeded.quiet_id, topic, True, rita)
    assert store.topic_stats([topic], NOW)[topic].precision == pytest.approx(1 / 3)

    judged = store.matches(MatchFilters(topic=topic, feedback="not-relevant"))
    assert [item.article_id for item in judged] == [seeded.hostile_id]
    unjudged = store.matches(MatchFilters(feedback="none"))
    assert {item.topic for item in unjudged} == {"us-japan-alliance"}

    lines = list(labels_lines(store, seeded.config.topics))
    items = {item.id: item for item in parse_labels(lines)}
    assert items[f"article:{seeded.usfj_id}"].topics == {topic}
    assert items[f"article:{seeded.hostile_id}"].topics == frozenset()
    assert items[f"article:{seeded.quiet_id}"].topics == {topic}
    assert json.loads(lines[0])["lang"] == "en"

    # Removing a user keeps their judgements (with their name) and ends their tokens.
    assert store.remove_user("rita")
    assert store.user_by_token(hash_token(seeded.reader_token)) is None
    assert any(item.user_name == "rita" for item in store.feedback())


def test_secrets_are_made_once(tmp_path: Path, database_url: str) -> None:
    seeded = seed(tmp_path, database_url)
    store = ConsoleStore(seeded.engine)
    assert store.secret("session") == store.secret("session") != store.secret("topic-feeds")
