"""Matcher throughput: the compiled matcher against a naive baseline, and how cost grows with topics.

    python -m benchmarks.matcher                 # 1,000 topics x 10,000 articles of ~5 KB
    python -m benchmarks.matcher --articles 2000 # quicker

Prints, from one run (the machine is shared, so only same-run ratios mean much):
- articles/s for the compiled matcher over every article, and for the naive baseline (every
  topic's term regexes searched over the whole article, every topic evaluated) over a sample,
  with the compiled matcher timed on the same sample, and the ratio;
- that both give the same verdicts on the sample;
- time per article with 100 and with 1,000 topics on the same articles (best of three passes each);
- Japanese articles (the labelled Japanese news of ../shared/eval, read in place) with the
  shipped watchlists plus the generated topics: articles/s, and the share of it the morphological
  analyser takes (word edges and NEAR distances in Japanese);
- words per sentence as NEAR counts them, Japanese against English, over the same labelled news:
  `NEAR/n` is meant to span comparable text in both languages.

Rates use the process's CPU time (one core; Python runs on one), so time lost to other
processes on a busy machine does not count; wall-clock rates are printed beside them.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.generate import make_articles, make_topics
from pipeline.config import load_config
from pipeline.match import Matcher
from pipeline.match.evaluate import count_words, paragraph_starts, sentence_starts
from pipeline.match.japanese import words, words_of
from pipeline.match.normalize import normalise
from pipeline.match.quality import parse_labels
from pipeline.match.reference import NaiveMatcher
from pipeline.models import Article, Verdict

ROOT = Path(__file__).resolve().parents[1]
SHARED_EVAL = ROOT.parent / "shared" / "eval" / "items.jsonl"


def _timed(run: Callable[[Article], list[Verdict]], articles: Sequence[Article]) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, verdicts) for running `run` over every article."""
    cpu, wall = time.process_time(), time.perf_counter()
    verdicts = sum(len(run(article)) for article in articles)
    return time.process_time() - cpu, time.perf_counter() - wall, verdicts


