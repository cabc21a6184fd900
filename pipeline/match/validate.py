"""Config-time checks of watchlists, with the key path of every problem.

Called by `pipeline.config` on the raw YAML document, so that a malformed query
is reported together with every other config error (by `newswatch check-config`
and at start-up), e.g. `topics.usfj.query: column 17: expected ')'`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pipeline.match.query import TopicError, TopicTrees, resolve_aliases


@dataclass
class _Written:
    query: str | None
    all: list[str] = field(default_factory=list)
    any: list[str] = field(default_factory=list)
    none: list[str] = field(default_factory=list)


def _string_list(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return [item if isinstance(item, str) else "" for item in value]


def watchlist_problems(aliases: object, topics: object) -> Iterator[tuple[str, str]]:
    """(key, message) for every alias and topic that would not compile. Malformed shapes
    (a topic that is not a mapping, a list that is not a list) are left to the schema."""
    raw_aliases = {
        name: [entry for entry in entries if isinstance(entry, str)]
        for name, entries in (aliases.items() if isinstance(aliases, dict) else ())
        if isinstance(entries, list)
    }
    resolved, problems = resolve_aliases(raw_aliases)
    for problem in problems:
        yield problem.key, problem.message
    written = {
        name: _Written(
            topic.get("query"),
            _string_list(topic.get("all")),
            _string_list(topic.get("any")),
            _string_list(topic.get("none")),
        )
        for name, topic in (topics.items() if isinstance(topics, dict) else ())
        # Malformed topics and non-string queries are the schema's to report.
        if isinstance(topic, dict) and (topic.get("query") is None or isinstance(topic.get("query"), str))
    }
    trees = TopicTrees(written, resolved)
    for name in written:
        try:
            trees.tree(name)
        except TopicError as error:
            if error.message.startswith("a topic needs"):
                yield f"topics.{name}", error.message
            else:
                yield f"topics.{name}.{error.key}", error.message
