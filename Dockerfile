# syntax=docker/dockerfile:1
# One image per Rust service, from the workspace at the repository root:
#   docker build --build-arg SERVICE=orders-service --build-arg SERVICE_PORT=3040 \
#     --build-arg GIT_COMMIT="$(git rev-parse HEAD)" --build-arg VERSION=1.4.0 \
#     --build-arg BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)" .
# GIT_COMMIT is compiled in (GET /health, the build_info metric); all three fill the standard OCI
# labels of the image.
# cargo-chef compiles the dependencies in a layer of their own, keyed only on the lock file and
# manifests (not on SERVICE), so a source change rebuilds just our crates and the three images
# share that layer.

ARG RUST_VERSION=1.95.0
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
# sqlx's query macros read the committed .sqlx/ data instead of a live database.
ENV SQLX_OFFLINE=true
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
ARG SERVICE
# Read by web_kit::build_info! at compile time. Declared after the dependency layer, so a new
# commit rebuilds only our crates.
ARG GIT_COMMIT=unknown
# stream-admin (stream-lib's operator CLI: stream health, dead letters, replay) rides along, so
# `docker compose exec orders-service stream-admin health` works with the service's own settings.
RUN test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=<service>" >&2; exit 1; } \
    && cargo build --release --locked --bin "${SERVICE}" --bin stream-admin \
    && cp "target/release/${SERVICE}" /app/service \
    && cp target/release/stream-admin /app/stream-admin

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# curl only for the HEALTHCHECK; ca-certificates for TLS to managed databases.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin app
ARG SERVICE
ARG SERVICE_PORT=3030
ARG GIT_COMMIT=unknown
ARG VERSION=dev
ARG BUILD_DATE=unknown
ENV PORT=${SERVICE_PORT} \
    LOG_FORMAT=json \
    APP_ENV=production
LABEL org.opencontainers.image.source="https://github.com/marketplace/marketplace" \
      org.opencontainers.image.url="https://github.com/marketplace/marketplace" \
      org.opencontainers.image.title="${SERVICE}" \
      org.opencontainers.image.description="marketplace ${SERVICE}, with the stream-admin CLI" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.vendor="marketplace" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${GIT_COMMIT}" \
      org.opencontainers.image.created="${BUILD_DATE}"
COPY --from=builder /app/service /usr/local/bin/service
COPY --from=builder /app/stream-admin /usr/local/bin/stream-admin
USER 10001:10001
EXPOSE ${SERVICE_PORT}
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=5 \
    CMD ["/bin/sh", "-c", "curl -fsS \"http://127.0.0.1:${PORT}/health\" >/dev/null || exit 1"]
ENTRYPOINT ["/usr/local/bin/service"]
