"""Watchlist matching: the query language, text normalisation, the compiled matcher and explanations."""

from pipeline.match.matcher import Matcher, topics_fingerprint
from pipeline.match.query import QueryError, TopicError

__all__ = ["Matcher", "QueryError", "TopicError", "topics_fingerprint"]
