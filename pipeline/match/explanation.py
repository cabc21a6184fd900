"""Why an article did or did not match a topic: the typed explanation, and its one plain-text rendering.

match/ is the only producer (`build_verdict`); everything else reads these values. JSON exists only at
the edges (the store's column, the webhook body, `newswatch match --json`): `to_json` / `from_json`.

`to_json` and `from_json` walk the dataclass fields, so adding a field to `Explanation` (a new score
figure, say) is one line here, with a default so that explanations stored before it still load.
`from_json` also reads the two older stored shapes: the untyped dict of clause trees that came
before `format_version`, and the oldest `all` / `any` / `none` lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from pipeline.models import Hit, SnippetSegment

FORMAT_VERSION = 2
# The clause text shown for explanations stored as all/any/none lists, which had no query text.
_LEGACY_QUERY = "(stored before clause trees were kept)"


@dataclass(frozen=True, slots=True)
class Clause:
    """One part of the query and what it found in the article.

    `terms` and `count`: for a term or an alias, the terms found and how often; for a NOT, the terms
    whose absence it requires that are present (so empty when the NOT holds); for the other
    operators, `count` is the number of hits that make the clause true.
    """

    clause: str
    op: str  # term, alias, and, or, not, near, field
    matched: bool
    terms: tuple[str, ...] = ()
    count: int = 0
    distance: int | None = None  # NEAR: at most this many words apart
    field: str | None = None  # a field scope: title or body
    children: tuple[Clause, ...] = ()

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "clause": self.clause,
            "op": self.op,
            "matched": self.matched,
            "terms": list(self.terms),
            "count": self.count,
        }
        if self.distance is not None:
            document["distance"] = self.distance
        if self.field is not None:
            document["field"] = self.field
        if self.children:
            document["children"] = [child.to_json() for child in self.children]
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Clause:
        count = document.get("count")
        return cls(
            clause=str(document.get("clause", "?")),
            op=str(document.get("op", "term")),
            matched=bool(document.get("matched")),
            terms=tuple(str(term) for term in document.get("terms") or ()),
            count=count if isinstance(count, int) else 0,
            distance=document.get("distance"),
            field=document.get("field"),
            children=tuple(
                cls.from_json(child) for child in document.get("children") or () if isinstance(child, Mapping)
            ),
        )


@dataclass(frozen=True, slots=True)
class Explanation:
    query: str
    clauses: Clause | None
    # Every counted mention, title first, in text order (offsets into the original article text).
    hits: tuple[Hit, ...] = ()
    score: float = 0.0
    min_score: float = 0.0
    # What the decision rests on: the score this article's length needs, its words and paragraphs
    # (a topic confined to one paragraph of several, away from the title and lead, is a passing mention).
    required_score: float = 0.0
    words: int = 0
    paragraphs: int = 0
    paragraphs_with_hits: int = 0
    reasons_not_matched: tuple[str, ...] = ()
    snippet: tuple[SnippetSegment, ...] = ()
    format_version: int = FORMAT_VERSION

    @property
    def matched(self) -> bool:
        return not self.reasons_not_matched

    @property
    def matched_terms(self) -> list[str]:
        """The distinct terms (as the operator wrote them) behind the hits, in order of appearance."""
        return list(dict.fromkeys(hit.term for hit in self.hits))

    def to_json(self) -> dict[str, Any]:
        # Every field in declaration order, through its own writer (`_WRITERS`) or `_jsonable`: the
        # daemon stores the JSON of every match, so the fields are not looked up again each time.
        return {name: write(getattr(self, name)) for name, write in _FIELD_WRITERS}

    @classmethod
    def from_json(cls, document: Mapping[str, Any] | None) -> Explanation:
        """Any explanation newswatch ever stored, typed; unreadable parts are left out, not fatal."""
        document = document or {}
        if "clauses" not in document and any(key in document for key in ("all", "any", "none")):
            return _from_lists(document)
        readers = {
            "clauses": lambda value: Clause.from_json(value) if isinstance(value, Mapping) else None,
            "hits": _hits,
            "reasons_not_matched": lambda value: tuple(str(reason) for reason in value or ()),
            "snippet": _snippet,
            "query": lambda value: str(value or ""),
            "score": _number,
            "min_score": _number,
            "required_score": _number,
            "words": _count,
            "paragraphs": _count,
            "paragraphs_with_hits": _count,
        }
        known = {
            spec.name: readers.get(spec.name, _same)(document[spec.name])
            for spec in fields(cls)
            if spec.name in document
        }
        # Stored before the format was versioned: version 1.
        known.setdefault("format_version", 1)
        known.setdefault("query", "")
        known.setdefault("clauses", None)
        return cls(**known)


def _same(value: Any) -> Any:
    return value


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _count(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _jsonable(value: Any) -> Any:
    if isinstance(value, Clause):
        return value.to_json()
    if isinstance(value, Hit):
        return _hit_json(value)
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    return value


def _hit_json(hit: Hit) -> dict[str, Any]:
    return {"field": hit.field, "term": hit.term, "start": hit.start, "end": hit.end, "text": hit.text}


# How `Explanation.to_json` writes its larger fields, without `_jsonable`'s checks on every hit and
# snippet piece (and the snippet once, not as lists and then again as objects); any other field
# goes through `_jsonable`, so a new one needs no line here.
_WRITERS: dict[str, Any] = {
    "clauses": lambda clauses: None if clauses is None else clauses.to_json(),
    "hits": lambda hits: [_hit_json(hit) for hit in hits],
    "reasons_not_matched": list,
    # Pieces as objects, as the webhook payload's top-level snippet has them.
    "snippet": lambda snippet: [{"text": text, "hit": flagged} for text, flagged in snippet],
}
_FIELD_WRITERS = tuple((spec.name, _WRITERS.get(spec.name, _jsonable)) for spec in fields(Explanation))


def _hits(value: Any) -> tuple[Hit, ...]:
    found = []
    for item in value if isinstance(value, list | tuple) else ():
        if not (isinstance(item, Mapping) and item.get("term")):
            continue
        try:
            start, end = int(item.get("start", 0)), int(item.get("end", 0))
        except (TypeError, ValueError):
            continue  # a hit without usable offsets says nothing a renderer can use
        found.append(
            Hit(str(item.get("field", "body")), start, end, str(item["term"]), str(item.get("text", "")))
        )
    return tuple(found)


def _snippet(value: Any) -> tuple[SnippetSegment, ...]:
    pieces = []
    for item in value if isinstance(value, list | tuple) else ():
        if isinstance(item, Mapping):
            pieces.append((str(item.get("text", "")), bool(item.get("hit"))))
        elif isinstance(item, list | tuple) and len(item) == 2:
            pieces.append((str(item[0]), bool(item[1])))
    return tuple(pieces)


def _from_lists(document: Mapping[str, Any]) -> Explanation:
    """The oldest shape: `all` clauses that must hold, `any` of which one must, `none` that must not.

    Its entries say whether their term was found, so a NOT holds when its entry did not match.
    """

    def entries(name: str) -> list[Mapping[str, Any]]:
        return [entry for entry in document.get(name) or () if isinstance(entry, Mapping)]

    def leaf(entry: Mapping[str, Any], negated: bool = False) -> Clause:
        found = Clause.from_json({**entry, "op": "term"})
        if not negated:
            return found
        return Clause(
            f"NOT {found.clause}", "not", not found.matched, found.terms, found.count, children=(found,)
        )

    children = [leaf(entry) for entry in entries("all")]
    alternatives = [leaf(entry) for entry in entries("any")]
    if alternatives:
        children.append(
            Clause(
                " OR ".join(child.clause for child in alternatives),
                "or",
                any(child.matched for child in alternatives),
                children=tuple(alternatives),
            )
        )
    children += [leaf(entry, negated=True) for entry in entries("none")]
    root = Clause(_LEGACY_QUERY, "and", all(child.matched for child in children), children=tuple(children))
    return Explanation(
        query=_LEGACY_QUERY,
        clauses=root if children else None,
        hits=_hits(document.get("hits")),
        score=_number(document.get("score")),
        min_score=_number(document.get("min_score")),
        reasons_not_matched=tuple(str(reason) for reason in document.get("reasons_not_matched") or ()),
        format_version=0,
    )


# --- the plain-text rendering (newswatch match, emails, digests, Apprise, the console) -----------


def _mentions(count: int) -> str:
    return f"{count} mention{'' if count == 1 else 's'}"


def _hits_count(count: int) -> str:
    return f"{count} hit{'' if count == 1 else 's'}"


# A clause whose parts are listed under it is named by its opening, up to this many characters: the
# parts spell out the rest (the query's own line gives it whole).
CLAUSE_TEXT_LIMIT = 100
# The operators whose parts a rendering lists under them (a term, an alias or a NOT is one line).
_COMPOSITE = ("and", "or", "near", "field")


def clause_line(clause: Clause) -> str:
    """One clause on one line: yes/no, the clause as written, and what it found."""
    mark = "yes" if clause.matched else "no "
    text = f"{mark} {_clause_text(clause)}"
    if clause.op in ("term", "alias"):
        if not clause.terms:
            return f"{text}: not found"
        if clause.terms == (clause.clause,):  # a plain term: naming it again says nothing
            return f"{text} ({_mentions(clause.count)})"
        return f"{text}: {', '.join(clause.terms)} ({_mentions(clause.count)})"
    if clause.op == "not":
        # The NOT names what must be absent: say whether it was, and what was found if not.
        if clause.matched:
            return f"{text}: absent, as required"
        return f"{text}: present: {', '.join(clause.terms) or '?'} ({_mentions(clause.count)})"
    if _found_nothing(clause):
        return f"{text}: not found"
    if clause.op == "near" and clause.distance is not None:
        text += f" (within {clause.distance} words"
        return text + (f", {_hits_count(clause.count)})" if clause.count else ")")
    if clause.op == "field" and clause.field:
        text += f" (in the {clause.field}"
        return text + (f", {_hits_count(clause.count)})" if clause.count else ")")
    return text + (f" ({_hits_count(clause.count)})" if clause.count else "")


def short_clause_text(clause: Clause, limit: int = CLAUSE_TEXT_LIMIT) -> str:
    """The clause as written, on one line and cut to `limit` characters (a query spans lines)."""
    text = " ".join(clause.clause.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clause_text(clause: Clause) -> str:
    return short_clause_text(clause) if clause.op in _COMPOSITE else clause.clause


def _found_anything(clause: Clause) -> bool:
    """Did any part of the clause find a term in the article?"""
    return bool(clause.terms or clause.count) or any(_found_anything(child) for child in clause.children)


def _found_nothing(clause: Clause) -> bool:
    """A clause that failed with nothing found in any of its parts (each part would read "not found")."""
    return bool(clause.children) and not clause.matched and not _found_anything(clause)


def shown_parts(clause: Clause) -> tuple[tuple[Clause, ...], str | None]:
    """The parts a rendering lists under a clause, and a line for the ones it leaves out.

    A shipped watchlist is a query of hundreds of clauses, and an explanation that lists them all
    buries the few that decided (a thousand lines for one match). So: the path that matched in
    full, and what was found on the way to a miss. A matching OR lists the alternatives that held;
    an OR that failed, those that found something; an AND, a NEAR or a field scope, every part (each
    had to hold). A failed clause in which nothing at all was found is one line ("not found").
    The stored explanation (the JSON of the API, webhooks and `--json`) keeps every clause.
    """
    if clause.op not in _COMPOSITE or _found_nothing(clause):
        return (), None
    if clause.op != "or":
        return clause.children, None
    if clause.matched:
        shown = tuple(child for child in clause.children if child.matched)
        left_out = "that did not hold"
    else:
        shown = tuple(child for child in clause.children if _found_anything(child))
        left_out = "that found nothing"
    listed = {id(child) for child in shown}
    hidden = [child for child in clause.children if id(child) not in listed]
    if not hidden:
        return shown, None
    line = f"(and {len(hidden)} more alternative{'' if len(hidden) == 1 else 's'} {left_out}"
    # A few short ones are named; a long list would bring back what this leaves out.
    names = ", ".join(_clause_text(child) for child in hidden)
    return shown, f"{line}: {names})" if len(names) <= CLAUSE_TEXT_LIMIT else f"{line})"


def clause_lines(clause: Clause, depth: int = 0, indent: str = "    ") -> list[str]:
    """The clause tree, one indented line per clause shown (`shown_parts`)."""
    lines = [f"{indent * depth}{clause_line(clause)}"]
    parts, left_out = shown_parts(clause)
    for child in parts:
        lines.extend(clause_lines(child, depth + 1, indent))
    if left_out is not None:
        lines.append(f"{indent * (depth + 1)}{left_out}")
    return lines


def plain_snippet(snippet: Iterable[SnippetSegment]) -> str:
    """The passage with each hit in [brackets]."""
    return "".join(f"[{text}]" if flagged else text for text, flagged in snippet)


def explanation_lines(
    explanation: Explanation, snippet: Sequence[SnippetSegment] | None = None, indent: str = "    "
) -> list[str]:
    """The whole explanation as plain-text lines: query, clause tree, score, reasons, snippet.

    `snippet` stands in for an explanation stored without one (before it carried its own).
    """
    lines = [f"query: {explanation.query}"] if explanation.query else []
    if explanation.clauses is not None:
        lines += clause_lines(explanation.clauses, 0, indent)
    if explanation.words:
        # What the score was measured against: the minimum scales with the article's length.
        lines.append(
            f"score {explanation.score:g}, {explanation.required_score:g} needed for {explanation.words} "
            f"words (min_score {explanation.min_score:g} at 300 words); hits in "
            f"{explanation.paragraphs_with_hits} of {explanation.paragraphs} paragraphs"
        )
    else:
        lines.append(f"score {explanation.score:g} (minimum {explanation.min_score:g})")
    lines += [f"why not: {reason}" for reason in explanation.reasons_not_matched]
    passage = plain_snippet(explanation.snippet or snippet or ())
    if passage:
        lines.append(f"snippet: {passage}")
    return lines
