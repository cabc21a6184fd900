"""The candidate index: every topic's presearch anchors in one Aho-Corasick automaton.

One pass over an article's folded text finds every anchor string it contains; the topics those
anchors belong to (and the few topics without an anchor set) are the article's candidates, the
only topics that can match it. This is what keeps the cost of an article nearly flat as the
number of topics grows: a topic whose anchors are absent costs nothing at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import itemgetter

import ahocorasick

from pipeline.match.presearch import Anchors

_VALUE = itemgetter(1)


class AnchorIndex:
    """Topics (by their position in the config) indexed by their anchor strings."""

    def __init__(self, anchor_sets: Sequence[Anchors | None]) -> None:
        by_anchor: dict[str, list[int]] = {}
        unanchored: list[int] = []
        for order, anchors in enumerate(anchor_sets):
            if anchors is None:
                unanchored.append(order)
                continue
            for anchor in anchors:
                by_anchor.setdefault(anchor, []).append(order)
        self.unanchored = frozenset(unanchored)
        self.anchors = len(by_anchor)
        self._automaton = ahocorasick.Automaton()
        for anchor, orders in by_anchor.items():
            self._automaton.add_word(anchor, frozenset(orders))
        if by_anchor:
            self._automaton.make_automaton()

    def candidates(self, texts: Iterable[str]) -> set[int]:
        """The topics that may match an article whose folded fields are `texts`."""
        reached: set[int] = set(self.unanchored)
        if not self.anchors:
            return reached
        for text in texts:
            if text:
                # Each distinct anchor once (the set is built in C), then its topics.
                reached.update(*set(map(_VALUE, self._automaton.iter(text))))
        return reached
