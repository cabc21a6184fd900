"""`newswatch web`, `newswatch users` and `newswatch feedback`: the analysts' console. Its commands
live beside the console in pipeline/console/commands.py, which imports nothing heavy at the top."""

from pipeline.console.commands import register

__all__ = ["register"]
