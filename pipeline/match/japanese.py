"""Japanese word boundaries from a real morphological analyser (MeCab through fugashi, UniDic Lite).

Japanese is written without spaces, so a character-level match finds 日米 inside 在日米軍
("U.S. forces in Japan", which is not "Japan-U.S.") and NEAR/25 used to count 25 characters,
less than one sentence. The analyser cuts the text into words; the matcher then accepts a
Japanese term only where it starts and ends on word edges, and NEAR counts Japanese words as
it counts English ones.

fugashi was chosen over SudachiPy by measurement on the labelled Japanese news (400 characters
an article): 0.24 ms an article and 78 MB peak against 0.58 ms and 170 MB. The tagger loads on
the first Japanese text, so English-only work never pays for it.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

from pipeline.match.normalize import CJK_RANGES

_CJK_WORD = re.compile(rf"[{CJK_RANGES}]")
# A word that ends in kana after kanji or katakana: where its kana tail begins is also an edge.
# UniDic cuts 不時着した as 不時 / 着し / た, gluing the noun's last character to the verb after it, so
# the term 不時着 ("emergency landing") would otherwise never end on an edge before する's forms.
_HIRAGANA_FIRST, _HIRAGANA_LAST = "\u3041", "\u309f"
_KANA_TAIL = re.compile(
    rf"(?<=[\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])[{_HIRAGANA_FIRST}-{_HIRAGANA_LAST}]+$"
)
# The stretches of a text the analyser reads: whitespace-separated tokens holding Japanese, with up
# to two other tokens between them (a name or figure in Latin letters inside a Japanese sentence
# stays in its sentence, so the analyser sees the same context). A longer stretch of English is
# left out: its words are cut by spaces, and an English story quoting a few Japanese words costs a
# few short analyses instead of one over all of its text.
_JAPANESE_TOKEN = rf"\S*[{CJK_RANGES}]\S*"
_JAPANESE_STRETCH = re.compile(rf"{_JAPANESE_TOKEN}(?:(?:\s+\S+){{0,2}}?\s+{_JAPANESE_TOKEN})*")
# One tagger for the process, behind a lock: MeCab's tagger is not safe to share between threads,
# and a tagger per thread cost about 68 MB each (the dictionary pages its own mapping touches), so
# a daemon polling 32 feeds at once held 2 GB. Cutting an article takes about 0.3 ms.
_tagger_lock = threading.Lock()
_shared_tagger: Any = None


def _surfaces(text: str) -> list[str]:
    """The analyser's words of `text`, in order."""
    global _shared_tagger
    with _tagger_lock:
        if _shared_tagger is None:
            import fugashi

            # Word-split output ("wakati"): only the words are wanted, and MeCab writing them out
            # costs less than fugashi building a node, with its features, for each (the labelled
            # Japanese news: the same words, tagging 0.40 instead of 0.98 ms an article).
            _shared_tagger = fugashi.Tagger("-Owakati")
        cut: str = _shared_tagger.parse(text)
    return cut.split(" ") if cut else []


@dataclass(frozen=True, slots=True)
class Words:
    """Where the words of a (folded) text containing Japanese start and end."""

    starts: frozenset[int]
    ends: frozenset[int]
    # Starts of the words written in Japanese/Chinese script, sorted: what NEAR and lengths count
    # (words in Latin letters or digits are counted by the spaced-script rule).
    cjk_starts: tuple[int, ...]

    def accepts(self, text: str, start: int, end: int) -> bool:
        """Does a hit text[start:end] begin and end on word edges where it is Japanese?"""
        if _CJK_WORD.match(text, start) and start not in self.starts:
            return False
        return not (end > start and _CJK_WORD.match(text, end - 1) and end not in self.ends)

    def cjk_words_between(self, start: int, end: int) -> int:
        return bisect_left(self.cjk_starts, end) - bisect_left(self.cjk_starts, start)


def has_japanese(text: str) -> bool:
    return _CJK_WORD.search(text) is not None


def words_of(text: str) -> Words | None:
    """The words of `text`, or None when it holds no Japanese (nothing to cut, nothing loaded)."""
    return words(text) if has_japanese(text) else None


def words(text: str) -> Words:
    """Cut `text` into words (call only for a text that `has_japanese`). Only edges where Japanese
    starts or ends matter (`Words.accepts`), so only the stretches holding it are analysed."""
    starts: set[int] = set()
    ends: set[int] = set()
    cjk_starts: list[int] = []
    for stretch in _JAPANESE_STRETCH.finditer(text):
        offset = stretch.start()
        part = stretch.group()
        position = 0
        for surface in _surfaces(part):
            if not surface:
                continue
            found = part.find(surface, position)
            if found < 0:  # the analyser normalised something: keep the edges found so far
                continue
            starts.add(offset + found)
            position = found + len(surface)
            ends.add(offset + position)
            # (Most words end otherwise: the comparison keeps the regex off them.)
            if len(surface) > 1 and _HIRAGANA_FIRST <= surface[-1] <= _HIRAGANA_LAST:
                tail = _KANA_TAIL.search(surface)
                if tail is not None:
                    ends.add(offset + found + tail.start())
            if _CJK_WORD.match(surface):
                cjk_starts.append(offset + found)
    return Words(frozenset(starts), frozenset(ends), tuple(cjk_starts))
