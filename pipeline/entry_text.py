"""Small pure readings of an entry's text, shared by the feed parser and the extraction workers
(which must not import feedparser: pipeline/extract_page.py)."""

from __future__ import annotations

import re

_LANGUAGE_TAG = re.compile(r"\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)*\s*$")
TITLE_FROM_SUMMARY_CHARS = 120


def title_from_summary(summary: str) -> str:
    """A headline for an entry that has none: the summary's first sentence, shortened."""
    first = re.split(r"(?<=[.!?。])\s", summary, maxsplit=1)[0].strip()
    if len(first) > TITLE_FROM_SUMMARY_CHARS:
        first = first[:TITLE_FROM_SUMMARY_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:") + " …"
    return first


def primary_language(tag: object) -> str | None:
    """'ja-JP' -> 'ja': the language subtag of a declared language, or None if none is given."""
    found = _LANGUAGE_TAG.match(tag) if isinstance(tag, str) else None
    return found.group(1).lower() if found else None
