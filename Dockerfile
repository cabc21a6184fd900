FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY config ./config
RUN pip install . && useradd --system --home-dir /app newswatch && mkdir -p /app/data && chown newswatch /app/data
USER newswatch
VOLUME ["/app/data"]
ENTRYPOINT ["newswatch"]
CMD ["run", "--config", "/app/config/newswatch.yaml"]
