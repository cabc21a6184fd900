"""How well the watchlists do on labelled articles: precision, recall and every mistake explained.

The label format is one JSON object a line (the format of `../shared/eval/items.jsonl`, and the
one analysts write for their own articles):

    {"id": "en-keen-sword-25", "title": "...", "body": "...", "lang": "en",
     "topics": ["us-japan-alliance"], "split": "dev"}

`topics` lists every topic that truly applies (`[]` marks a negative); `lang`, `split`, `hard`
and `why` are optional. Pure: the caller reads the file and prints the report.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from pipeline.models import Article, ExtractionMethod, Verdict

ALL_LANGUAGES = "all"


class LabelError(ValueError):
    """A label line that cannot be used; the message names the line and the key."""


@dataclass(frozen=True, slots=True)
class LabelledItem:
    id: str
    title: str
    body: str
    topics: frozenset[str]
    lang: str = "unknown"
    split: str | None = None
    hard: bool = False
    why: str = ""

    def article(self) -> Article:
        return Article(
            url=self.id,
            canonical_url=self.id,
            title=self.title,
            body=self.body,
            published=None,
            author=None,
            language=self.lang if self.lang != "unknown" else None,
            source=self.id,
            method=ExtractionMethod.PAGE,
        )


def parse_labels(lines: Iterable[str], source: str = "labels") -> list[LabelledItem]:
    """Every labelled item of a JSON-lines file; blank lines and `#` comments are skipped."""
    items: list[LabelledItem] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        where = f"{source}:{number}"
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as error:
            raise LabelError(f"{where}: not JSON: {error.msg} (column {error.colno})") from None
        if not isinstance(raw, dict):
            raise LabelError(f"{where}: expected a JSON object, got {type(raw).__name__}")
        items.append(_item(raw, where))
        if items[-1].id in seen:
            raise LabelError(f"{where}: id {items[-1].id!r} is used twice")
        seen.add(items[-1].id)
    return items


def _item(raw: dict[str, object], where: str) -> LabelledItem:
    def text(key: str, required: bool = True) -> str:
        value = raw.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise LabelError(f"{where}: '{key}' must be a non-empty string")
        return value

    topics = raw.get("topics")
    if not isinstance(topics, list) or not all(isinstance(topic, str) for topic in topics):
        raise LabelError(f"{where}: 'topics' must be a list of topic names ([] for a negative)")
    split = raw.get("split")
    if split is not None and not isinstance(split, str):
        raise LabelError(f"{where}: 'split' must be a string")
    return LabelledItem(
        id=text("id"),
        title=text("title"),
        body=text("body", required=False),
        topics=frozenset(topics),
        lang=text("lang", required=False) or "unknown",
        split=split,
        hard=bool(raw.get("hard", False)),
        why=text("why", required=False),
    )


@dataclass(frozen=True, slots=True)
class Score:
    """One topic on one language (or `all`)."""

    topic: str
    language: str
    positives: int
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.positives if self.positives else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "topic": self.topic,
            "language": self.language,
            "positives": self.positives,
            "tp": self.true_positives,
            "fp": self.false_positives,
            "fn": self.false_negatives,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass(frozen=True, slots=True)
class Mistake:
    topic: str
    kind: str  # "missed" or "false alarm"
    item: LabelledItem
    reason: str

    def to_json(self) -> dict[str, object]:
        return {
            "topic": self.topic,
            "kind": self.kind,
            "id": self.item.id,
            "language": self.item.lang,
            "hard": self.item.hard,
            "title": self.item.title,
            "reason": self.reason,
        }


@dataclass
class Report:
    scores: list[Score]
    mistakes: list[Mistake]
    items: int
    # Possible matches of the second tier (a model), per topic: caught misses and new false alarms.
    possible: dict[str, Score] = field(default_factory=dict)

    def below(self, min_precision: float | None, min_recall: float | None) -> list[str]:
        """Each (topic, language) under a threshold, in words."""
        failures = []
        for found in self.scores:
            if found.positives == 0 and found.false_positives == 0:
                continue
            where = f"{found.topic} ({found.language})"
            if min_precision is not None and found.precision < min_precision:
                failures.append(f"{where}: precision {found.precision:.2f} < {min_precision:.2f}")
            if min_recall is not None and found.positives and found.recall < min_recall:
                failures.append(f"{where}: recall {found.recall:.2f} < {min_recall:.2f}")
        return failures


Judge = Callable[[Article], Sequence[Verdict]]
# The second tier: given an article and the topics the rules matched, the possible matches.
Possible = Callable[[Article, set[str]], dict[str, float]]


def measure(
    evaluate: Judge, items: Sequence[LabelledItem], topics: Sequence[str], possible: Possible | None = None
) -> Report:
    """Score `topics` over `items`: `evaluate` gives every topic's verdict (matched or not)."""
    outcomes: list[tuple[LabelledItem, dict[str, Verdict]]] = []
    flagged: dict[str, dict[str, float]] = {}
    for item in items:
        article = item.article()
        verdicts = {verdict.topic: verdict for verdict in evaluate(article)}
        outcomes.append((item, verdicts))
        if possible is not None:
            matched = {topic for topic, verdict in verdicts.items() if verdict.matched}
            flagged[item.id] = possible(article, matched)
    languages = sorted({item.lang for item in items})
    scores: list[Score] = []
    mistakes: list[Mistake] = []
    for topic in topics:
        for language in [ALL_LANGUAGES, *languages]:
            tp = fp = fn = positives = 0
            for item, verdicts in outcomes:
                if language != ALL_LANGUAGES and item.lang != language:
                    continue
                wanted = topic in item.topics
                matched = verdicts[topic].matched
                positives += wanted
                tp += wanted and matched
                fp += matched and not wanted
                fn += wanted and not matched
                if language == ALL_LANGUAGES and wanted != matched:
                    mistakes.append(_mistake(topic, item, verdicts[topic]))
            scores.append(Score(topic, language, positives, tp, fp, fn))
    report = Report(scores, mistakes, len(items))
    if possible is not None:
        _add_possible(report, outcomes, flagged, topics)
    return report


