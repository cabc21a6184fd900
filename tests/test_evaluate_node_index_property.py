"""The matcher's evaluator keeps, from one article to the next, each alias's members by term and each
clause's outcome in an article that holds none of its terms (`NodeIndex`). Whatever the query and
the occurrences, an evaluator with that index gives the outcome and the clause tree that one
evaluating every node afresh gives, in the first article that meets a clause and in later ones."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.match.evaluate import Evaluator, NodeIndex, clause_tree
from pipeline.match.query import QueryError, iter_terms, parse_query, resolve_aliases

TERMS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]
# Two members of @pair are one term spelt the same; @wide shares a term with @pair.
ALIASES, _ = resolve_aliases(
    {"pair": ["alpha", "bravo", "alpha"], "wide": ["bravo", "charlie", "delta", "echo"]}
)
TEXT = " ".join(TERMS * 3)

leaves = st.sampled_from([*TERMS, "@pair", "@wide"])
queries = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["AND", "OR", "NEAR/1", "NEAR/4"]), inner).map(
            lambda parts: f"({parts[0]} {parts[1]} {parts[2]})"
        ),
        st.tuples(inner, inner).map(lambda parts: f"({parts[0]} AND NOT {parts[1]})"),
        st.tuples(st.sampled_from(["title", "body"]), inner).map(lambda parts: f"{parts[0]}:({parts[1]})"),
    ),
    max_leaves=8,
)
# Where each of the text's 18 words may occur: a word's index in TEXT, in the title or the body.
placements = st.lists(st.tuples(st.sampled_from(["title", "body"]), st.integers(0, 17)), max_size=10)


def _occurrences(chosen: list[tuple[str, int]]) -> dict[str, dict[int, list[tuple[int, int]]]]:
    """Term id (a word's index in TERMS) -> its spans in each field, for the chosen words of TEXT."""
    spans = []
    start = 0
    for word in TEXT.split(" "):
        spans.append((TERMS.index(word), start, start + len(word)))
        start += len(word) + 1
    occurrences: dict[str, dict[int, list[tuple[int, int]]]] = {"title": {}, "body": {}}
    for field_name, index in sorted(set(chosen)):
        term_id, begin, end = spans[index]
        occurrences[field_name].setdefault(term_id, []).append((begin, end))
    return occurrences


@settings(max_examples=400, deadline=None)
@given(query=queries, articles=st.lists(placements, min_size=1, max_size=3))
def test_the_node_index_changes_no_outcome_and_no_clause(query: str, articles: list) -> None:
    try:
        tree = parse_query(query, ALIASES)
    except QueryError:
        return  # e.g. every branch under NOT: not a query the config accepts
    # Term ids by spelling, as the matcher gives one id to every node of the same term.
    term_ids = {id(term): TERMS.index(term.label) for term in iter_terms(tree)}
    index = NodeIndex(term_ids)
    texts = {"title": TEXT, "body": TEXT}
    for chosen in articles:
        occurrences = _occurrences(chosen)
        afresh = Evaluator(term_ids, occurrences, texts).evaluate(tree)
        indexed = Evaluator(term_ids, occurrences, texts, index=index).evaluate(tree)
        assert indexed == afresh
        assert clause_tree(indexed, index.absent_clauses) == clause_tree(afresh)
