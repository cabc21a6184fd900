"""Cluster mode: the pipeline's stages run as procrastinate jobs on the PostgreSQL we already run.

`app` connects to the queue and installs its schema, `jobs` turns stage values into job arguments,
`sweep` decides which feeds to hand to the queue, `tasks` wires stage functions to jobs, `status`
reads the queue for `newswatch cluster status`.
"""
