"""The passage shown with an alert: the window of text holding the most hits."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.models import Hit, SnippetSegment

SNIPPET_CHARS = 280


def _best_window_start(hits: Sequence[Hit], width: int) -> int:
    """Start of the `width`-char window that covers the most hits (ties: the earliest)."""
    starts = sorted(hit.start for hit in hits)
    best_start, best_count = starts[0], 0
    right = 0
    for left, start in enumerate(starts):
        while right < len(starts) and starts[right] < start + width:
            right += 1
        if right - left > best_count:
            best_start, best_count = start, right - left
    return best_start


def _widen_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    while start > 0 and not text[start - 1].isspace() and start > end - SNIPPET_CHARS - 20:
        start -= 1
    while end < len(text) and not text[end].isspace() and end < start + SNIPPET_CHARS + 20:
        end += 1
    return start, end


def build_snippet(text: str, hits: Sequence[Hit]) -> list[SnippetSegment]:
    """Segments of `text` around the densest hits; hits are flagged True for highlighting."""
    if not hits:
        return []
    anchor = _best_window_start(hits, SNIPPET_CHARS // 2)
    start = max(0, anchor - SNIPPET_CHARS // 3)
    end = min(len(text), start + SNIPPET_CHARS)
    start, end = _widen_to_words(text, start, end)
    segments: list[SnippetSegment] = []
    if start > 0:
        segments.append(("…", False))
    cursor = start
    for hit in sorted(hits, key=lambda hit: hit.start):
        if hit.start < cursor or hit.end > end:
            continue
        if hit.start > cursor:
            segments.append((text[cursor : hit.start], False))
        segments.append((text[hit.start : hit.end], True))
        cursor = hit.end
    if cursor < end:
        segments.append((text[cursor:end], False))
    if end < len(text):
        segments.append(("…", False))
    return [(piece.replace("\n", " "), flagged) for piece, flagged in segments]
