"""Shortcuts over positions give what the plain regex definitions give: the word before a full stop,
looked for in a short window first (`sentence_starts` once searched from the start of the text for
every stop), is the one a search from the start finds; the words of a text counted by splitting
bytes are the matches of the word regex; a NEAR settled from the spans alone is the NEAR evaluated."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.match.evaluate import (
    _SPACED_WORD,
    _WORD_BEFORE,
    ALL_FIELDS,
    Evaluator,
    _word_before,
    near_sides,
    spaced_words,
    word_runs,
)
from pipeline.match.query import NearNode, iter_terms, parse_query

PIECES = ["word", "U.S.", "a", "x" * 45, "http://example.org/" + "p" * 30, "再編", "。", " ", " ", "\n"]
PIECES += ['"', "(", "'", ".", ",", "—", "-", "1999", "_", "e.g."]

texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=texts, data=st.data())
def test_the_word_before_a_stop_is_the_one_a_search_from_the_start_finds(
    text: str, data: st.DataObject
) -> None:
    end = data.draw(st.integers(0, len(text)))
    found = _WORD_BEFORE.search(text, 0, end)
    assert _word_before(text, end) == (found.group(1) if found else "")


words = st.lists(
    st.sampled_from([*PIECES, "café", "naïve", "“", "”", "’", "…", "Ωmega", "١٢٣", "ß", "\u00a0", "ﬁ"]),
    max_size=40,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=words)
def test_counting_words_by_splitting_gives_the_regex_count(text: str) -> None:
    assert spaced_words(text) == sum(1 for _ in _SPACED_WORD.finditer(text))


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60))
def test_counting_words_by_splitting_gives_the_regex_count_for_any_text(text: str) -> None:
    assert spaced_words(text) == sum(1 for _ in _SPACED_WORD.finditer(text))


@settings(max_examples=400, deadline=None)
@given(text=words, data=st.data())
def test_word_runs_count_the_words_of_any_gap_as_the_regex_does(text: str, data: st.DataObject) -> None:
    # NEAR bisects a field's word runs once it has counted many gaps: the same count as searching
    # the gap alone, for any gap that is not empty (`_within` settles an empty one first), cut
    # anywhere (inside a word too).
    start = data.draw(st.integers(0, max(0, len(text) - 1)))
    end = data.draw(st.integers(start + 1, max(start + 1, len(text))))
    run_starts, run_ends = word_runs(text)
    bisected = bisect_left(run_starts, end) - bisect_right(run_ends, start)
    assert bisected == sum(1 for _ in _SPACED_WORD.finditer(text, start, end))


@settings(max_examples=400, deadline=None)
@given(
    tokens=st.lists(st.sampled_from(["word", "U.S.", "a", "再編", "。", "—", "1999", "e.g."]), max_size=30),
    distance=st.integers(0, 4),
    data=st.data(),
)
def test_a_near_settled_from_spans_is_the_near_evaluated(
    tokens: list[str], distance: int, data: st.DataObject
) -> None:
    # The presence test settles a NEAR by `near_holds`, looking from one side only, and the verdict
    # by `evaluate`, which keeps the near hits of both sides: the same truth for any occurrences.
    text = " ".join(tokens)
    starts = [sum(len(token) + 1 for token in tokens[:index]) for index in range(len(tokens))]
    spans = [(start, start + len(token)) for start, token in zip(starts, tokens, strict=True)]
    left = data.draw(st.sets(st.integers(0, max(0, len(tokens) - 1)), max_size=3)) if tokens else set()
    rest = [index for index in range(len(tokens)) if index not in left]
    right = data.draw(st.sets(st.sampled_from(rest), max_size=3)) if rest else set()
    node = parse_query(f"left NEAR/{distance} right", {})
    assert isinstance(node, NearNode)
    term_ids = {id(term): index for index, term in enumerate(iter_terms(node))}
    occurrences: dict[str, dict[int, list[tuple[int, int]]]] = {"title": {}, "body": {}}
    for term_id, chosen in ((0, left), (1, right)):
        if chosen:
            occurrences["body"][term_id] = [spans[index] for index in sorted(chosen)]
    sides = near_sides(node, term_ids, ALL_FIELDS)
    assert sides is not None
    texts = {"title": "", "body": text}
    settled = Evaluator(term_ids, occurrences, texts).near_holds(node, ALL_FIELDS, sides)
    assert settled == Evaluator(term_ids, occurrences, texts).evaluate(node).matched
