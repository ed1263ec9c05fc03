#!/bin/sh
# deploy/proxy/entrypoint.sh — renders nginx.conf.template (next to this script) and starts nginx.
# POSIX sh; needs only openssl (or htpasswd) and sed. Used by the proxy image and by the tests.
#
# Refuses to start (exit 2, one line naming the problem) when:
#   - BASIC_AUTH_USER or BASIC_AUTH_PASS is missing or empty,
#   - BASIC_AUTH_PASS is the placeholder `change-me` of .env.example,
#   - an IP_WHITELIST entry is not an IPv4/IPv6 address or CIDR range (the entry is named),
#   - a port, address or size is malformed.
#
# Environment (defaults are the container's):
#   BASIC_AUTH_USER, BASIC_AUTH_PASS   required
#   IP_WHITELIST         optional: comma-separated IPv4/IPv6 addresses and CIDRs; empty = any address
#   NGINX_PORT           listen port (80)
#   PROXY_LISTEN_ADDR    listen address; empty = all addresses (IPv4)
#   PROXY_UPSTREAM       the app, host:port (pocket-dev-app:3000); several app nodes as a space- or
#                        comma-separated list (round robin; a node that refuses is skipped)
#   PD_UPLOAD_MAX_BYTES  body size limit in bytes, the app's upload cap (26214400 = 25 MiB)
#   PROXY_RUNTIME_DIR    htpasswd, access.conf, pages, pid and temp files (/var/cache/nginx/pocket-dev)
#   PROXY_CONF           where the rendered config goes (/etc/nginx/nginx.conf)
#   PROXY_USER           worker user when started as root (nginx, else www-data, else nobody)
#   PROXY_MIME_TYPES     (/etc/nginx/mime.types)
#
# Then runs its arguments (the image's CMD: nginx -g 'daemon off;'), or that when there are none.
# A test runs e.g.: entrypoint.sh /usr/sbin/nginx -e stderr -p "$tmp" -c "$tmp/nginx.conf" -g 'daemon off;'
set -eu

HERE=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
PLACEHOLDER=change-me

die() {
    printf 'pocket-dev-proxy: %s\n' "$*" >&2
    exit 2
}

# ------------------------------------------------------------------ credentials
user=${BASIC_AUTH_USER:-}
pass=${BASIC_AUTH_PASS:-}
[ -n "$user" ] || die "BASIC_AUTH_USER is not set: set BASIC_AUTH_USER and BASIC_AUTH_PASS (.env)"
[ -n "$pass" ] || die "BASIC_AUTH_PASS is not set: set BASIC_AUTH_USER and BASIC_AUTH_PASS (.env)"
[ "$pass" != "$PLACEHOLDER" ] || die "BASIC_AUTH_PASS is still the placeholder '$PLACEHOLDER' from .env.example: choose a real password"
case $user in
    *:*) die "BASIC_AUTH_USER may not contain ':'" ;;
esac
nl='
'
case $user$pass in
    *"$nl"*) die "BASIC_AUTH_USER and BASIC_AUTH_PASS may not contain a line break" ;;
esac

# ------------------------------------------------------------------ addresses
is_uint() { # value max  (no leading zeros: 08 is not a port, 010 not an octet, whatever a parser would make of them)
    case $1 in '' | *[!0-9]* | 0?*) return 1 ;; esac
    [ ${#1} -le 5 ] && [ "$1" -le "$2" ]
}

is_ipv4() {
    case $1 in *[!0-9.]* | .* | *. | *..*) return 1 ;; esac
    old_ifs=$IFS
    IFS=.
    # shellcheck disable=SC2086
    set -- $1
    IFS=$old_ifs
    [ $# -eq 4 ] || return 1
    for octet in "$@"; do
        is_uint "$octet" 255 || return 1
        case $octet in 0?*) return 1 ;; esac
    done
}

