"""Watchlist matching: compiled topics evaluated against articles, with explanations."""

from pipeline.match.matcher import Matcher

__all__ = ["Matcher"]
