"""`newswatch web`, `newswatch users ...` and `newswatch feedback export`.

`register` is the one hook `pipeline/cli.py` calls. Everything heavy (Starlette, uvicorn, argon2, the
database) is imported inside the handlers, so `newswatch --help` does not pay for the console.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from pipeline.config import Config
    from pipeline.store.console import ConsoleStore

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _config(args: argparse.Namespace) -> Config:
    from pipeline.commands.common import load

    return load(args)


def _console_store(config: Config) -> AbstractContextManager[ConsoleStore]:
    from pipeline.commands.common import opened_store
    from pipeline.store.console import ConsoleStore

    return opened_store(config, ConsoleStore)


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            sys.stderr.write("newswatch users: the passwords differ\n")
            return None
    if len(password) < 8:
        sys.stderr.write("newswatch users: a password needs at least 8 characters\n")
        return None
    return password


def cmd_users_add(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.console.auth import hash_password
    from pipeline.store.console import UserExists

    password = _read_password(args)
    if password is None:
        return EXIT_USAGE
    with _console_store(_config(args)) as store:
        try:
            store.add_user(args.name, hash_password(password), args.role)
        except UserExists:
            sys.stderr.write(f"newswatch users: {args.name!r} exists; remove it first\n")
            return EXIT_FAILED
    out.write(f"added {args.name} ({args.role})\n")
    return EXIT_OK


def cmd_users_remove(args: argparse.Namespace, out: TextIO) -> int:
    with _console_store(_config(args)) as store:
        if not store.remove_user(args.name):
            sys.stderr.write(f"newswatch users: no user {args.name!r}\n")
            return EXIT_FAILED
    out.write(f"removed {args.name}\n")
    return EXIT_OK


def cmd_users_list(args: argparse.Namespace, out: TextIO) -> int:
    with _console_store(_config(args)) as store:
        for user in store.users():
            out.write(f"{user.name}\t{user.role}\n")
    return EXIT_OK


def cmd_users_token(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.console.auth import new_api_token

    with _console_store(_config(args)) as store:
        user = store.user_by_name(args.name)
        if user is None:
            sys.stderr.write(f"newswatch users: no user {args.name!r}\n")
            return EXIT_FAILED
        token, token_hash = new_api_token()
        store.add_token(user.id, args.label, token_hash)
    # Shown once: only its hash is stored.
    out.write(token + "\n")
    return EXIT_OK


def cmd_feedback_export(args: argparse.Namespace, out: TextIO) -> int:
    from pipeline.console.labels import labels_lines

    config = _config(args)
    with _console_store(config) as store:
        for line in labels_lines(store, config.topics):
            out.write(line + "\n")
    return EXIT_OK


def _listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


def cmd_web(args: argparse.Namespace, out: TextIO) -> int:
    import uvicorn

    from pipeline.config import resolve_config_path
    from pipeline.console.app import create_app
    from pipeline.store.db import create_db_engine, upgrade_schema

    config = _config(args)
    engine = create_db_engine(config.database)
    upgrade_schema(engine)
    config_dir = Path(resolve_config_path(args.config)).resolve().parent
    host, port = args.listen
    out.write(f"newswatch console on http://{host}:{port}/ (users: newswatch users add NAME)\n")
    out.flush()
    # proxy_headers: behind a TLS proxy on loopback the request scheme becomes https, so session
    # cookies are marked Secure; forwarded headers from anywhere else are ignored.
    uvicorn.run(
        create_app(config, engine, config_dir=config_dir),
        host=host,
        port=port,
        proxy_headers=True,
        log_level="info",
    )
    engine.dispose()
    return EXIT_OK


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the console's subcommands to `newswatch`'s subparsers, with the help every command has."""
    from pipeline.commands.common import add_command

    web = add_command(
        commands,
        "web",
        common,
        summary="serve the analysts' console (pages, API, feeds)",
        details="Reads the same database as the daemon; every page, feed and API route needs a user\n"
        "(`newswatch users add`) or an API token. Stops on SIGINT/SIGTERM.",
        example="newswatch web --listen 127.0.0.1:8080",
    )
    web.add_argument(
        "--listen",
        type=_listen,
        default=("127.0.0.1", 8080),
        metavar="HOST:PORT",
        help="default 127.0.0.1:8080",
    )
    web.set_defaults(handler=cmd_web, default_verbosity=1)

    users = add_command(
        commands,
        "users",
        common,
        summary="console users: add, remove, list, token",
        example="newswatch users add rita --role operator",
    )
    user_commands = users.add_subparsers(dest="users_command", required=True, metavar="USERS_COMMAND")
    add = add_command(
        user_commands,
        "add",
        common,
        summary="add a user (asks for the password)",
        example="newswatch users add rita --role operator   (or --password-stdin for scripts)",
    )
    add.add_argument("name")
    add.add_argument("--role", choices=["read-only", "operator"], default="read-only")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(handler=cmd_users_add)
    remove = add_command(
        user_commands,
        "remove",
        common,
        summary="remove a user and their API tokens",
        example="newswatch users remove rita",
    )
    remove.add_argument("name")
    remove.set_defaults(handler=cmd_users_remove)
    listing = add_command(
        user_commands, "list", common, summary="list users and roles", example="newswatch users list"
    )
    listing.set_defaults(handler=cmd_users_list)
    token = add_command(
        user_commands,
        "token",
        common,
        summary="make an API token for a user (printed once; acts with their role)",
        example="newswatch users token rita --label scripts",
    )
    token.add_argument("name")
    token.add_argument("--label", default="api", help="what the token is for")
    token.set_defaults(handler=cmd_users_token)

    feedback = add_command(
        commands,
        "feedback",
        common,
        summary="analysts' feedback on matches, as labels that measure the watchlists",
        example="newswatch feedback export > labels.jsonl && newswatch eval labels.jsonl",
    )
    feedback_commands = feedback.add_subparsers(
        dest="feedback_command", required=True, metavar="FEEDBACK_COMMAND"
    )
    export = add_command(
        feedback_commands,
        "export",
        common,
        summary="print the feedback as eval labels (JSON lines) for `newswatch eval`",
        example="newswatch feedback export > labels.jsonl",
    )
    export.set_defaults(handler=cmd_feedback_export)
