"""Text normalisation shared by watchlist terms and article text.

Terms and articles go through the same character folding, so whatever a
journalist's keyboard produced (full-width letters, en dashes, curly quotes,
non-breaking spaces, different case) compares equal to what the operator typed.
The folded text keeps a map back to the original, so hits are reported against
the text the reader sees.

Word-level equivalences (U.S. = US, defence = defense, force = forces) are not
folded into the article text: they are expanded on the query side, in `terms.py`,
so the article is folded once, cheaply, whatever the number of topics.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

# Scripts written without spaces between words, where word boundaries cannot be required. The folded
# text has a space wherever they meet a word of a spaced script, so `[^\W_]` (a letter or digit)
# marks a word boundary everywhere else: term regexes use that cheap class, not a CJK range.
CJK_RANGES = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
# A letter or digit of a spaced script: the characters that make up an English (or French...) word.
# A letter or digit of a spaced script (for regexes compiled once; term regexes use WORD_CHAR).
SPACED_WORD_CHAR = rf"[^\W_{CJK_RANGES}]"
WORD_CHAR = r"[^\W_]"
_CJK_CHAR = re.compile(rf"[{CJK_RANGES}]")
_CJK_RUN = re.compile(rf"[{CJK_RANGES}]+")
_FIRST_CJK = CJK_RANGES[0]


# Every dash and hyphen Unicode knows, folded to ASCII '-'.
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-")
_QUOTES = dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032\uff07\u02bc"), "'") | dict.fromkeys(
    map(ord, "\u201c\u201d\u201e\u201f\u2033\uff02\u00ab\u00bb"), '"'
)
_SPACES = dict.fromkeys(
    map(ord, "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"),
    " ",
)
_CHARACTER_FOLDS = _DASHES | _QUOTES | _SPACES
# Japanese corner brackets round a name or a quotation: 「統合作戦司令部」が発足 is read as
# 統合作戦司令部が発足, so a phrase written without them still matches (as English phrases read
# through quotation marks, `terms._SEPARATOR`). Two quotations side by side (」「) keep a space
# between them, so 「米軍」「基地」 does not become the phrase 米軍基地.
_OPENING_BRACKETS = "\u300c\u300e\uff62"  # 「 『 ｢
_CLOSING_BRACKETS = "\u300d\u300f\uff63"  # 」 』 ｣
_BRACKETS = frozenset(_OPENING_BRACKETS + _CLOSING_BRACKETS)
_DROP_BRACKETS = dict.fromkeys(map(ord, _OPENING_BRACKETS + _CLOSING_BRACKETS))
_BRACKET = re.compile(f"[{_OPENING_BRACKETS}{_CLOSING_BRACKETS}]")
# A character with the combining marks after it: NFKC composes them together ("e" + U+0301 = "é").
_COMBINING_UNIT = re.compile(
    r".[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u3099\u309a]*", re.DOTALL
)
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_COMMON_FOLDS = tuple(
    (chr(code), replacement)
    for code, replacement in _CHARACTER_FOLDS.items()
    if chr(code) in "\u2018\u2019\u201c\u201d\u2013\u2014\u00a0\u2009\u202f"
)


@lru_cache(maxsize=65536)
def fold_char(char: str, keep_case: bool = False) -> str:
    """One character as the matcher sees it: NFKC, dashes/quotes/spaces unified, case folded."""
    if char in _BRACKETS:
        return ""
    folded = unicodedata.normalize("NFKC", char.translate(_CHARACTER_FOLDS)).translate(_CHARACTER_FOLDS)
    return folded if keep_case else folded.casefold()


def fold(text: str, keep_case: bool = False) -> str:
    """`text` folded (for short strings such as query terms; articles go through `normalise`)."""
    if len(text) == 1:
        return fold_char(text, keep_case)
    return "".join(
        fold_char(unit, keep_case) if len(unit) == 1 else _fold_unit(unit, keep_case)
        for unit in _COMBINING_UNIT.findall(text)
    )


def _fold_unit(unit: str, keep_case: bool) -> str:
    unit = unit.translate(_DROP_BRACKETS)
    folded = unicodedata.normalize("NFKC", unit.translate(_CHARACTER_FOLDS)).translate(_CHARACTER_FOLDS)
    return folded if keep_case else folded.casefold()


def is_cjk(char: str) -> bool:
    return bool(_CJK_CHAR.match(char))


@dataclass(frozen=True, slots=True)
class _Segment:
    folded_start: int
    original_start: int
    original_end: int
    # Linear: folded and original characters correspond one to one inside the segment.
    linear: bool


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """Folded text, plus the map back to the original (None when the two align character by character)."""

    text: str
    segments: tuple[_Segment, ...] | None = None
    _starts: tuple[int, ...] = ()

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that folded characters `start:end` came from."""
        if self.segments is None:
            return start, end
        if end <= start:
            position = self._original_start(start)
            return position, position
        return self._original_start(start), self._original_end(end)

    def _segment(self, position: int) -> _Segment:
        assert self.segments is not None
        return self.segments[max(0, bisect_right(self._starts, position) - 1)]

    def _original_start(self, position: int) -> int:
        segment = self._segment(position)
        if position >= len(self.text):
            return self.segments[-1].original_end if self.segments else position
        if segment.linear:
            return segment.original_start + position - segment.folded_start
        return segment.original_start

    def _original_end(self, position: int) -> int:
        # The end of the original character that produced folded character `position - 1`.
        segment = self._segment(position - 1)
        if segment.linear:
            return segment.original_start + position - segment.folded_start
        return segment.original_end


