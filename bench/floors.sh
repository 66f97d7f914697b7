#!/usr/bin/env bash
# bench/floors.sh: issuance against its two floors through tokend bench
# (its own load generator) rather than wrk: for SQLite and, when
# TOKEND_DATABASE_URL names a server this script may create databases on,
# PostgreSQL, it starts tokend serve --dev and runs
#   tokend bench --mode baseline-sign,baseline-durable,issue -c C -d DURATION
# at every concurrency of CONC (the floors run as child processes of
# bench, the durable one on its own fresh database), printing one line per
# mode: req/s, p50 and p99 in ms, errors.
#
#   bench/floors.sh
#   TOKEND_DATABASE_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' bench/floors.sh
#
# Environment: TOKEND (binary; default go build ./cmd/tokend), CONC
# (default "8 32 128"), DURATION (default 8s), WARMUP (default 2s).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CONC=${CONC:-8 32 128}
DURATION=${DURATION:-8s}
WARMUP=${WARMUP:-2s}
work=$(mktemp -d /tmp/tokend-floors.XXXXXX)
pid=
dbs=()
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null
  for d in "${dbs[@]}"; do dropdb --if-exists "--maintenance-db=$TOKEND_DATABASE_URL" "$d" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
if [[ -z ${TOKEND:-} ]]; then
  (cd "$here/.." && go build -o "$work/tokend" ./cmd/tokend)
  TOKEND=$work/tokend
fi
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# run BACKEND [TOKEND_DB FLOOR_DB]
run() {
  local b=$1 p
  p=$(port)
  if [[ $b == postgres ]]; then
    TOKEND_DATABASE_URL=$2 "$TOKEND" serve --dev --data "$work/$b" --addr "127.0.0.1:$p" --log-level warn >"$work/$b.log" 2>&1 &
  else
    env -u TOKEND_DATABASE_URL "$TOKEND" serve --dev --data "$work/$b" --addr "127.0.0.1:$p" --log-level warn >"$work/$b.log" 2>&1 &
  fi
  pid=$!
  for _ in $(seq 200); do curl -fs "http://127.0.0.1:$p/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
  local floor=${3:-sqlite:$work/floor.db} secret
  secret=$(jq -r '.clients[] | select(.client_id=="demo-service") | .client_secret' "$work/$b/dev-credentials.json")
  for c in $CONC; do
    "$TOKEND" bench --endpoint "http://127.0.0.1:$p" --tenant demo --client-id demo-service --client-secret "$secret" \
      --mode baseline-sign,baseline-durable,issue --baseline-database "$floor" -c "$c" -d "$DURATION" --warmup "$WARMUP" -o json 2>/dev/null |
      jq -r --arg b "$b" --arg c "$c" '.[] | "\($b) c\($c) \(.mode) \(.requests_per_second | floor) req/s p50 \(.p50_ms) ms p99 \(.p99_ms) ms errors \(.errors)"'
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
}

echo "# $(nproc) CPUs, $(uname -sr), $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
run sqlite
if [[ -n ${TOKEND_DATABASE_URL:-} ]]; then
  tag=$$_$RANDOM
  createdb "--maintenance-db=$TOKEND_DATABASE_URL" "tokend_floors_$tag" && dbs+=("tokend_floors_$tag")
  createdb "--maintenance-db=$TOKEND_DATABASE_URL" "tokend_floorsf_$tag" && dbs+=("tokend_floorsf_$tag")
  run postgres "$(sed -E "s#/[^/?]+(\?|$)#/tokend_floors_$tag\1#" <<<"$TOKEND_DATABASE_URL")" \
    "$(sed -E "s#/[^/?]+(\?|$)#/tokend_floorsf_$tag\1#" <<<"$TOKEND_DATABASE_URL")"
fi
