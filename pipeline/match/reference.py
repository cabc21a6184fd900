"""The naive way to match: every topic's term regexes searched over the whole article.

Kept for two jobs: the oracle the compiled matcher is tested against (both must
give the same verdicts on every article), and the baseline `benchmarks/matcher.py`
measures the compiled matcher against. It shares the compiled matcher's term
regexes and tree evaluation, but none of its pre-filtering or sharing between topics.
"""

from __future__ import annotations

from pipeline.match.evaluate import Evaluator
from pipeline.match.japanese import words_of
from pipeline.match.matcher import FieldOccurrences, Matcher, ScannedArticle, build_verdict, keep_leftmost
from pipeline.match.normalize import normalise
from pipeline.match.query import iter_terms
from pipeline.models import Article, Verdict


class NaiveMatcher:
    def __init__(self, compiled: Matcher) -> None:
        self.compiled = compiled

    def evaluate(self, article: Article) -> list[Verdict]:
        fields = {"title": normalise(article.title), "body": normalise(article.body)}
        texts = {name: folded.text for name, folded in fields.items()}
        words = {name: words_of(text) for name, text in texts.items()}
        verdicts = []
        for topic in self.compiled.topics.values():
            occurrences: dict[str, dict[int, list[tuple[int, int]]]] = {name: {} for name in fields}
            for node in iter_terms(topic.tree):
                term = self.compiled.terms[self.compiled.term_ids[node.spec]]
                for field_name, folded in fields.items():
                    if term.term_id in occurrences[field_name]:
                        continue
                    original = article.title if field_name == "title" else article.body
                    spans = keep_leftmost([hit.span() for hit in term.pattern.finditer(folded.text)])
                    if term.spec.case_letters is not None:
                        spans = [
                            span
                            for span in spans
                            if term.case_agrees(original.__getitem__(slice(*folded.original_span(*span))))
                        ]
                    edged = term.spec.tokens[0].cjk or term.spec.tokens[-1].cjk
                    found_words = words[field_name]
                    if edged and found_words is not None:
                        spans = [span for span in spans if found_words.accepts(folded.text, *span)]
                    if spans:
                        occurrences[field_name][term.term_id] = spans
            scanned = ScannedArticle(
                article,
                fields,
                {name: FieldOccurrences(set(found), [], found) for name, found in occurrences.items()},
                words,
            )
            outcome = Evaluator(self.compiled.node_term_ids, occurrences, texts, words).evaluate(topic.tree)
            verdicts.append(build_verdict(topic, scanned, outcome))
        return verdicts

    def match(self, article: Article) -> list[Verdict]:
        return [verdict for verdict in self.evaluate(article) if verdict.matched]