def normalise(text: str) -> NormalisedText:
    """Fold `text` for matching. Plain ASCII (most English news) costs one `lower()`; otherwise
    only the runs of non-ASCII characters are examined. When every run folds one to one (curly
    quotes, dashes, accented letters), the folded text aligns with the original and needs no map."""
    if text.isascii():
        return NormalisedText(text.lower())
    # English news is ASCII but for curly quotes, dashes and odd spaces: fold those with
    # str.replace (fast, one character for one) and the rest is ASCII again.
    for char, replacement in _COMMON_FOLDS:
        text = text.replace(char, replacement)
    if text.isascii():
        return NormalisedText(text.lower())
    pieces: list[str] = []
    position = 0
    for run in _NON_ASCII_RUN.finditer(text):
        start, end = run.span()
        chunk = text[start:end].translate(_CHARACTER_FOLDS)
        folded = chunk.casefold()
        if (
            len(folded) != len(chunk)
            or max(chunk) >= _FIRST_CJK
            or not _BRACKETS.isdisjoint(chunk)
            or unicodedata.combining(chunk[0])
            or not unicodedata.is_normalized("NFKC", chunk)
        ):
            return _normalise_mapped(text)
        pieces.append(text[position:start].lower())
        pieces.append(folded)
        position = end
    pieces.append(text[position:].lower())
    return NormalisedText("".join(pieces))


def _normalise_mapped(text: str) -> NormalisedText:
    """The general case: folding changes lengths (…, ﬁ, ﾄｳｷｮｳ) or CJK text needs spaces
    next to spaced-script words, so the result keeps a map back to the original."""
    pieces: list[str] = []
    segments: list[_Segment] = []
    folded_length = 0
    aligned = True

    def add(piece: str, original_start: int, original_end: int, linear: bool) -> None:
        nonlocal folded_length
        if piece:
            segments.append(_Segment(folded_length, original_start, original_end, linear))
            pieces.append(piece)
            folded_length += len(piece)

    position = 0
    for run in _NON_ASCII_RUN.finditer(text):
        start, end = run.span()
        if start > position and unicodedata.combining(text[start]):
            start -= 1  # the ASCII letter a combining accent belongs to
        add(text[position:start].lower(), position, start, True)
        chunk = text[start:end].translate(_CHARACTER_FOLDS)
        folded = chunk.casefold()
        if len(folded) == len(chunk) and unicodedata.is_normalized("NFKC", chunk):
            if _BRACKETS.isdisjoint(chunk):
                add(folded, start, end, True)
            else:
                aligned = False
                cursor = 0
                for bracket in _BRACKET.finditer(chunk):
                    add(folded[cursor : bracket.start()], start + cursor, start + bracket.start(), True)
                    if _keeps_words_apart(text, start + bracket.start()):
                        add(" ", start + bracket.start(), start + bracket.end(), True)
                    cursor = bracket.end()
                add(folded[cursor:], start + cursor, end, True)
        else:
            for unit in _COMBINING_UNIT.finditer(text, start, end):
                piece = fold(unit.group())
                if not piece and unit.group() in _BRACKETS and _keeps_words_apart(text, unit.start()):
                    piece = " "
                linear = len(piece) == unit.end() - unit.start()
                aligned = aligned and linear
                add(piece, unit.start(), unit.end(), linear)
        position = end
    add(text[position:].lower(), position, len(text), True)
    folded_text = "".join(pieces)
    if _CJK_RUN.search(folded_text):
        folded_text, segments, aligned = _separate_scripts(folded_text, segments, aligned)
    if aligned and len(folded_text) == len(text):
        return NormalisedText(folded_text)
    merged = tuple(_merge_linear(segments))
    return NormalisedText(folded_text, merged, tuple(segment.folded_start for segment in merged))


