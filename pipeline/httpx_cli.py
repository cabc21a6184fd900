"""httpx, without its command-line client: import httpx from here.

httpx's package init imports `httpx._main`, its `httpx` command, whenever click, rich and pygments
are installed (they are: the dev tools and rich's progress bars bring them). That is about 40 ms of
every start-up and a few MB of modules newswatch never calls. A stand-in registered under that name
before httpx is first imported is what the init takes instead; calling its `main` loads the real
client, so nothing that does want it breaks.
"""

from __future__ import annotations

import sys
import types
from typing import Any

_NAME = "httpx._main"


def _real_main(*args: Any, **kwargs: Any) -> Any:
    if isinstance(sys.modules.get(_NAME), _StandIn):
        del sys.modules[_NAME]
    from httpx._main import main

    return main(*args, **kwargs)


class _StandIn(types.ModuleType):
    main = staticmethod(_real_main)


if "httpx" not in sys.modules:
    sys.modules.setdefault(_NAME, _StandIn(_NAME))

import httpx  # noqa: E402 (only after the stand-in is in place)

__all__ = ["httpx"]
