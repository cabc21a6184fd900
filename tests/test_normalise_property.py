"""The folded text's map back to the original holds for any mix of scripts, brackets and folds:
every word of the folded text comes from a stretch of the original that folds to that word."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.match.normalize import fold, normalise

PIECES = ["統合作戦司令部", "が発足", "米軍", "USFJ", "ＵＳＦＪ", "plan", " ", "\n", "。", "、"]
PIECES += ["「", "」", "『", "』", "｢", "｣", "“", "”", "—", "ﬁ", "café", "ｶﾀｶﾅ", "2+2"]


@settings(max_examples=500, deadline=None)
@given(text=st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
def test_every_folded_word_maps_back_to_original_text_that_folds_to_it(text: str) -> None:
    folded = normalise(text)
    for word in re.finditer(r"\S+", folded.text):
        start, end = folded.original_span(*word.span())
        assert "".join(fold(text[start:end]).split()) == word.group(), (text, word.group())


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("ab1 「」『』｢｣米軍。"), max_size=40))
def test_a_bracket_never_joins_two_latin_words(text: str) -> None:
    def latin_words(folded: str) -> list[str]:
        return re.findall(r"[a-z0-9]+", folded)

    as_spaces = re.sub("[「」『』｢｣]", " ", text)
    assert latin_words(normalise(text).text) == latin_words(fold(as_spaces))


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=80))
def test_folding_any_text_keeps_a_valid_map(text: str) -> None:
    folded = normalise(text)
    for position in range(len(folded.text) + 1):
        start, end = folded.original_span(position, min(position + 1, len(folded.text)))
        assert 0 <= start <= end <= len(text)
