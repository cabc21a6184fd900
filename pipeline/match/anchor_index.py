"""The candidate index: which topics each presearch anchor string stands for.

The matcher adds every anchor to its one Aho-Corasick automaton, so the pass that finds the terms
of an article also finds its anchors; the topics of the anchors found (and the few topics without
an anchor set) are the article's candidates, the only topics that can match it. A topic whose
anchors are absent costs nothing at all, which keeps an article's cost nearly flat as the number
of topics grows.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.match.presearch import Anchor, WordAnchors


class AnchorIndex:
    """Topics (by their position in the config) indexed by their anchor strings."""

    def __init__(self, anchor_sets: Sequence[WordAnchors | None]) -> None:
        by_anchor: dict[Anchor, set[int]] = {}
        unanchored: list[int] = []
        for order, anchors in enumerate(anchor_sets):
            if anchors is None:
                unanchored.append(order)
                continue
            for anchor in anchors:
                by_anchor.setdefault(anchor, set()).add(order)
        self.by_anchor = {anchor: frozenset(orders) for anchor, orders in by_anchor.items()}
        self.unanchored = frozenset(unanchored)
