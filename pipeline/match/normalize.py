"""Text normalisation shared by watchlist terms and article text.

Terms and articles go through the same function, so whatever a journalist's
keyboard produced (full-width letters, en dashes, curly quotes, different case)
compares equal to what the operator typed. Every normalised character keeps the
offset of the original character it came from, so hits are reported against
the text the reader sees.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Every dash and hyphen Unicode knows, folded to ASCII '-'.
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u30fc"), "-")
# Keep the Japanese prolonged sound mark: it is a letter inside katakana words, not a dash.
del _DASHES[0x30FC]
_QUOTES = dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032\uff07"), "'") | dict.fromkeys(
    map(ord, "\u201c\u201d\u201e\u201f\u2033\uff02\u00ab\u00bb"), '"'
)
_SPACES = dict.fromkeys(
    map(ord, "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"),
    " ",
)
_CHARACTER_FOLDS = _DASHES | _QUOTES | _SPACES


@dataclass(frozen=True, slots=True)
class NormalisedText:
    text: str
    # origin[i] is the offset in the original text of normalised character i;
    # origin[len(text)] is len(original), so slices map back cleanly.
    origin: list[int]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        return self.origin[start], self.origin[end - 1] + 1 if end > start else self.origin[start]


def normalise_char(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char).translate(_CHARACTER_FOLDS)
    return folded.casefold()


def normalise(text: str) -> NormalisedText:
    pieces: list[str] = []
    origin: list[int] = []
    for offset, char in enumerate(text):
        folded = normalise_char(char)
        pieces.append(folded)
        origin.extend([offset] * len(folded))
    origin.append(len(text))
    return NormalisedText("".join(pieces), origin)


def normalise_term(term: str) -> str:
    return " ".join(normalise(term).text.split())


def is_cjk(char: str) -> bool:
    """Scripts written without spaces between words, where word boundaries cannot be required."""
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0x3400 <= code <= 0x4DBF  # CJK extension A
        or 0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0xAC00 <= code <= 0xD7AF  # hangul syllables
        or 0x31F0 <= code <= 0x31FF  # katakana phonetic extensions
    )
