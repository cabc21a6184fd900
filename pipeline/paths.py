"""Where the config file is, and what paths inside it are relative to.

A daemon started by systemd runs in /var/lib/newswatch, one started by hand runs wherever the
shell was: so nothing in the config may depend on the working directory. Relative paths in the
config (a SQLite database, golden examples) are resolved against the config file's own directory,
and the config file itself is looked up in a fixed, documented order.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs

CONFIG_ENV_VAR = "NEWSWATCH_CONFIG"
CONFIG_FILE_NAME = "newswatch.yaml"
# Relative to the working directory: the layout of a checkout of this repository.
LOCAL_CONFIG_PATH = Path("config") / CONFIG_FILE_NAME


def platform_config_path() -> Path:
    """The per-user config file of this platform (~/.config/newswatch/newswatch.yaml on Linux)."""
    return platformdirs.user_config_path("newswatch") / CONFIG_FILE_NAME


class ConfigNotFound(Exception):
    """No config file was named and none of the default places has one."""

    def __init__(self, looked_in: tuple[str, ...]) -> None:
        self.looked_in = looked_in
        places = "\n".join(f"  {place}" for place in looked_in)
        super().__init__(
            f"no config file found; looked in:\n{places}\n"
            f"choose one with --config PATH or the {CONFIG_ENV_VAR} environment variable "
            "(config/newswatch.yaml in the source tree is a commented example)"
        )


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The config file to use: `--config`, else $NEWSWATCH_CONFIG, else ./config/newswatch.yaml,
    else the platform's config directory.

    A path the operator named (by option or variable) is returned even if it does not exist, so
    that the error names that file rather than a default they did not ask for.
    """
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(CONFIG_ENV_VAR)
    if from_env:
        return Path(from_env)
    candidates = (LOCAL_CONFIG_PATH, platform_config_path())
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked_in = (
        f"${CONFIG_ENV_VAR} (not set)",
        f"{LOCAL_CONFIG_PATH} (relative to the working directory {Path.cwd()})",
        str(candidates[1]),
    )
    raise ConfigNotFound(looked_in)


def resolve_relative(path: str, base_dir: Path) -> str:
    """`path` as it is when absolute (or `~/...`), else relative to `base_dir`."""
    expanded = Path(path).expanduser()
    return str(expanded if expanded.is_absolute() else base_dir / expanded)


# sqlite:///relative/path, sqlite:////absolute/path, sqlite+pysqlite:///..., with ?options after.
_SQLITE_URL = re.compile(r"^(sqlite(?:\+\w+)?:///)([^?]*)(\?.*)?$")


def resolve_sqlite_url(url: str, base_dir: Path) -> str:
    """A SQLite URL whose relative file path is made absolute against `base_dir`.

    `sqlite:///data/newswatch.db` (three slashes: a relative path) next to /etc/newswatch/newswatch.yaml
    becomes `sqlite:////etc/newswatch/data/newswatch.db`. Other databases, in-memory SQLite and
    absolute paths are returned unchanged.
    """
    # Read without SQLAlchemy: every command loads the config, and `newswatch match` must start fast.
    found = _SQLITE_URL.match(url)
    if found is None:
        return url  # another database, or not a URL: the database layer reports it itself
    prefix, database, query = found.group(1), found.group(2), found.group(3) or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return url
    resolved = resolve_relative(database, base_dir)
    if resolved == database:
        return url
    return f"{prefix}{resolved}{query}"
