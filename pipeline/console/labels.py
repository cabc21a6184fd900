"""Feedback as labels in the `newswatch eval` format (JSON lines: id, title, body, lang, topics), so
analysts' judgements become the measure of the watchlists."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator

from pipeline.store.console import ConsoleStore


def labels_lines(store: ConsoleStore, topics: Collection[str]) -> Iterator[str]:
    """One line per judged article. `topics` lists the configured topics judged relevant; `judged`
    (ignored by eval) lists every topic someone judged, since an unjudged topic reads as a negative."""
    for label in store.labels():
        yield json.dumps(
            {
                "id": f"article:{label.article_id}",
                "title": label.title or label.url,
                "body": label.body,
                "lang": label.language or "unknown",
                "topics": sorted(topic for topic in label.relevant_topics if topic in topics),
                "judged": sorted(label.judged_topics),
                "url": label.url,
            },
            ensure_ascii=False,
        )