is_ipv6() {
    addr=$1
    case $addr in '' | *[!0-9A-Fa-f:.]* | *:::*) return 1 ;; esac
    # An embedded IPv4 tail counts as two groups: it is replaced by 0:0 before counting.
    case $addr in
        *.*)
            v4=${addr##*:}
            is_ipv4 "$v4" || return 1
            addr=${addr%"$v4"}0:0
            ;;
    esac
    rest=${addr#*::}
    if [ "$rest" != "$addr" ]; then
        case $rest in *::*) return 1 ;; esac
        compressed=1
    else
        compressed=0
    fi
    case $addr in
        :[!:]* | *[!:]:) return 1 ;;
    esac
    groups=0
    old_ifs=$IFS
    IFS=:
    # shellcheck disable=SC2086
    set -- $addr
    IFS=$old_ifs
    for group in "$@"; do
        [ -z "$group" ] && continue
        [ ${#group} -le 4 ] || return 1
        groups=$((groups + 1))
    done
    if [ "$compressed" = 1 ]; then
        [ "$groups" -le 7 ] || return 1
    else
        [ "$groups" -eq 8 ] || return 1
    fi
}

# Prints the nginx form of one whitelist entry, or fails.
whitelist_entry() {
    entry=$1
    case $entry in
        */*) ip=${entry%/*} prefix=${entry#*/} ;;
        *) ip=$entry prefix= ;;
    esac
    if is_ipv4 "$ip"; then
        max=32
    elif is_ipv6 "$ip"; then
        max=128
    else
        return 1
    fi
    if [ -n "$prefix" ] || [ "$ip" != "$entry" ]; then
        is_uint "$prefix" "$max" || return 1
        case $prefix in 0?*) return 1 ;; esac
    fi
    printf '%s' "$entry"
}

# Fills $access with allow lines and a final deny (a function: `set --` here must not touch "$@").
parse_whitelist() {
    access=""
    [ -n "${IP_WHITELIST:-}" ] || return 0
    old_ifs=$IFS
    IFS=,
    set -f
    # shellcheck disable=SC2086
    set -- $IP_WHITELIST
    set +f
    IFS=$old_ifs
    for raw in "$@"; do
        entry=$(printf '%s' "$raw" | tr -d ' \t')
        [ -n "$entry" ] || continue
        net=$(whitelist_entry "$entry") || die "IP_WHITELIST: '$entry' is not an IPv4/IPv6 address or CIDR range"
        access="${access}allow $net;$nl"
    done
    if [ -n "$access" ]; then access="${access}deny all;$nl"; fi
}
parse_whitelist

port=${NGINX_PORT:-80}
if ! is_uint "$port" 65535 || [ "$port" -eq 0 ]; then die "NGINX_PORT: '$port' is not a port number"; fi
listen_addr=${PROXY_LISTEN_ADDR:-}
if [ -n "$listen_addr" ]; then
    if is_ipv4 "$listen_addr"; then
        listen="$listen_addr:$port"
    elif is_ipv6 "$listen_addr"; then
        listen="[$listen_addr]:$port"
    else
        die "PROXY_LISTEN_ADDR: '$listen_addr' is not an IP address"
    fi
else
    listen=$port
fi
# Fills $upstream_servers with one nginx `server` line per PROXY_UPSTREAM entry, and $upstream with
# the list for the log (a function: `set --` here must not touch "$@").
parse_upstreams() {
    upstream=${PROXY_UPSTREAM:-pocket-dev-app:3000}
    upstream_servers=""
    old_ifs=$IFS
    IFS=', '
    set -f
    # shellcheck disable=SC2086
    set -- $upstream
    set +f
    IFS=$old_ifs
    [ $# -gt 0 ] || die "PROXY_UPSTREAM: '$upstream' is not host:port"
    for server in "$@"; do
        case $server in
            *[!A-Za-z0-9.:_-]* | *:) die "PROXY_UPSTREAM: '$server' is not host:port" ;;
            *:*) ;;
            *) die "PROXY_UPSTREAM: '$server' is not host:port" ;;
        esac
        upstream_servers="${upstream_servers}server $server; "
    done
    upstream=$(printf '%s' "$*" | tr ' ' ',')
}
parse_upstreams
max_body=${PD_UPLOAD_MAX_BYTES:-26214400}
case $max_body in '' | *[!0-9]*) die "PD_UPLOAD_MAX_BYTES: '$max_body' is not a number of bytes" ;; esac

