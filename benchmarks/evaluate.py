"""Precision and recall of the shipped topics on the labelled evaluation set in tests/eval/.

    python -m benchmarks.evaluate                    # the shipped config/newswatch.yaml
    python -m benchmarks.evaluate --config my.yaml   # an edited watchlist, same articles

Prints one row per topic (true/false positives, false negatives, precision, recall) and every
article the topics get wrong, with the matcher's reasons. tests/test_eval_set.py fails unless
every shipped topic reaches precision 1.0 and recall >= 0.95.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline.config import load_config
from pipeline.extract import article_from_text
from pipeline.match import Matcher

ROOT = Path(__file__).resolve().parents[1]
EVAL_DIR = ROOT / "tests" / "eval"
SHIPPED_CONFIG = ROOT / "config" / "newswatch.yaml"


@dataclass
class TopicScore:
    topic: str
    true_positives: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    false_negatives: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        found = len(self.true_positives) + len(self.false_positives)
        return len(self.true_positives) / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = len(self.true_positives) + len(self.false_negatives)
        return len(self.true_positives) / wanted if wanted else 1.0


def load_labels(eval_dir: Path = EVAL_DIR) -> dict[str, list[str]]:
    labels = yaml.safe_load((eval_dir / "labels.yaml").read_text(encoding="utf-8"))
    articles = {path.name for path in (eval_dir / "articles").glob("*.txt")}
    if set(labels) != articles:
        raise ValueError(f"labels.yaml and articles/ disagree: {sorted(set(labels) ^ articles)}")
    return {name: list(topics or []) for name, topics in labels.items()}


def evaluate(matcher: Matcher, eval_dir: Path = EVAL_DIR) -> tuple[dict[str, TopicScore], dict[str, str]]:
    """Per-topic scores, and for every wrong call the matcher's explanation."""
    labels = load_labels(eval_dir)
    scores = {topic: TopicScore(topic) for topic in matcher.topics}
    why: dict[str, str] = {}
    for name, wanted in sorted(labels.items()):
        text = (eval_dir / "articles" / name).read_text(encoding="utf-8")
        article = article_from_text(text, name)
        for verdict in matcher.evaluate(article):
            score = scores[verdict.topic]
            expected = verdict.topic in wanted
            if verdict.matched and expected:
                score.true_positives.append(name)
            elif verdict.matched:
                score.false_positives.append(name)
                terms = ", ".join(dict.fromkeys(hit.term for hit in verdict.hits))
                why[f"{verdict.topic} {name}"] = f"false positive (score {verdict.score:g}; {terms})"
            elif expected:
                score.false_negatives.append(name)
                reasons = "; ".join(verdict.explanation.reasons_not_matched)
                why[f"{verdict.topic} {name}"] = f"missed: {reasons}"
    return scores, why


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default=str(SHIPPED_CONFIG))
    args = parser.parse_args(argv)
    config = load_config(args.config)
    scores, why = evaluate(Matcher.from_topics(config.topics, config.aliases))
    labels = load_labels()
    print(f"{len(labels)} labelled articles in {EVAL_DIR.relative_to(ROOT)}; config {args.config}")
    print(f"{'topic':26} {'positives':>9} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>9} {'recall':>7}")
    for score in scores.values():
        positives = sum(score.topic in topics for topics in labels.values())
        print(
            f"{score.topic:26} {positives:>9} {len(score.true_positives):>4} {len(score.false_positives):>4} "
            f"{len(score.false_negatives):>4} {score.precision:>9.3f} {score.recall:>7.3f}"
        )
    for key, reason in sorted(why.items()):
        print(f"  {key}: {reason}")


if __name__ == "__main__":
    main()
