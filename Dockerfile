FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# Relative SQLite paths resolve against the config's directory (/app/config, read-only in compose):
# the default database lives in the data volume instead. docker-compose.yml overrides it with PostgreSQL.
ENV NEWSWATCH_DATABASE=sqlite:////app/data/newswatch.db
WORKDIR /app
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY config ./config
# The example config's golden examples (../fixtures/...), so check-config runs all of them here.
COPY fixtures ./fixtures
RUN pip install . && useradd --system --home-dir /app newswatch && mkdir -p /app/data && chown newswatch /app/data
USER newswatch
VOLUME ["/app/data"]
ENTRYPOINT ["newswatch"]
CMD ["run", "--config", "/app/config/newswatch.yaml"]
