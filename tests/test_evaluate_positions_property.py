"""The shortcuts the evaluator takes over positions give what the plain regex definitions give:
NEAR's word count between two offsets (bisecting the field's word runs, found once per article)
is the number of words a regex finds in that stretch, and the word before a full stop (looked for
in a short window first) is the one a search from the start of the text finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.match.evaluate import _SPACED_WORD, _WORD_BEFORE, Evaluator, _word_before

PIECES = ["word", "U.S.", "a", "x" * 45, "http://example.org/" + "p" * 30, "再編", "。", " ", " ", "\n"]
PIECES += ['"', "(", "'", ".", ",", "—", "-", "1999", "_", "e.g."]

texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=texts, data=st.data())
def test_near_counts_the_words_a_regex_finds_between_two_offsets(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(0, len(text)))
    distance = data.draw(st.integers(0, 6))
    empty: dict[int, list[tuple[int, int]]] = {}
    evaluator = Evaluator({}, {"title": empty, "body": empty}, {"title": "", "body": text})
    words = sum(1 for _ in _SPACED_WORD.finditer(text, start, end)) if end > start else 0
    assert evaluator._within("body", start, end, distance) == (words <= distance)


@settings(max_examples=400, deadline=None)
@given(text=texts, data=st.data())
def test_the_word_before_a_stop_is_the_one_a_search_from_the_start_finds(
    text: str, data: st.DataObject
) -> None:
    end = data.draw(st.integers(0, len(text)))
    found = _WORD_BEFORE.search(text, 0, end)
    assert _word_before(text, end) == (found.group(1) if found else "")