runtime=${PROXY_RUNTIME_DIR:-/var/cache/nginx/pocket-dev}
conf=${PROXY_CONF:-/etc/nginx/nginx.conf}
mime=${PROXY_MIME_TYPES:-/etc/nginx/mime.types}
for path in "$runtime" "$conf" "$mime"; do
    case $path in
        /*) ;;
        *) die "'$path' must be an absolute path" ;;
    esac
    case $path in *[!A-Za-z0-9._/-]*) die "'$path' may only contain letters, digits and . _ - /" ;; esac
done
[ -f "$mime" ] || die "PROXY_MIME_TYPES: $mime does not exist"
[ -f "$HERE/nginx.conf.template" ] || die "$HERE/nginx.conf.template is missing"

# ------------------------------------------------------------------ runtime files
umask 022
mkdir -p "$runtime/html" "$runtime/client_body" "$runtime/proxy"
cp "$HERE/maintenance.html" "$HERE/forbidden.html" "$runtime/html/"
printf '# generated by entrypoint.sh from IP_WHITELIST\n%s' "$access" >"$runtime/access.conf"

user_directive=""
if [ "$(id -u)" = 0 ]; then
    worker=${PROXY_USER:-}
    if [ -z "$worker" ]; then
        for candidate in nginx www-data nobody; do
            if id "$candidate" >/dev/null 2>&1; then worker=$candidate; break; fi
        done
    fi
    id "$worker" >/dev/null 2>&1 || die "PROXY_USER: no user '$worker'"
    user_directive="user $worker;"
fi

# The password hash: SHA-512 crypt when openssl has it, else apr1 (both understood by nginx).
# The password goes through stdin, never the command line.
hash=$(printf '%s\n' "$pass" | openssl passwd -6 -stdin 2>/dev/null) \
    || hash=$(printf '%s\n' "$pass" | openssl passwd -apr1 -stdin 2>/dev/null) \
    || die "cannot hash the password: openssl is missing"
umask 077
printf '%s:%s\n' "$user" "$hash" >"$runtime/htpasswd.tmp"
if [ -n "$user_directive" ]; then
    # Readable by the workers' group only.
    chgrp "$(id -g "$worker")" "$runtime/htpasswd.tmp"
    chmod 0640 "$runtime/htpasswd.tmp"
fi
mv -f "$runtime/htpasswd.tmp" "$runtime/htpasswd"
umask 022

# ------------------------------------------------------------------ render
sed \
    -e "s|@@RUNTIME_DIR@@|$runtime|g" \
    -e "s|@@LISTEN@@|$listen|g" \
    -e "s|@@UPSTREAM_SERVERS@@|$upstream_servers|g" \
    -e "s|@@MAX_BODY@@|$max_body|g" \
    -e "s|@@MIME_TYPES@@|$mime|g" \
    -e "s|@@USER_DIRECTIVE@@|$user_directive|g" \
    "$HERE/nginx.conf.template" >"$conf.tmp"
if grep -q '@@[A-Z_]*@@' "$conf.tmp"; then
    rm -f "$conf.tmp"
    die "the template has a placeholder this script does not know"
fi
mv -f "$conf.tmp" "$conf"

if [ -n "$access" ]; then
    printf 'pocket-dev-proxy: listening on %s for %s, Basic Auth user %s, IP whitelist: %s\n' "$listen" "$upstream" "$user" "$(printf '%s' "$access" | grep '^allow' | sed 's/^allow //; s/;$//' | tr '\n' ' ')" >&2
else
    printf 'pocket-dev-proxy: listening on %s for %s, Basic Auth user %s, no IP whitelist\n' "$listen" "$upstream" "$user" >&2
fi

if [ "$#" -eq 0 ]; then
    set -- nginx -c "$conf" -g 'daemon off;'
fi
exec "$@"
