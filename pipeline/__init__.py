"""newswatch: a self-hosted news-monitoring daemon (feeds -> articles -> watchlists -> alerts)."""

__version__ = "0.1.0"
