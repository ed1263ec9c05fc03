# Dockerfile — the pocket-dev image (used by compose.yml for pocket-dev-app and pocket-dev-worker).
#
#   build    rust (Debian bookworm) + Node.js 22: scripts/setup.sh installs the build tools, then
#            scripts/build-release.sh runs `scripts/build.sh --release` (the same scripts CI runs).
#   runtime  debian bookworm-slim with /usr/local/bin/pocket-dev, the site (/app/site), the migrations
#            (/app/migrations), Node.js 22, the pinned Claude Code CLI, git and gh, running as the
#            non-root user `pocketdev` (UID/GID from the USER_ID/GROUP_ID build args).
#
# Build:  docker build --build-arg USER_ID="$(id -u)" --build-arg GROUP_ID="$(id -g)" -t pocket-dev:local .
# Run:    see compose.yml; the entrypoint (deploy/app/entrypoint.sh) migrates, then execs `pocket-dev "$@"`.
#
# scripts/check-deploy.sh lints this file (hadolint + deploy/checks/check_dockerfiles.py) and checks that
# CLAUDE_CODE_VERSION equals the version pinned in tools/package.json.
#
# No `# syntax=` line: it makes BuildKit fetch its frontend image from Docker Hub before anything else, so
# the file could not build on a machine without a registry (the test machines). The engine's built-in
# frontend reads everything used here (`RUN --mount=type=cache` included) on any Docker with BuildKit.

ARG RUST_VERSION=1.95.0
ARG NODE_MAJOR=22
ARG DEBIAN_RELEASE=bookworm

# ---------------------------------------------------------------- Node.js 22 (official image, copied below)
FROM node:${NODE_MAJOR}-${DEBIAN_RELEASE}-slim AS node

# ---------------------------------------------------------------- build stage
FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Node.js + npm for the npm build tools (binaryen's wasm-opt, lightningcss, terser) that scripts/setup.sh installs.
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version

WORKDIR /src
# No databases, browsers or nginx in the build stage: setup.sh only reports those (PD_SKIP_APT=1).
ENV PD_SKIP_APT=1 CARGO_TERM_COLOR=never

# Tools first (wasm-bindgen-cli compiles for ~3 min): this layer is reused until one of these files changes.
COPY scripts/setup.sh scripts/setup.sh
COPY Cargo.lock Cargo.lock
COPY tools/package.json tools/package-lock.json tools/
COPY end2end/package.json end2end/package-lock.json end2end/
RUN scripts/setup.sh

# The release build. target/ and the cargo registry are BuildKit caches, so a rebuild after an upgrade
# only recompiles what changed; build-release.sh copies the binary and the site to /out (PD_RELEASE_OUT).
COPY . .
RUN --mount=type=cache,id=pocket-dev-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=pocket-dev-target,target=/src/target,sharing=locked \
    PD_RELEASE_OUT=/out scripts/build-release.sh

# ---------------------------------------------------------------- runtime stage
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

ARG USER_ID=1000
ARG GROUP_ID=1000
# Keep equal to "@anthropic-ai/claude-code" in tools/package.json (checked by scripts/check-deploy.sh).
ARG CLAUDE_CODE_VERSION=2.1.197

# System packages: TLS roots, curl (healthcheck), git + gh + ssh for the agents, tini as PID 1 (reaps the
# agents' orphaned processes and forwards signals), procps/less for a usable shell.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates curl git gh openssh-client tini procps less \
 && rm -rf /var/lib/apt/lists/*

# Node.js 22 (the agents run npm/npx in their workspaces) and the pinned Claude Code CLI.
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && npm install --global --no-audit --no-fund "@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}" \
 && npm cache clean --force \
 && node --version \
 && claude --version

# The non-root user; its home holds ~/.claude (credentials, sessions) and is the user-data volume.
RUN groupadd --gid "${GROUP_ID}" pocketdev \
 && useradd --uid "${USER_ID}" --gid "${GROUP_ID}" --create-home --home-dir /home/pocketdev \
      --shell /bin/bash pocketdev \
 && mkdir -p /workspace /home/pocketdev/.claude \
 && chown -R "${USER_ID}:${GROUP_ID}" /workspace /home/pocketdev

COPY --from=build /out/pocket-dev /usr/local/bin/pocket-dev
COPY --from=build /out/site /app/site
COPY migrations /app/migrations
COPY deploy/app/entrypoint.sh deploy/app/healthcheck.sh /app/deploy/

ENV HOME=/home/pocketdev \
    LEPTOS_OUTPUT_NAME=pocket-dev \
    LEPTOS_SITE_ROOT=site \
    LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_SITE_ADDR=0.0.0.0:3000 \
    LEPTOS_ENV=PROD \
    WORKSPACE_ROOT=/workspace \
    CLAUDE_BIN=/usr/local/bin/claude \
    RUST_LOG=info

WORKDIR /app
USER ${USER_ID}:${GROUP_ID}
EXPOSE 3000

# serve: GET /health (Postgres and Redis reachable); worker: process alive, Postgres and Redis answer.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["/app/deploy/healthcheck.sh"]

ENTRYPOINT ["/usr/bin/tini", "--", "/app/deploy/entrypoint.sh"]
CMD ["serve"]
