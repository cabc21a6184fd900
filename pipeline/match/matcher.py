"""Watchlist matching (v1): all/any/none term lists, whole-word, explained.

Topics are compiled once from the config; `Matcher.evaluate` is pure and
touches neither the network nor the store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pipeline.config import TopicConfig
from pipeline.match.normalize import NormalisedText, is_cjk, normalise, normalise_term
from pipeline.match.snippet import build_snippet
from pipeline.models import Article, Hit, Verdict

FIELD_WEIGHTS = {"title": 3.0, "body": 1.0}


@dataclass(frozen=True, slots=True)
class CompiledTerm:
    source: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class TermGroup:
    """Satisfied when any of its terms occurs. A plain term is a group of one; an @alias is its set."""

    label: str
    terms: tuple[CompiledTerm, ...]


@dataclass(frozen=True, slots=True)
class CompiledTopic:
    name: str
    all_groups: tuple[TermGroup, ...]
    any_groups: tuple[TermGroup, ...]
    none_groups: tuple[TermGroup, ...]
    min_score: float


def compile_term(term: str) -> CompiledTerm:
    """A term or phrase as a regex over normalised text.

    Words must stand whole (so "USFJ" does not fire inside "USFJX"), except next
    to CJK characters, which have no spaces to mark word edges. A trailing `*`
    is a prefix wildcard. Spaces and hyphens between words are interchangeable,
    because "joint-force" and "joint force" are the same phrase to a reader.
    """
    normalised = normalise_term(term)
    prefix = normalised.endswith("*")
    normalised = normalised.rstrip("*").strip()
    tokens = [token for token in re.split(r"[\s-]+", normalised) if token]
    body = r"[\s-]+".join(re.escape(token) for token in tokens)
    if prefix:
        body += r"\w*"
    left = r"(?<!\w)" if normalised and (normalised[0].isalnum() and not is_cjk(normalised[0])) else ""
    right = (
        r"(?!\w)"
        if not prefix and normalised and (normalised[-1].isalnum() and not is_cjk(normalised[-1]))
        else ""
    )
    return CompiledTerm(source=term, pattern=re.compile(left + body + right))


def _compile_groups(entries: Iterable[str], aliases: Mapping[str, Sequence[str]]) -> tuple[TermGroup, ...]:
    groups = []
    for entry in entries:
        if entry.startswith("@"):
            members = aliases[entry[1:]]
            groups.append(TermGroup(entry, tuple(compile_term(member) for member in members)))
        else:
            groups.append(TermGroup(entry, (compile_term(entry),)))
    return tuple(groups)


def _find_hits(group: TermGroup, fields: Mapping[str, tuple[str, NormalisedText]]) -> list[Hit]:
    hits = []
    for term in group.terms:
        for field_name, (original, normalised) in fields.items():
            for found in term.pattern.finditer(normalised.text):
                start, end = normalised.original_span(found.start(), found.end())
                hits.append(Hit(field_name, start, end, term.source, original[start:end]))
    return hits


def _group_report(group: TermGroup, hits: list[Hit]) -> dict[str, object]:
    return {
        "clause": group.label,
        "matched": bool(hits),
        "terms": sorted({hit.term for hit in hits}),
        "count": len(hits),
    }


class Matcher:
    def __init__(self, topics: Sequence[CompiledTopic]) -> None:
        self.topics = {topic.name: topic for topic in topics}

    @classmethod
    def from_topics(cls, topics: Mapping[str, TopicConfig], aliases: Mapping[str, Sequence[str]]) -> Matcher:
        return cls(
            [
                CompiledTopic(
                    name=name,
                    all_groups=_compile_groups(topic.all, aliases),
                    any_groups=_compile_groups(topic.any, aliases),
                    none_groups=_compile_groups(topic.none, aliases),
                    min_score=topic.min_score,
                )
                for name, topic in topics.items()
            ]
        )

    def evaluate(self, article: Article, topic_names: Iterable[str] | None = None) -> list[Verdict]:
        fields = {
            "title": (article.title, normalise(article.title)),
            "body": (article.body, normalise(article.body)),
        }
        names = list(topic_names) if topic_names is not None else list(self.topics)
        return [self._evaluate_topic(self.topics[name], article, fields) for name in names]

    def match(self, article: Article) -> list[Verdict]:
        return [verdict for verdict in self.evaluate(article) if verdict.matched]

    def _evaluate_topic(
        self, topic: CompiledTopic, article: Article, fields: Mapping[str, tuple[str, NormalisedText]]
    ) -> Verdict:
        all_hits = [_find_hits(group, fields) for group in topic.all_groups]
        any_hits = [_find_hits(group, fields) for group in topic.any_groups]
        none_hits = [_find_hits(group, fields) for group in topic.none_groups]
        positive = [hit for hits in all_hits + any_hits for hit in hits]
        score = sum(FIELD_WEIGHTS[hit.field] for hit in positive)
        reasons = []
        if not all(all_hits):
            missing = [
                group.label for group, hits in zip(topic.all_groups, all_hits, strict=True) if not hits
            ]
            reasons.append(f"missing required: {', '.join(missing)}")
        if topic.any_groups and not any(any_hits):
            reasons.append("none of the 'any' terms occur")
        excluded = [group.label for group, hits in zip(topic.none_groups, none_hits, strict=True) if hits]
        if excluded:
            reasons.append(f"excluded term present: {', '.join(excluded)}")
        if not reasons and score < topic.min_score:
            reasons.append(f"score {score:g} is below the topic's minimum {topic.min_score:g}")
        explanation = {
            "all": [_group_report(g, h) for g, h in zip(topic.all_groups, all_hits, strict=True)],
            "any": [_group_report(g, h) for g, h in zip(topic.any_groups, any_hits, strict=True)],
            "none": [_group_report(g, h) for g, h in zip(topic.none_groups, none_hits, strict=True)],
            "hits": [
                {"field": hit.field, "term": hit.term, "start": hit.start, "end": hit.end, "text": hit.text}
                for hit in sorted(positive, key=lambda hit: (hit.field != "title", hit.start))
            ],
            "min_score": topic.min_score,
            "reasons_not_matched": reasons,
        }
        return Verdict(
            topic=topic.name,
            matched=not reasons,
            score=score,
            hits=positive,
            explanation=explanation,
            snippet=build_snippet(article.body, [hit for hit in positive if hit.field == "body"])
            or build_snippet(article.title, [hit for hit in positive if hit.field == "title"]),
        )