def _add_possible(
    report: Report,
    outcomes: list[tuple[LabelledItem, dict[str, Verdict]]],
    flagged: dict[str, dict[str, float]],
    topics: Sequence[str],
) -> None:
    """Rules and possible matches together, per topic; and each possible match as a note."""
    for topic in topics:
        tp = fp = fn = positives = 0
        for item, verdicts in outcomes:
            wanted = topic in item.topics
            found = verdicts[topic].matched or topic in flagged[item.id]
            positives += wanted
            tp += wanted and found
            fp += found and not wanted
            fn += wanted and not found
            if topic in flagged[item.id]:
                kind = "possible, right" if wanted else "possible, wrong"
                reason = f"model probability {flagged[item.id][topic]:.2f}"
                report.mistakes.append(Mistake(topic, kind, item, reason))
        report.possible[topic] = Score(topic, ALL_LANGUAGES, positives, tp, fp, fn)


def _mistake(topic: str, item: LabelledItem, verdict: Verdict) -> Mistake:
    if verdict.matched:
        terms = ", ".join(dict.fromkeys(hit.term for hit in verdict.hits))
        return Mistake(topic, "false alarm", item, f"matched with score {verdict.score:g}: {terms}")
    reasons = list(verdict.explanation.reasons_not_matched) or ["no reason given"]
    return Mistake(topic, "missed", item, "why not: " + "; ".join(str(reason) for reason in reasons))


def _row(found: Score) -> str:
    return (
        f"{found.topic:24} {found.language:>4} {found.positives:>4} {found.true_positives:>4} "
        f"{found.false_positives:>4} {found.false_negatives:>4} {found.precision:>6.2f} "
        f"{found.recall:>6.2f} {found.f1:>6.2f}"
    )


def format_report(report: Report, *, source: str, split: str | None) -> str:
    """The report as an analyst reads it: a table, then every mistake with its reason."""
    lines = [
        f"{report.items} labelled items from {source}" + (f" (split {split})" if split else ""),
        "",
        f"{'topic':24} {'lang':>4} {'pos':>4} {'TP':>4} {'FP':>4} {'FN':>4} "
        f"{'prec':>6} {'recall':>6} {'F1':>6}",
    ]
    for found in report.scores:
        lines.append(_row(found))
    if report.possible:
        lines.append("")
        lines.append("rules and the model's possible matches together (possible matches never alert):")
        for found in report.possible.values():
            lines.append(_row(found))
    headings = {
        "false alarm": "false alarms",
        "missed": "misses",
        "possible, right": "possible matches the rules missed, rightly",
        "possible, wrong": "possible matches that are wrong",
    }
    for kind, heading in headings.items():
        chosen = [mistake for mistake in report.mistakes if mistake.kind == kind]
        if kind.startswith("possible") and not report.possible:
            continue
        lines.append("")
        lines.append(f"{heading}: {len(chosen)}" if chosen else f"{heading}: none")
        for mistake in chosen:
            hard = " (hard)" if mistake.item.hard else ""
            lines.append(f"  {mistake.topic}  {mistake.item.id}{hard}: {mistake.item.title}")
            lines.append(f"      {mistake.reason}")
    return "\n".join(lines)
