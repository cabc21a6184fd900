"""Watchlist matching: the query language, text normalisation, the compiled matcher and explanations.

The names are loaded on first use: `pipeline.match.explanation`, which the store and the alert
renderer import, must not pull in the matcher and its query compiler at start-up (a cycle with
nothing new never compiles a topic).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.match.matcher import Matcher, topics_fingerprint
    from pipeline.match.query import QueryError, TopicError

_HOMES = {
    "Matcher": "pipeline.match.matcher",
    "topics_fingerprint": "pipeline.match.matcher",
    "QueryError": "pipeline.match.query",
    "TopicError": "pipeline.match.query",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_HOMES[name]), name)


__all__ = ["Matcher", "QueryError", "TopicError", "topics_fingerprint"]
