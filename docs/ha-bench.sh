#!/usr/bin/env bash
# Throughput of token issuance with a synchronous standby against the same
# PostgreSQL primary alone (standby stopped, synchronous replication off),
# in one run:
# a primary and a streaming standby on loopback (ports 15431-15432) in a
# temporary directory, one tokend on it (127.0.0.1:18631), and
# `tokend bench --mode issue` alternating the two setups ROUNDS times.
# It prints, per round, requests/s and tokend's CPU per request (utime +
# stime from /proc/PID/stat). Run as root (the servers run as postgres) or
# as the owner of the PostgreSQL binaries.
#
#   PG_BIN=/usr/lib/postgresql/15/bin ROUNDS=3 REQUESTS=20000 bash docs/ha-bench.sh
set -euo pipefail
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-20000}
CONC=${CONC:-32}
cd "$(dirname "$0")/.."
dir=$(mktemp -d /tmp/tokend-ha-bench-XXXXXX)
chmod 755 "$dir"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$dir"
tokend_pid=
cleanup() {
  [ -n "$tokend_pid" ] && kill "$tokend_pid" 2>/dev/null && wait "$tokend_pid" 2>/dev/null || true
  as_pg "$PG_BIN/pg_ctl" -D "$dir/standby" -m immediate stop >/dev/null 2>&1 || true
  as_pg "$PG_BIN/pg_ctl" -D "$dir/primary" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
as_pg "$PG_BIN/initdb" -D "$dir/primary" -A trust -U postgres >/dev/null
cat >>"$dir/primary/postgresql.conf" <<EOF
port = 15431
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
synchronous_standby_names = '*'
EOF
as_pg "$PG_BIN/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w start >/dev/null
as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p 15431 -U postgres -D "$dir/standby" -R -X stream
as_pg "$PG_BIN/pg_ctl" -D "$dir/standby" -l "$dir/standby.log" -o "-p 15432" -w start >/dev/null
psql() { command psql -h 127.0.0.1 -p 15431 -U postgres -Atq "$@"; }

go build -o "$dir/tokend" ./cmd/tokend
export TOKEND_DATABASE_URL="postgres://postgres@127.0.0.1:15431,127.0.0.1:15432/postgres?sslmode=disable&target_session_attrs=read-write"
export TOKEND_MASTER_KEY=$(head -c 32 /dev/urandom | base64)
admin=$("$dir/tokend" bootstrap --data "$dir/data" | awk '/admin token:/ {print $3}')
"$dir/tokend" serve --addr 127.0.0.1:18631 --data "$dir/data" --log-level warn >"$dir/tokend.log" 2>&1 &
tokend_pid=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18631/readyz >/dev/null && break; sleep 0.1; done
export TOKEND_ENDPOINT=http://127.0.0.1:18631 TOKEND_TOKEN=$admin
"$dir/tokend" tenants create bench >/dev/null
secret=$("$dir/tokend" clients create svc --tenant bench --scopes read -o json | sed -n 's/.*"client_secret": *"\([^"]*\)".*/\1/p')

ticks() { awk '{print $14 + $15}' "/proc/$tokend_pid/stat"; }
run() { # $1: label, $2: synchronous_standby_names ('' stops the standby: a single server)
  if [ -n "$2" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$dir/standby" -l "$dir/standby.log" -o "-p 15432" -w start >/dev/null 2>&1 || true
  else
    as_pg "$PG_BIN/pg_ctl" -D "$dir/standby" -m fast -w stop >/dev/null 2>&1 || true
  fi
  psql -c "ALTER SYSTEM SET synchronous_standby_names = '$2'" -c "SELECT pg_reload_conf()" >/dev/null
  for _ in $(seq 1 100); do
    [ -z "$2" ] && break
    [ "$(psql -c "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")" = 1 ] && break
    sleep 0.1
  done
  local state
  state=$(psql -c "SELECT coalesce(string_agg(sync_state, ','), 'none') FROM pg_stat_replication")
  local t0 t1 out rps
  t0=$(ticks)
  out=$("$dir/tokend" bench --mode issue --tenant bench --client-id svc --client-secret "$secret" \
    -c "$CONC" --requests "$REQUESTS" -d 30s --warmup 0s -o json)
  t1=$(ticks)
  field() { echo "$out" | tr ',{}' '\n\n\n' | sed -n "s/^ *\"$1\": *\([0-9.]*\).*/\1/p" | head -1; }
  local n
  n=$(field requests)
  echo "$1 (standby sync_state $state): $(field requests_per_second) req/s, p50 $(field p50_ms) ms, p99 $(field p99_ms) ms, $n requests, $(field errors) errors, tokend CPU $(( (t1 - t0) * 10 * 1000 / n )) us/request"
}
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then run synchronous '*'; run single ''; else run single ''; run synchronous '*'; fi
done
