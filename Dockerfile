# One image for every BitHedge daemon; docker-compose.yml picks the command per service.
# Node 20 is needed by the devnet (clarinet-sdk simnet); Debian bookworm's python3 is 3.11.
FROM node:20-bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv make \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock pyproject.toml Makefile ./
RUN python3 -m venv .venv && .venv/bin/pip install --no-cache-dir -q -r requirements.lock
COPY . .
RUN make bootstrap && useradd --system --home /app bithedge && chown -R bithedge /app
USER bithedge
ENV PATH=/app/.venv/bin:$PATH \
    BITHEDGE_HOST=0.0.0.0 \
    BITHEDGE_LOG_FORMAT=json
ENTRYPOINT ["bithedge"]
