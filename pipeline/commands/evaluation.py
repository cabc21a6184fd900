"""`newswatch eval` and `newswatch model train`: measure the watchlists on labelled articles, and
train the second tier (a relevance model) on them. The measuring is pipeline/match/quality.py's;
the model is pipeline/match/relevance.py's; this module reads files and prints."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pipeline.commands.common import (
    EXIT_NO_MATCH,
    EXIT_OK,
    CommandError,
    add_command,
    check_topic,
    load,
)
from pipeline.commands.progress import progress

if TYPE_CHECKING:
    from pipeline.match.quality import LabelledItem


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    evaluation = add_command(
        commands,
        "eval",
        common,
        summary="measure the topics on labelled articles: precision, recall and every mistake explained",
        details="Labels are JSON lines: id, title, body, lang, topics ([] for a negative), split.\n"
        "Prints per topic and language the positives, TP, FP, FN, precision, recall and F1, then\n"
        "every miss and false alarm with the matcher's reason. Exits 1 if a topic is below a threshold.",
        example="newswatch eval ../shared/eval/items.jsonl --split check --min-precision 0.95",
    )
    evaluation.add_argument("labels", metavar="LABELS.jsonl")
    evaluation.add_argument("--topic", help="only this topic")
    evaluation.add_argument("--split", help="only the items of this split (e.g. dev, check)")
    evaluation.add_argument("--json", action="store_true", help="one JSON object: scores and mistakes")
    evaluation.add_argument("--min-precision", type=float, metavar="P", help="exit 1 if any topic is below")
    evaluation.add_argument("--min-recall", type=float, metavar="R", help="exit 1 if any topic is below")
    evaluation.add_argument(
        "--model", metavar="PATH", help="also score the possible matches of this relevance model"
    )
    evaluation.set_defaults(handler=cmd_eval)

    model = add_command(
        commands,
        "model",
        common,
        summary="the second tier: a per-topic relevance model trained on labelled articles",
        example="newswatch model train ../shared/eval/items.jsonl --split dev --output relevance.model",
    )
    model_commands = model.add_subparsers(dest="model_command", required=True, metavar="MODEL_COMMAND")
    train = add_command(
        model_commands,
        "train",
        common,
        summary="train a relevance model (needs scikit-learn: pip install 'newswatch[model]')",
        details="Thresholds are chosen by cross-validation on the same items; the model never\n"
        "alerts on its own: `newswatch eval --model` shows its possible matches beside the rules.",
        example="newswatch model train labels.jsonl --split dev --output relevance.model",
    )
    train.add_argument("labels", metavar="LABELS.jsonl")
    train.add_argument("--split", help="only the items of this split (e.g. dev)")
    train.add_argument("--output", required=True, metavar="PATH", help="where to write the model")
    train.set_defaults(handler=cmd_model_train)


def read_labels(path: str, split: str | None) -> list[LabelledItem]:
    """The labelled items of a file (of one split), or a CommandError saying what is wrong."""
    from pipeline.match.quality import LabelError, parse_labels

    try:
        with open(path, encoding="utf-8") as handle:
            items = parse_labels(handle, path)
    except OSError as error:
        raise CommandError(f"cannot read the labels: {error}") from None
    except LabelError as error:
        raise CommandError(str(error)) from None
    if split:
        items = [item for item in items if item.split == split]
        if not items:
            raise CommandError(f"no item of {path} is in split {split!r}")
    return items


def cmd_eval(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.match import Matcher
    from pipeline.match.quality import format_report, measure

    config = load(args)
    check_topic(config, args.topic)
    topics = [args.topic] if args.topic else list(config.topics)
    items = read_labels(args.labels, args.split)
    matcher = Matcher.from_topics(config.topics, config.aliases)
    possible = None
    if args.model:
        from pipeline.match.relevance import ModelError, load_model

        try:
            possible = load_model(Path(args.model)).possible
        except ModelError as error:
            raise CommandError(str(error)) from None
    # Matched first, with a progress bar on a terminal (a large label file takes a while); the
    # report then reads each item's verdicts back by its id (an item's article url).
    verdicts = {
        item.id: matcher.evaluate(item.article(), topics)
        for item in progress(items, "matching labelled articles", total=len(items))
    }
    report = measure(lambda article: verdicts[article.url], items, topics, possible)
    if args.json:
        document = {
            "labels": args.labels,
            "split": args.split,
            "items": report.items,
            "scores": [found.to_json() for found in report.scores],
            "with_possible_matches": [found.to_json() for found in report.possible.values()],
            "mistakes": [mistake.to_json() for mistake in report.mistakes],
        }
        out.write(json.dumps(document, ensure_ascii=False) + "\n")
    else:
        out.write(format_report(report, source=args.labels, split=args.split) + "\n")
    failures = report.below(args.min_precision, args.min_recall)
    for failure in failures:
        sys.stderr.write(f"newswatch eval: below the threshold: {failure}\n")
    return EXIT_NO_MATCH if failures else EXIT_OK


def cmd_model_train(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.match import Matcher

    try:
        from pipeline.match.relevance import train
    except ImportError:  # pragma: no cover - the dev and model extras install scikit-learn
        raise CommandError("needs scikit-learn: pip install 'newswatch[model]'") from None
    config = load(args)
    items = read_labels(args.labels, args.split)
    matcher = Matcher.from_topics(config.topics, config.aliases)
    model = train(items, list(config.topics), lambda item: {v.topic for v in matcher.match(item.article())})
    output = Path(args.output)
    model.save(output)
    out.write(f"trained on {len(items)} items; wrote {output} ({output.stat().st_size / 1e6:.1f} MB)\n")
    for name in config.topics:
        if name not in model.topics:
            out.write(f"  {name}: too few labelled examples; no model\n")
            continue
        found = model.topics[name]
        out.write(
            f"  {name}: threshold {found.threshold:.2f}; cross-validated, it caught {found.cv_caught} of "
            f"the {found.cv_missed_by_rules} positives the rules missed, with {found.cv_false_possibles} "
            "wrong possible matches\n"
        )
    return EXIT_OK
