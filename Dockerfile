# chatgql: one API process per container. `compose.yaml` runs two behind nginx, on PostgreSQL
# and Redis; see the README's scaling section.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY gql_api ./gql_api
COPY resolvers ./resolvers
COPY models ./models
RUN pip install '.[otel]' \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin chatgql \
    && mkdir -p /app/var \
    && chown chatgql /app/var

USER chatgql
ENV CHATGQL_ENV=production \
    CHATGQL_HOST=0.0.0.0 \
    CHATGQL_PORT=8000 \
    CHATGQL_DATA_DIR=/app/var \
    CHATGQL_LOG_FORMAT=json
EXPOSE 8000
# 503 while the database or the broker is unreachable, so an orchestrator stops routing here.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('CHATGQL_PORT', '8000')}/health\", timeout=2)"]
CMD ["chatgql", "serve", "--host", "0.0.0.0"]
