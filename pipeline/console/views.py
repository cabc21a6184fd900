"""Pure helpers shared by pages, API and feeds: highlighting, safe links, cursors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

Segment = tuple[str, bool]


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s) with a host, else None: a stored link is third-party input, and a
    `javascript:` or `data:` link must never become clickable."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


def highlighted(text: str, spans: Iterable[tuple[int, int]]) -> list[Segment]:
    """`text` cut into (piece, is_hit) segments; overlapping or touching spans merge into one."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    segments: list[Segment] = []
    position = 0
    for start, end in merged:
        if start > position:
            segments.append((text[position:start], False))
        segments.append((text[start:end], True))
        position = end
    if position < len(text) or not segments:
        segments.append((text[position:], False))
    return segments


def hit_spans(explanations: Iterable[Mapping[str, Any]], field: str) -> list[tuple[int, int]]:
    spans = []
    for explanation in explanations:
        for hit in explanation.get("hits") or []:
            if (
                hit.get("field") == field
                and isinstance(hit.get("start"), int)
                and isinstance(hit.get("end"), int)
            ):
                spans.append((hit["start"], hit["end"]))
    return spans


def paragraphs(segments: Sequence[Segment]) -> list[list[Segment]]:
    """Segments split at blank lines, so the body reads as paragraphs without trusting any markup."""
    result: list[list[Segment]] = [[]]
    for text, hit in segments:
        pieces = text.split("\n\n") if not hit else [text]
        for index, piece in enumerate(pieces):
            if index:
                result.append([])
            if piece:
                result[-1].append((piece, hit))
    return [paragraph for paragraph in result if paragraph]


def encode_cursor(last_id: int) -> str:
    """The position after which the next page starts. Plain digits, so the OpenAPI document can say
    exactly which cursors are valid (every one it allows is answered)."""
    return str(last_id)


def decode_cursor(cursor: str | None) -> int | None:
    """The id a page continues after; raises ValueError for a cursor this server did not write."""
    if not cursor:
        return None
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:
        raise ValueError("invalid cursor")
    return int(cursor)
