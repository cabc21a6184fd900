"""`newswatch matches`: the stored matches, newest first, and why each matched. Reads only."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any, TextIO

from pipeline.commands.common import (
    EXIT_NO_MATCH,
    EXIT_OK,
    EXIT_RUNTIME,
    CommandError,
    add_command,
    load,
    require_database,
)
from pipeline.humanize import iso_time, plural, text_time

if TYPE_CHECKING:
    from pipeline.models import MatchDetails


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    matches = add_command(
        commands,
        "matches",
        common,
        summary="list stored matches, newest first, with topic, score, source, link and snippet",
        details="Reads the database and writes nothing. Exits 1 when there is no match (or no database).",
        example="newswatch matches --topic usfj-reorganisation --since 7d --limit 5",
    )
    matches.add_argument("--topic", help="only this topic")
    matches.add_argument("--since", help="only matches made within this long, e.g. 7d, 12h")
    matches.add_argument("--limit", type=int, default=20, help="newest N (default 20)")
    matches.add_argument("--explain", action="store_true", help="show each match's clause tree too")
    matches.add_argument("--json", action="store_true", help="one JSON object per line and match")
    matches.set_defaults(handler=cmd_matches)


def match_json(match: MatchDetails) -> str:
    from pipeline.commands.match import snippet_text

    return json.dumps(
        {
            "title": match.title,
            "topic": match.topic,
            "score": match.score,
            "source": match.source,
            "matched_at": iso_time(match.matched_at),
            "published_at": iso_time(match.published),
            "url": match.article_url,
            "snippet": snippet_text(match.snippet) or None,
            "explanation": match.explanation.to_json(),
        },
        ensure_ascii=False,
    )


def match_text(match: MatchDetails, explain: bool = False) -> str:
    from pipeline.commands.match import explanation_lines, snippet_text
    from pipeline.match.explanation import clause_lines

    lines = [
        f"{text_time(match.matched_at)}  {match.topic} (score {match.score:g})  {match.title}",
        f"    from {match.source}: {match.article_url}",
    ]
    if explain:
        lines.extend(explanation_lines(match.explanation, match.snippet))
    else:
        # The top of the clause tree says in one line which parts of the query held.
        if match.explanation.clauses is not None:
            lines.extend(clause_lines(match.explanation.clauses, 1)[:1])
        if match.snippet:
            lines.append(f"    snippet: {snippet_text(match.snippet)}")
    return "\n".join(lines) + "\n"


def cmd_matches(args: argparse.Namespace, out: TextIO) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from pipeline.commands.backtest import parse_since
    from pipeline.store import Store
    from pipeline.store.db import create_read_only_engine

    config = load(args)
    since = parse_since(args.since)
    if args.limit < 1:
        raise CommandError("--limit must be at least 1")
    require_database(config)
    engine = create_read_only_engine(config.database)
    try:
        found = Store(engine).recent_matches(args.topic, since, args.limit)
    except SQLAlchemyError as error:
        raise CommandError(f"cannot read the database: {error}", EXIT_RUNTIME) from None
    finally:
        engine.dispose()
    if args.json:
        out.writelines(match_json(match) + "\n" for match in found)
    else:
        for match in found:
            out.write(match_text(match, args.explain))
        where = f" for topic {args.topic}" if args.topic else ""
        window = f" since {text_time(since)}" if since else ""
        if found:
            shown = plural(len(found), "match", "matches")
            out.write(f"{shown}{where}{window} (newest first, at most {args.limit})\n")
        else:
            out.write(f"no matches{where}{window}\n")
    return EXIT_OK if found else EXIT_NO_MATCH
