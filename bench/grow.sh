#!/usr/bin/env bash
# bench/grow.sh: issuance and introspection on an empty database against
# one holding many ledger rows and revocations, alternating.
#
# The loaded database is made first with tokend bench seed-data (or given):
#   FULL_DATA=/var/tmp/full bench/grow.sh                    # SQLite
#   FULL_DATABASE_URL=postgres://.../full EMPTY_DATABASE_URL=postgres://.../empty bench/grow.sh
# FULL_DATA / FULL_DATABASE_URL name a database seeded already, e.g. with
#   tokend bench seed-data --data /var/tmp/full --ledger-rows 10000000 --revocations 1000000
# (for SQLite without them, the script seeds ROWS / REVS into a temporary
# directory first). Each round starts tokend serve --dev on the empty
# database, then on the full one, and runs tokend bench --mode issue, then
# --mode introspect, at concurrency C for DURATION each, reading the
# server's CPU per request from /proc/PID/stat around each run.
#
# Environment: TOKEND (binary; default go build), ROUNDS (default 3), C
# (default 32), DURATION (default 6s), ROWS / REVS (default 10000000 /
# 1000000), SEED_LIMIT (seed-data --time-limit, default 20m), STATE (with
# PostgreSQL: where the two servers' data directories stay between runs,
# default /var/tmp/tokend-grow; they hold the master keys that open the
# signing keys the databases keep, so a later run must use the same).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${ROUNDS:-3}
C=${C:-32}
DURATION=${DURATION:-6s}
ROWS=${ROWS:-10000000}
REVS=${REVS:-1000000}
SEED_LIMIT=${SEED_LIMIT:-20m}
work=$(mktemp -d /tmp/tokend-grow.XXXXXX)
pid=
cleanup() { [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
if [[ -z ${TOKEND:-} ]]; then
  (cd "$here/.." && go build -o "$work/tokend" ./cmd/tokend)
  TOKEND=$work/tokend
fi
tick_us=$((1000000 / $(getconf CLK_TCK)))
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

if [[ -z ${FULL_DATABASE_URL:-} && -z ${FULL_DATA:-} ]]; then
  FULL_DATA=$work/full
  "$TOKEND" bench seed-data --data "$FULL_DATA" --ledger-rows "$ROWS" --revocations "$REVS" --time-limit "$SEED_LIMIT" >&2
fi

# serve NAME: starts tokend --dev on database NAME (empty or full).
serve() {
  local p data=$work/dev-$1
  p=$(port)
  if [[ -n ${FULL_DATABASE_URL:-} ]]; then
    data=${STATE:-/var/tmp/tokend-grow}/dev-$1
    local u=$EMPTY_DATABASE_URL
    [[ $1 == full ]] && u=$FULL_DATABASE_URL
    TOKEND_DATABASE_URL=$u "$TOKEND" serve --dev --data "$data" --addr "127.0.0.1:$p" --log-level warn >>"$work/$1.log" 2>&1 &
  else
    [[ $1 == full ]] && data=$FULL_DATA
    env -u TOKEND_DATABASE_URL "$TOKEND" serve --dev --data "$data" --addr "127.0.0.1:$p" --log-level warn >>"$work/$1.log" 2>&1 &
  fi
  pid=$!
  url=http://127.0.0.1:$p
  local t0; t0=$(date +%s%N)
  for _ in $(seq 1200); do curl -fs "$url/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
  ready_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  secret=$(jq -r '.clients[] | select(.client_id=="demo-service") | .client_secret' "$data/dev-credentials.json")
}

echo "db round mode req/s p50_ms p99_ms cpu_us_per_req ready_ms rss_mib"
for r in $(seq "$ROUNDS"); do
  for db in empty full; do
    serve "$db"
    for mode in issue introspect; do
      before=$(cpu "$pid")
      out=$("$TOKEND" bench --endpoint "$url" --tenant demo --client-id demo-service --client-secret "$secret" \
        --mode "$mode" -c "$C" -d "$DURATION" --warmup 1s -o json 2>/dev/null)
      after=$(cpu "$pid")
      jq -r --arg db "$db" --arg r "$r" --arg t $((after - before)) --arg k "$tick_us" --arg ready "$ready_ms" \
        --arg rss "$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' /proc/$pid/status)" \
        '.[0] | "\($db) \($r) \(.mode) \(.requests_per_second | floor) \(.p50_ms * 1000 | floor / 1000) \(.p99_ms * 1000 | floor / 1000) \(($t | tonumber) * ($k | tonumber) / .requests * 10 | floor / 10) \($ready) \($rss)"' <<<"$out"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  done
done