def _scaling(
    small: Matcher, large: Matcher, articles: Sequence[Article], rounds: int = 3
) -> tuple[float, float]:
    """CPU seconds per article for each matcher: each runs over all the articles, in turn, `rounds`
    times, and the fastest round counts (other processes on a shared machine only ever add time).
    Whole passes, not interleaved chunks: a daemon runs one matcher, with its data warm in cache."""
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        for index, matcher in enumerate((small, large)):
            best[index] = min(best[index], _timed(matcher.match, articles)[0])
    return best[0] / len(articles), best[1] / len(articles)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--topics", type=int, default=1000)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=5_000, help="article body length in characters")
    parser.add_argument("--naive-articles", type=int, default=20, help="sample for the (slow) naive baseline")
    parser.add_argument("--scaling-articles", type=int, default=2_000)
    parser.add_argument(
        "--topic-words",
        default="1000-15000",
        help="rank band of the topics' non-entity words (default 1000-15000; 300-5000 is a harsher load)",
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    articles = make_articles(args.articles, size=args.size)
    average = sum(len(article.body) + len(article.title) for article in articles) / len(articles)
    low, high = (int(rank) for rank in args.topic_words.split("-"))
    topics, aliases = make_topics(args.topics, topic_words=(low, high))
    print(
        f"generated {len(articles)} articles (average {average:,.0f} characters) and {len(topics)} topics "
        f"with {len(aliases)} aliases (topic words of rank {low}-{high}) "
        f"in {time.perf_counter() - started:.1f} s"
    )

    cpu = time.process_time()
    compiled = Matcher(topics, aliases)
    print(
        f"compiled {len(topics)} topics ({len(compiled.terms)} distinct terms) "
        f"in {time.process_time() - cpu:.2f} s CPU"
    )

    cpu_s, wall_s, verdicts = _timed(compiled.match, articles)
    print(
        f"compiled matcher: {len(articles) / cpu_s:,.0f} articles/s CPU "
        f"({len(articles) / wall_s:,.0f} wall) over {len(articles)} articles; {verdicts} matches"
    )

    sample = articles[: args.naive_articles]
    naive = NaiveMatcher(compiled)
    naive_cpu, naive_wall, naive_verdicts = _timed(naive.match, sample)
    same_cpu, _, same_verdicts = _timed(compiled.match, sample)
    agree = all(
        [verdict.topic for verdict in compiled.match(article)]
        == [verdict.topic for verdict in naive.match(article)]
        for article in sample
    )
    print(
        f"naive baseline:   {len(sample) / naive_cpu:,.2f} articles/s CPU "
        f"({len(sample) / naive_wall:,.2f} wall) "
        f"over the first {len(sample)} articles; {naive_verdicts} matches"
    )
    print(
        f"compiled on the same {len(sample)} articles: {len(sample) / same_cpu:,.0f} articles/s CPU; "
        f"{same_verdicts} matches; ratio {naive_cpu / same_cpu:,.0f}x; "
        f"verdicts {'identical' if agree else 'DIFFER'}"
    )

    small_topics = dict(list(topics.items())[: max(1, args.topics // 10)])
    small = Matcher(small_topics, aliases)
    scaling_sample = articles[: args.scaling_articles]
    per_small, per_large = _scaling(small, compiled, scaling_sample)
    print(
        f"scaling over {len(scaling_sample)} articles: "
        f"{len(small_topics)} topics {per_small * 1e6:,.0f} us/article, "
        f"{len(topics)} topics {per_large * 1e6:,.0f} us/article: "
        f"{len(topics) / len(small_topics):.0f}x the topics costs {per_large / per_small:.2f}x the time"
    )
    _japanese(topics, aliases)


def _japanese(topics: dict, aliases: dict, rounds: int = 20) -> None:
    """Japanese news through the shipped watchlists and the generated topics together."""
    if not SHARED_EVAL.is_file():
        print(f"japanese: skipped, {SHARED_EVAL} is absent")
        return
    with SHARED_EVAL.open(encoding="utf-8") as handle:
        labelled = list(parse_labels(handle))
    articles = [item.article() for item in labelled if item.lang == "ja"]
    shipped = load_config(ROOT / "config" / "newswatch.yaml")
    matcher = Matcher({**topics, **shipped.topics}, {**aliases, **shipped.aliases})
    matcher.match(articles[0])  # the analyser loads on the first Japanese text, once per process
    cpu = time.process_time()
    for _ in range(rounds):
        for article in articles:
            matcher.match(article)
    match_cpu = (time.process_time() - cpu) / (rounds * len(articles))
    cpu = time.process_time()
    for _ in range(rounds):
        for article in articles:
            words(normalise(article.title).text)
            words(normalise(article.body).text)
    analyser_cpu = (time.process_time() - cpu) / (rounds * len(articles))
    characters = sum(len(article.title) + len(article.body) for article in articles) / len(articles)
    print(
        f"japanese: {len(articles)} labelled Japanese articles (average {characters:,.0f} characters), "
        f"{len(matcher.topics)} topics: {1 / match_cpu:,.0f} articles/s CPU; the analyser takes "
        f"{analyser_cpu * 1e3:.2f} ms an article ({analyser_cpu / match_cpu:.0%} of matching)"
    )
    per_language = {
        language: _words_per_sentence([item.body for item in labelled if item.lang == language])
        for language in ("ja", "en")
    }
    print(
        "words per sentence as NEAR counts them (the labelled bodies): "
        f"Japanese {per_language['ja']:.1f}, English {per_language['en']:.1f}"
    )


def _words_per_sentence(bodies: Sequence[str]) -> float:
    counted = sentences = 0
    for body in bodies:
        text = normalise(body).text
        starts = sentence_starts(text, paragraph_starts(text))
        for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
            sentence = text[start:end]
            counted += count_words(sentence, words_of(sentence))
            sentences += 1
    return counted / max(sentences, 1)


if __name__ == "__main__":
    main()
