"""`newswatch match FILE_OR_URL...`: match articles against the topics and explain why, without
storing or sending anything. Also the input reader and the verdict rendering that `check-config`
and `demo` reuse."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pipeline.commands.common import (
    EXIT_NO_MATCH,
    EXIT_OK,
    EXIT_RUNTIME,
    EXIT_USAGE,
    add_command,
    check_topic,
    load,
)

if TYPE_CHECKING:
    from pipeline.config import Config
    from pipeline.match.explanation import Explanation
    from pipeline.models import Article, SnippetSegment, Verdict


class InputError(OSError):
    """An input that could not be read (`exit_code` 2: a missing file) or fetched (3)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class MissingInput(InputError, FileNotFoundError):
    """A file that is not there: check-config skips such a golden example with a warning."""


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    match = add_command(
        commands,
        "match",
        common,
        summary="match files or URLs against the topics and explain why (nothing is stored or sent)",
        details="A .txt file's first line is the title; HTML files and URLs are extracted like feed "
        "pages.\nExits 0 if anything matched and 1 if nothing did, like grep; 2 if an input is missing.",
        example="newswatch match --topic usfj-reorganisation fixtures/articles/usfj-joint-force-hq.txt",
    )
    match.add_argument("inputs", nargs="+", metavar="FILE_OR_URL")
    match.add_argument("--topic", help="only this topic")
    match.add_argument("--json", action="store_true", help="one JSON object per line per (input, topic)")
    match.set_defaults(handler=cmd_match)


def text_article(text: str, path: str) -> Article:
    """A plain-text article: the first line is the title. No language guess: the matcher does not
    use it, and py3langid's model costs half a second and 90 MB of a command meant to be instant."""
    from pipeline.models import text_article as article_of

    return article_of(text, path)


def read_input(source: str, config: Config) -> Article:
    """The article at a URL, in an HTML file or in a text file. Only HTML needs trafilatura."""
    if source.startswith(("http://", "https://")):
        from urllib.parse import urlsplit

        from pipeline.extract import article_from_page
        from pipeline.fetch import Fetcher, FetchLimits

        # The operator typed this URL, so its own host is trusted like a configured feed's;
        # redirects elsewhere are still checked against private addresses.
        host = urlsplit(source).hostname or ""
        with Fetcher(FetchLimits.from_config(config.fetch), trusted_hosts=[host]) as fetcher:
            result = fetcher.fetch(source, trusted=True)
        if not result.ok:
            raise InputError(f"cannot fetch {source}: {result.error}", EXIT_RUNTIME)
        return article_from_page(result.body, result.final_url)
    try:
        data = Path(source).read_bytes()
    except FileNotFoundError as error:
        raise MissingInput(f"cannot read {source}: {error.strerror or error}", EXIT_USAGE) from None
    except OSError as error:
        raise InputError(f"cannot read {source}: {error.strerror or error}", EXIT_USAGE) from None
    looks_like_html = Path(source).suffix.lower() in (".html", ".htm") or data.lstrip()[:1] == b"<"
    if looks_like_html:
        from pipeline.extract import article_from_page

        return article_from_page(data, source)
    return text_article(data.decode("utf-8", errors="replace"), source)


def verdict_json(source: str, verdict: Verdict) -> str:
    return json.dumps(
        {
            "input": source,
            "topic": verdict.topic,
            "matched": verdict.matched,
            "score": verdict.score,
            # The same JSON the store and the webhooks carry (the snippet as pieces with their hits).
            "explanation": verdict.explanation.to_json(),
        },
        ensure_ascii=False,
    )


def snippet_text(snippet: list[SnippetSegment]) -> str:
    """The snippet with the matched words in [brackets]."""
    from pipeline.match.explanation import plain_snippet

    return plain_snippet(snippet)


def explanation_lines(explanation: Explanation, snippet: list[SnippetSegment]) -> list[str]:
    """Why a topic matched (or not): the query, its clause tree, the score, reasons, the snippet:
    the one plain-text rendering that emails and digests use too, indented under the verdict."""
    from pipeline.match.explanation import explanation_lines as lines_of

    return [f"    {line}" for line in lines_of(explanation, snippet)]


def verdict_text(source: str, article: Article, verdict: Verdict) -> str:
    label = "MATCH   " if verdict.matched else "no match"
    lines = [
        f"{label} {verdict.topic} (score {verdict.score:g}) {source}: {article.title}",
        *explanation_lines(verdict.explanation, verdict.snippet),
    ]
    return "\n".join(lines) + "\n"


def cmd_match(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.match import Matcher

    config = load(args)
    check_topic(config, args.topic)
    matcher = Matcher.from_topics(config.topics, config.aliases)
    topics = [args.topic] if args.topic else None
    anything_matched = False
    input_failure = 0
    for source in args.inputs:
        try:
            article = read_input(source, config)
        except InputError as error:
            # Like grep: report it, carry on with the other inputs, and exit with the failure.
            sys.stderr.write(f"newswatch match: {error}\n")
            input_failure = max(input_failure, error.exit_code)
            continue
        for verdict in matcher.evaluate(article, topics):
            anything_matched = anything_matched or verdict.matched
            out.write(
                verdict_json(source, verdict) + "\n" if args.json else verdict_text(source, article, verdict)
            )
    if input_failure:
        return input_failure
    return EXIT_OK if anything_matched else EXIT_NO_MATCH
