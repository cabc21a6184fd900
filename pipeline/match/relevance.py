"""The second tier: a per-topic relevance model that flags "possible matches" the rules missed.

It never raises an alert on its own. It is trained only on labelled items (the `eval` label
format: the shared set's `dev` split, later an analyst's own judgements), one scikit-learn
logistic regression per topic over character n-grams of the title (twice, so it weighs more)
and the body. Character n-grams need no word segmentation, so one model reads English and
Japanese alike.

The threshold of each topic is chosen by cross-validation on the training items alone: the
lowest probability at which, among the items the rules missed, the model's possible matches
are right at least `target_precision` of the time. Nothing is tuned on the items it is
measured on.

scikit-learn is imported only here, and only when a model is trained or loaded: the daemon
and the CLI pay nothing for it when no model is configured.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.match.quality import LabelledItem
from pipeline.models import Article

FORMAT = "newswatch-relevance/1"
MAX_FEATURES = 40_000
THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


def model_text(title: str, body: str) -> str:
    return f"{title}\n{title}\n{body}"


def _pipeline() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2, max_features=MAX_FEATURES
        ),
        LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000),
    )


@dataclass(frozen=True)
class TopicModel:
    topic: str
    threshold: float
    classifier: Any  # a fitted scikit-learn pipeline
    # Cross-validated on the training items: how many rule misses it caught, and at what cost.
    cv_caught: int
    cv_missed_by_rules: int
    cv_false_possibles: int


@dataclass(frozen=True)
class RelevanceModel:
    topics: dict[str, TopicModel]
    trained_on: int

    def probabilities(self, article: Article) -> dict[str, float]:
        text = model_text(article.title, article.body)
        return {
            name: float(model.classifier.predict_proba([text])[0][1]) for name, model in self.topics.items()
        }

    def possible(self, article: Article, matched: set[str]) -> dict[str, float]:
        """Topics the rules did not match but the model finds likely, with the probability."""
        found = {}
        for name, probability in self.probabilities(article).items():
            if name not in matched and probability >= self.topics[name].threshold:
                found[name] = probability
        return found

    def save(self, path: Path) -> None:
        buffer = io.BytesIO()
        pickle.dump({"format": FORMAT, "model": self}, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        path.write_bytes(buffer.getvalue())


class ModelError(ValueError):
    pass


def load_model(path: Path) -> RelevanceModel:
    """A model written by `newswatch model train` (a pickle: load only files you made yourself)."""
    try:
        document = pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ModuleNotFoundError) as error:
        raise ModelError(f"cannot load the relevance model {path}: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelError(f"{path} is not a newswatch relevance model ({FORMAT})")
    return document["model"]


RulesJudge = Callable[[LabelledItem], set[str]]


def train(
    items: Sequence[LabelledItem],
    topics: Sequence[str],
    rules: RulesJudge,
    *,
    target_precision: float = 0.67,
    folds: int = 5,
) -> RelevanceModel:
    """One model per topic, its threshold chosen by `folds`-fold cross-validation on `items`."""
    from sklearn.model_selection import StratifiedKFold

    texts = [model_text(item.title, item.body) for item in items]
    matched_by_rules = [rules(item) for item in items]
    models: dict[str, TopicModel] = {}
    for topic in topics:
        wanted = [topic in item.topics for item in items]
        if sum(wanted) < folds or len(wanted) - sum(wanted) < folds:
            continue  # too few examples of one side to learn or to measure anything
        held_out = [0.0] * len(items)
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
        for train_index, test_index in splitter.split(texts, wanted):
            classifier = _pipeline().fit([texts[i] for i in train_index], [wanted[i] for i in train_index])
            probabilities = classifier.predict_proba([texts[i] for i in test_index])[:, 1]
            for index, probability in zip(test_index, probabilities, strict=True):
                held_out[index] = float(probability)
        missed = [index for index, want in enumerate(wanted) if topic not in matched_by_rules[index]]
        threshold, caught, false = _threshold(missed, wanted, held_out, target_precision)
        classifier = _pipeline().fit(texts, wanted)
        positives_missed = sum(wanted[index] for index in missed)
        models[topic] = TopicModel(topic, threshold, classifier, caught, positives_missed, false)
    return RelevanceModel(models, len(items))


def _threshold(
    missed: list[int], wanted: list[bool], held_out: list[float], target_precision: float
) -> tuple[float, int, int]:
    """The lowest threshold whose possible matches (among the rule misses) reach the precision."""
    for threshold in THRESHOLDS:
        flagged = [index for index in missed if held_out[index] >= threshold]
        caught = sum(wanted[index] for index in flagged)
        if flagged and caught / len(flagged) >= target_precision:
            return threshold, caught, len(flagged) - caught
    # Never precise enough: a threshold nothing reaches keeps the tier silent for this topic.
    return 1.01, 0, 0
