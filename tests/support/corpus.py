"""Where the shared corpus of third-party feeds and pages is, if anywhere.

NEWSWATCH_CORPUS wins; otherwise `shared/corpus` next to the repository's parent folder (the
layout of /work/main and of every worktree beside it).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def corpus_dir() -> Path:
    configured = os.environ.get("NEWSWATCH_CORPUS")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "corpus"


def corpus_files(kind: str, pattern: str = "*") -> list[Path]:
    folder = corpus_dir() / kind
    return sorted(path for path in folder.glob(pattern) if path.is_file()) if folder.is_dir() else []


def missing_reason(kind: str) -> str:
    return f"corpus folder {corpus_dir() / kind} is absent (set NEWSWATCH_CORPUS to its location)"
