"""One module per command group. Each has `register(commands, common)`, which adds its subcommands
to the parser, and handlers that import what they need when they run, so that building the whole
parser (for `newswatch --help`) costs only the standard library.

The order here is the order in `newswatch --help`: getting started, daily use, maintenance.
"""

COMMAND_MODULES = [
    "demo",
    "init",
    "run",
    "worker",
    "match",
    "matches",
    "alerts",
    "test_channel",
    "feeds",
    "config",
    "backtest",
    "evaluation",
    "console",
    "db",
    "cluster",
]
