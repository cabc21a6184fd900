"""The analysts' console: server-rendered pages, a JSON API and per-topic Atom feeds over the store.

Import `pipeline.console.app` for the web application; `pipeline.console.commands` registers the
`web`, `users` and `feedback` subcommands and imports nothing heavy until one of them runs.
"""