def _keeps_words_apart(text: str, position: int) -> bool:
    """Must the bracket at `position` fold to a space rather than to nothing? Between two
    quotations (」「), and between two words of a spaced script ("the「USFJ"), which dropping it
    would join; next to Japanese text it folds to nothing."""
    before = text[position - 1] if position > 0 else ""
    if text[position] in _OPENING_BRACKETS and before and before in _CLOSING_BRACKETS:
        return True
    left, right = position, position + 1
    while left > 0 and text[left - 1] in _BRACKETS:  # "a「」b": look past the empty quotation
        left -= 1
    while right < len(text) and text[right] in _BRACKETS:
        right += 1
    return (
        left > 0
        and right < len(text)
        and _is_spaced_word_char(text[left - 1])
        and _is_spaced_word_char(text[right])
    )


def _is_spaced_word_char(char: str) -> bool:
    return char.isalnum() and not _CJK_CHAR.match(char)


def _separate_scripts(text: str, segments: list[_Segment], aligned: bool) -> tuple[str, list[_Segment], bool]:
    """Put a space where Japanese/Chinese/Korean meets a spaced-script word ("米軍USFJ司令官"),
    so that word boundaries hold for "USFJ" there, as they do after a space."""
    points = []
    for run in _CJK_RUN.finditer(text):
        start, end = run.span()
        if start > 0 and text[start - 1].isalnum():
            points.append(start)
        if end < len(text) and text[end].isalnum():
            points.append(end)
    if not points:
        return text, segments, aligned
    pieces: list[str] = []
    result: list[_Segment] = []
    length = 0

    def emit(segment: _Segment, start: int, end: int) -> None:
        nonlocal length
        if end <= start:
            return
        if segment.linear:
            original = segment.original_start + start - segment.folded_start
            result.append(_Segment(length, original, original + end - start, True))
        else:
            result.append(_Segment(length, segment.original_start, segment.original_end, False))
        pieces.append(text[start:end])
        length += end - start

    index = 0
    for number, segment in enumerate(segments):
        end = segments[number + 1].folded_start if number + 1 < len(segments) else len(text)
        cursor = segment.folded_start
        while index < len(points) and points[index] < end:
            point = points[index]
            index += 1
            if point < cursor or (point > cursor and not segment.linear):
                continue
            emit(segment, cursor, point)
            original = segment.original_start + (point - segment.folded_start if segment.linear else 0)
            result.append(_Segment(length, original, original, False))
            pieces.append(" ")
            length += 1
            cursor = point
        emit(segment, cursor, end)
    return "".join(pieces), result, False


def _merge_linear(segments: list[_Segment]) -> list[_Segment]:
    """Join neighbouring one-to-one segments so the map stays short."""
    merged: list[_Segment] = []
    for segment in segments:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and previous.linear
            and segment.linear
            and previous.original_end == segment.original_start
            and segment.folded_start - previous.folded_start
            == previous.original_end - previous.original_start
        ):
            merged[-1] = _Segment(previous.folded_start, previous.original_start, segment.original_end, True)
        else:
            merged.append(segment)
    return merged
