"""newswatch: a self-hosted news-monitoring daemon (feeds -> articles -> watchlists -> alerts)."""

from pipeline.httpx_cli import keep_out

__version__ = "0.1.0"

# Before any module of the package imports httpx (see pipeline/httpx_cli.py).
keep_out()
