# The one rollcall image: every stage is `rollcall <command>` (docker-compose.yml).
# Models are not baked in: they are mounted at /models and checked by sha256 at start.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin rollcall \
 && ROLLCALL_HOME=/opt/rollcall/.rollcall scripts/setup --runtime-only

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /opt/rollcall rollcall
WORKDIR /opt/rollcall
COPY --from=build /src/target/release/rollcall /usr/local/bin/rollcall
COPY --from=build /opt/rollcall/.rollcall/lib /opt/rollcall/.rollcall/lib
COPY topics /opt/rollcall/topics
ENV ROLLCALL__MODELS__DIR=/models
USER rollcall
ENTRYPOINT ["rollcall"]
CMD ["--help"]
