"""Keep httpx's command-line client out of newswatch's processes.

httpx's package init imports `httpx._main`, its `httpx` command, whenever click, rich and pygments
are installed (they are: the dev tools and rich's progress bars bring them). That is about 40 ms of
every start-up and a few MB of modules newswatch never calls. Registering a stand-in under that name
before httpx is first imported makes the init take the stand-in; calling its `main` loads the real
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


def keep_out() -> None:
    """Called by the package init, before any module imports httpx; no effect once httpx is loaded."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault(_NAME, _StandIn(_NAME))
