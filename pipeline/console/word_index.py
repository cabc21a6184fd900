"""Which prepared articles hold a word that contains a given string: an inverted index of words.

Presearch's anchors are single words or parts of one (a prefix such as `reorgani`, the dotted
`u.s.f.j`). Searching every article's text for each anchor costs the whole window's text per anchor;
here only the distinct words of the window are searched (joined in one string, in C), and the
articles come from the postings of the words that contain the anchor. Not thread-safe: its owner
(`ArticleWindow`) holds a lock around it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from itertools import accumulate

# Never inside an anchor (anchors hold no whitespace), so a hit never spans two words.
_SEPARATOR = "\n"


class WordIndex:
    def __init__(self) -> None:
        self._postings: dict[str, list[int]] = {}
        # Every word joined, and where each begins: rebuilt on the first lookup after a new word.
        self._words: list[str] = []
        self._joined = ""
        self._starts: list[int] = []

    def add(self, article_id: int, words: Iterable[str]) -> None:
        for word in words:
            posting = self._postings.get(word)
            if posting is None:
                self._postings[word] = [article_id]
                self._joined = ""  # a new word: join again on the next lookup
            else:
                posting.append(article_id)

    def containing(self, fragment: str) -> set[int]:
        """Ids of the articles added with a word that contains `fragment` (which holds no whitespace).
        Articles removed from the window stay listed until the index is rebuilt; callers keep
        only the ids they still hold."""
        if not self._joined and self._postings:
            self._words = list(self._postings)
            self._joined = _SEPARATOR.join(self._words)
            self._starts = list(accumulate((len(word) + 1 for word in self._words[:-1]), initial=0))
        found: set[int] = set()
        position = self._joined.find(fragment)
        while position >= 0:
            index = bisect_right(self._starts, position) - 1
            found.update(self._postings[self._words[index]])
            # On to the next word: this one is counted whatever else in it matches.
            next_start = self._starts[index + 1] if index + 1 < len(self._starts) else len(self._joined)
            position = self._joined.find(fragment, next_start)
        return found
