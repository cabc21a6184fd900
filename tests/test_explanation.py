"""The typed explanation: made by the real matcher, the same after a trip through JSON, and able to
read every shape newswatch has stored before."""

from __future__ import annotations

import json

from pipeline.match.explanation import (
    CLAUSE_TEXT_LIMIT,
    FORMAT_VERSION,
    Clause,
    Explanation,
    clause_lines,
    explanation_lines,
)
from tests.support.alerts import article, matcher_for, verdict


def test_a_real_explanation_survives_json_unchanged() -> None:
    explanation = verdict("usfj").explanation
    document = json.loads(json.dumps(explanation.to_json()))
    assert Explanation.from_json(document) == explanation
    assert document["format_version"] == FORMAT_VERSION
    assert document["snippet"][0] == {"text": explanation.snippet[0][0], "hit": explanation.snippet[0][1]}
    assert explanation.matched_terms[:2] == ["USFJ", "reorgani*"]


def test_reads_the_untyped_clause_tree_stored_before_format_version() -> None:
    # What `build_verdict` stored before the explanation was typed (no format_version, no snippet).
    stored = {
        "query": "USFJ NOT USFK",
        "clauses": {
            "clause": "USFJ NOT USFK",
            "op": "and",
            "matched": False,
            "count": 0,
            "children": [
                {"clause": "USFJ", "op": "term", "matched": True, "terms": ["USFJ"], "count": 2},
                {
                    "clause": "NOT USFK",
                    "op": "not",
                    "matched": False,
                    "terms": ["USFK"],
                    "count": 1,
                    "children": [
                        {"clause": "USFK", "op": "term", "matched": True, "terms": ["USFK"], "count": 1}
                    ],
                },
            ],
        },
        "hits": [],
        "score": 0,
        "min_score": 1.0,
        "reasons_not_matched": ["excluded term present: USFK"],
    }
    explanation = Explanation.from_json(stored)
    assert explanation.format_version == 1 and explanation.snippet == ()
    assert explanation_lines(explanation) == [
        "query: USFJ NOT USFK",
        "no  USFJ NOT USFK",
        "    yes USFJ (2 mentions)",
        "    no  NOT USFK: present: USFK (1 mention)",
        "score 0 (minimum 1)",
        "why not: excluded term present: USFK",
    ]


def test_reads_the_oldest_all_any_none_lists_as_a_tree() -> None:
    stored = {
        "all": [{"clause": "@usfj", "matched": True, "terms": ["USFJ"], "count": 2}],
        "any": [{"clause": "upgrade", "matched": False, "terms": [], "count": 0}],
        "none": [{"clause": "U.S. Forces Korea", "matched": False, "terms": [], "count": 0}],
        "hits": [{"field": "body", "term": "USFJ", "start": 19, "end": 23, "text": "USFJ"}],
        "min_score": 1.0,
    }
    explanation = Explanation.from_json(stored)
    assert explanation.format_version == 0
    assert [hit.text for hit in explanation.hits] == ["USFJ"]
    lines = explanation_lines(explanation, snippet=[("the ", False), ("USFJ", True)])
    assert "    yes @usfj: USFJ (2 mentions)" in lines
    # The `any` list became an OR; it found nothing, so its one alternative is not listed under it.
    assert "    no  upgrade: not found" in lines
    assert not any(line.startswith("        ") for line in lines)
    assert "    yes NOT U.S. Forces Korea: absent, as required" in lines
    assert lines[-1] == "snippet: the [USFJ]"


def test_tolerates_what_it_cannot_read() -> None:
    broken_hit = {"term": "USFJ", "start": "x", "end": None}
    for stored in (None, {}, {"hits": "nonsense", "clauses": 3, "snippet": [1, 2]}, {"hits": [broken_hit]}):
        explanation = Explanation.from_json(stored)  # type: ignore[arg-type]
        assert explanation.clauses is None and explanation.hits == ()
        assert explanation_lines(explanation) == ["score 0 (minimum 0)"]


def test_a_not_that_fails_names_the_excluded_terms_found() -> None:
    body = "USFJ plans a reorganisation, and so does U.S. Forces Korea."
    (found,) = matcher_for().evaluate(article(1, body=body), ["usfj"])
    assert not found.matched
    lines = explanation_lines(found.explanation)
    assert '    no  NOT "U.S. Forces Korea": present: "U.S. Forces Korea" (1 mention)' in lines
    assert 'why not: excluded term present: "U.S. Forces Korea"' in lines


def _term(text: str, found: int) -> Clause:
    return Clause(text, "term", found > 0, (text,) if found else (), found)


def test_the_text_tree_lists_the_path_that_decided_and_counts_the_rest() -> None:
    held, partly, empty = _term("USFJ", 2), _term("upgrade", 1), _term("Kadena", 0)
    near_partly = Clause(
        "upgrade NEAR/3 Kadena", "near", False, count=0, distance=3, children=(partly, empty)
    )
    nothing = Clause("(Kadena AND Okinawa)", "and", False, children=(empty, _term("Okinawa", 0)))
    matched_or = Clause("USFJ OR ...", "or", True, count=2, children=(held, near_partly, nothing))
    assert clause_lines(matched_or) == [
        "yes USFJ OR ... (2 hits)",
        "    yes USFJ (2 mentions)",
        "    (and 2 more alternatives that did not hold: upgrade NEAR/3 Kadena, (Kadena AND Okinawa))",
    ]
    failed_or = Clause("upgrade NEAR/3 Kadena OR ...", "or", False, children=(near_partly, nothing))
    assert clause_lines(failed_or) == [
        "no  upgrade NEAR/3 Kadena OR ...",
        "    no  upgrade NEAR/3 Kadena (within 3 words)",
        "        yes upgrade (1 mention)",
        "        no  Kadena: not found",
        "    (and 1 more alternative that found nothing: (Kadena AND Okinawa))",
    ]
    # Alternatives too long to name in one line are counted.
    many = tuple(_term(f"base number {number}", 0) for number in range(12))
    assert clause_lines(Clause("USFJ OR ...", "or", True, count=2, children=(held, *many)))[2:] == [
        "    (and 12 more alternatives that did not hold)"
    ]
    # Every part of an AND had to hold: all are listed, the one that found nothing on one line.
    long_text = "(USFJ\n AND " + " OR ".join(f"term{number}" for number in range(30)) + ")"
    failed_and = Clause(long_text, "and", False, children=(held, nothing))
    lines = clause_lines(failed_and)
    assert lines[1:] == ["    yes USFJ (2 mentions)", "    no  (Kadena AND Okinawa): not found"]
    # A composite clause is named by its opening on one line; its parts spell out the rest.
    assert lines[0].startswith("no  (USFJ AND term0 OR term1") and lines[0].endswith("…")
    assert len(lines[0]) == len("no  ") + CLAUSE_TEXT_LIMIT
