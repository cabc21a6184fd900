"""Golden examples: articles a topic must match and must not match, checked like unit tests.

`newswatch check-config` runs them so an edit that breaks a watchlist fails loudly.
Reading the articles (files, URLs) is the caller's job: `load` is passed in, so
this module stays free of I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pipeline.match.matcher import Matcher
from pipeline.models import Article


class _Examples(Protocol):
    match: list[str]
    no_match: list[str]


class TopicWithExamples(Protocol):
    examples: _Examples


@dataclass(frozen=True, slots=True)
class ExampleResult:
    topic: str
    key: str  # topics.NAME.examples.match[0]
    source: str  # the path or URL as resolved
    should_match: bool
    passed: bool
    detail: str
    # The example's file is absent (e.g. a config installed without the repository's fixtures):
    # reported as a warning, never a failure, so that `check-config` before a start cannot block it.
    skipped: bool = False


def resolve_source(entry: str, base_dir: Path) -> str:
    """URLs as they are; relative paths against the directory of the config file."""
    if entry.startswith(("http://", "https://")):
        return entry
    path = Path(entry).expanduser()
    return str(path if path.is_absolute() else base_dir / path)


def check_examples(
    matcher: Matcher,
    topics: Mapping[str, TopicWithExamples],
    base_dir: Path,
    load: Callable[[str], Article],
) -> list[ExampleResult]:
    loaded: dict[str, Article | str | None] = {}
    results = []
    for name, topic in topics.items():
        for should_match, entries in ((True, topic.examples.match), (False, topic.examples.no_match)):
            for index, entry in enumerate(entries):
                key = f"topics.{name}.examples.{'match' if should_match else 'no_match'}[{index}]"
                source = resolve_source(entry, base_dir)
                if source not in loaded:
                    try:
                        loaded[source] = load(source)
                    except FileNotFoundError:
                        loaded[source] = None
                    except (OSError, ValueError) as error:
                        loaded[source] = f"cannot read it: {error}"
                article = loaded[source]
                if article is None:
                    results.append(
                        ExampleResult(name, key, source, should_match, True, "no such file", skipped=True)
                    )
                    continue
                if isinstance(article, str):
                    results.append(ExampleResult(name, key, source, should_match, False, article))
                    continue
                verdict = matcher.evaluate(article, [name])[0]
                if verdict.matched == should_match:
                    detail = f"score {verdict.score:g}" if verdict.matched else "no match, as expected"
                    results.append(ExampleResult(name, key, source, should_match, True, detail))
                elif should_match:
                    reasons = "; ".join(verdict.explanation.reasons_not_matched)
                    results.append(
                        ExampleResult(name, key, source, True, False, f"should match but does not: {reasons}")
                    )
                else:
                    terms = ", ".join(dict.fromkeys(hit.term for hit in verdict.hits))
                    detail = f"should not match but does (score {verdict.score:g}; found {terms})"
                    results.append(ExampleResult(name, key, source, False, False, detail))
    return results
