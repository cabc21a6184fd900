"""Articles built by hand for the pure matcher tests."""

from __future__ import annotations

from pipeline.models import Article, ExtractionMethod


def article(title: str, body: str = "") -> Article:
    return Article(
        url="u",
        canonical_url="u",
        title=title,
        body=body,
        published=None,
        author=None,
        language=None,
        source="test",
        method=ExtractionMethod.PAGE,
    )
