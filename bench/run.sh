#!/usr/bin/env bash
# bench/run.sh: issuance against its two floors, with wrk, on this machine.
#
# For SQLite (always) and PostgreSQL (when TOKEND_DATABASE_URL names a
# server this script may create databases on), it starts three servers:
#   sign     tokend bench baseline-server sign     (sign one ES256 JWT)
#   durable  tokend bench baseline-server durable  (the durable floor)
#   tokend   tokend serve --dev                    (client demo-service)
# and drives each with bench/wrk/token.lua at every concurrency of CONC,
# alternating the three servers at each concurrency. Per run it prints
# req/s, p50 and p99 (wrk --latency), server CPU per request (utime+stime
# from /proc/PID/stat) and, for tokend, its ratios to both floors of the
# same concurrency. Then it reports tokend's peak RSS (VmHWM) after the
# c128 runs, and an overload: wrk and tokend bench at OVERLOAD connections
# for OVERLOAD_DURATION (share of 503 answers, p99 of the served requests,
# peak RSS after it).
#
#   bench/run.sh                                 # SQLite only
#   TOKEND_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable bench/run.sh
#
# Environment: TOKEND (binary; default: go build ./cmd/tokend), DURATION
# (per run, default 8s), WARMUP (default 2s, once per server), CONC
# (default "8 32 128"), THREADS (wrk threads, default 2), OVERLOAD (default
# 1024, 0 skips), OVERLOAD_DURATION (default 10s). Everything is bounded:
# with the defaults a backend takes about 2.5 minutes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lua=$here/wrk/token.lua
DURATION=${DURATION:-8s}
WARMUP=${WARMUP:-2s}
CONC=${CONC:-8 32 128}
THREADS=${THREADS:-2}
OVERLOAD=${OVERLOAD:-1024}
OVERLOAD_DURATION=${OVERLOAD_DURATION:-10s}
command -v wrk >/dev/null || { echo "run.sh: wrk not found (Debian: apt-get install wrk)" >&2; exit 1; }
command -v jq >/dev/null || { echo "run.sh: jq not found" >&2; exit 1; }

work=$(mktemp -d /tmp/tokend-bench.XXXXXX)
pids=()
dbs=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for d in "${dbs[@]}"; do dropdb --if-exists "--maintenance-db=$TOKEND_DATABASE_URL" "$d" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
if [[ -z ${TOKEND:-} ]]; then
  (cd "$here/.." && go build -o "$work/tokend" ./cmd/tokend)
  TOKEND=$work/tokend
fi
# The baseline servers serve until their standard input ends: a FIFO this
# script holds open.
mkfifo "$work/stdin"
exec 3<>"$work/stdin"

tick_us=$((1000000 / $(getconf CLK_TCK)))
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hwm() { awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }

# baseline KIND [DATABASE]: starts a baseline server; sets pid and url.
baseline() {
  local out=$work/$1.url
  "$TOKEND" bench baseline-server "$1" ${2:+--baseline-database "$2"} <&3 >"$out" 2>"$work/$1.err" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do [[ -s $out ]] && break; sleep 0.05; done
  url=$(head -1 "$out")
}

# tokend_start BACKEND: starts tokend serve --dev; sets pid, url, secret.
tokend_start() {
  local data=$work/data-$1 p
  p=$(port)
  if [[ $1 == postgres ]]; then
    TOKEND_DATABASE_URL=$2 "$TOKEND" serve --dev --data "$data" --addr "127.0.0.1:$p" --log-level warn >"$work/tokend-$1.log" 2>&1 &
  else
    env -u TOKEND_DATABASE_URL "$TOKEND" serve --dev --data "$data" --addr "127.0.0.1:$p" --log-level warn >"$work/tokend-$1.log" 2>&1 &
  fi
  pid=$!
  pids+=("$pid")
  url=http://127.0.0.1:$p
  for _ in $(seq 200); do curl -fs "$url/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
  secret=$(jq -r '.clients[] | select(.client_id=="demo-service") | .client_secret' "$data/dev-credentials.json")
}

# drive NAME PID URL ID SECRET C DURATION: one wrk run; appends a result line.
drive() {
  local name=$1 p=$2 u=$3 c=$6 before after line
  before=$(cpu "$p")
  line=$(CLIENT_ID=$4 CLIENT_SECRET=$5 wrk -t"$THREADS" -c"$c" -d"$7" --latency -s "$lua" "$u" | grep '^WRK ')
  after=$(cpu "$p")
  eval "${line#WRK }"
  cpu_us=$(awk -v t=$((after - before)) -v n="$requests" -v k="$tick_us" 'BEGIN {printf "%.1f", n ? t * k / n : 0}')
  printf '%s %s c%d %s %s %s %s %s\n' "$backend" "$name" "$c" "$rps" "$p50_ms" "$p99_ms" "$cpu_us" "$non2xx" | tee -a "$work/results"
}

run_backend() {
  backend=$1
  local dburl=${2:-} floordb
  if [[ $backend == postgres ]]; then
    local tag=$$_$RANDOM
    createdb "--maintenance-db=$dburl" "tokend_bench_$tag" && dbs+=("tokend_bench_$tag")
    createdb "--maintenance-db=$dburl" "tokend_floor_$tag" && dbs+=("tokend_floor_$tag")
    tokdb=$(sed -E "s#/[^/?]+(\?|$)#/tokend_bench_$tag\1#" <<<"$dburl")
    floordb=$(sed -E "s#/[^/?]+(\?|$)#/tokend_floor_$tag\1#" <<<"$dburl")
  else
    floordb=sqlite:$work/floor.db
  fi
  baseline sign; sign_pid=$pid; sign_url=$url/sign
  baseline durable "$floordb"; dur_pid=$pid; dur_url=$url/oauth2/token
  tokend_start "$backend" "${tokdb:-}"; tok_pid=$pid; tok_url=$url/t/demo/oauth2/token; tok_secret=$secret
  local fid=floor fsec
  fsec=$("$TOKEND" bench baseline-server --help | grep -o 'tkd_cs_[A-Za-z0-9_-]*' | head -1)
  echo "# $backend: warm-up $WARMUP each" >&2
  CLIENT_ID=x CLIENT_SECRET=x wrk -t"$THREADS" -c32 -d"$WARMUP" -s "$lua" "$sign_url" >/dev/null
  CLIENT_ID=$fid CLIENT_SECRET=$fsec wrk -t"$THREADS" -c32 -d"$WARMUP" -s "$lua" "$dur_url" >/dev/null
  CLIENT_ID=demo-service CLIENT_SECRET=$tok_secret wrk -t"$THREADS" -c32 -d"$WARMUP" -s "$lua" "$tok_url" >/dev/null
  for c in $CONC; do
    drive sign "$sign_pid" "$sign_url" x x "$c" "$DURATION"
    drive durable "$dur_pid" "$dur_url" "$fid" "$fsec" "$c" "$DURATION"
    drive tokend "$tok_pid" "$tok_url" demo-service "$tok_secret" "$c" "$DURATION"
  done
  echo "$backend rss tokend $(hwm "$tok_pid") durable $(hwm "$dur_pid") sign $(hwm "$sign_pid")" | tee -a "$work/rss"
  if [[ $OVERLOAD -gt 0 ]]; then
    drive tokend "$tok_pid" "$tok_url" demo-service "$tok_secret" "$OVERLOAD" "$OVERLOAD_DURATION"
    "$TOKEND" bench --endpoint "${tok_url%/t/demo/oauth2/token}" --tenant demo --client-id demo-service \
      --client-secret "$tok_secret" --mode issue -c "$OVERLOAD" -d "$OVERLOAD_DURATION" --warmup 0s -o json 2>/dev/null |
      jq -r --arg b "$backend" '.[0] | "\($b) overload-bench c\(.concurrency) requests \(.requests) errors \(.errors) served_rps \(.requests_per_second) served_p50_ms \(.p50_ms) served_p99_ms \(.p99_ms) first_error \(.first_error // "-")"' |
      tee -a "$work/overload"
    echo "$backend rss-after-overload tokend $(hwm "$tok_pid")" | tee -a "$work/rss"
  fi
  for p in "$sign_pid" "$dur_pid" "$tok_pid"; do kill "$p"; wait "$p" 2>/dev/null || true; done
}

echo "# $(nproc) CPUs, $(uname -sr), $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
run_backend sqlite
if [[ -n ${TOKEND_DATABASE_URL:-} ]]; then
  run_backend postgres "$TOKEND_DATABASE_URL"
fi

echo
echo "| backend | c | server | req/s | p50 ms | p99 ms | CPU µs/req | non-2xx | tokend/sign | tokend/durable |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
awk '{
  key = $1 " " $3; rps[$2, key] = $4; line[NR] = $0
} END {
  for (i = 1; i <= NR; i++) {
    split(line[i], f, " "); key = f[1] " " f[3]
    r1 = r2 = "";
    if (f[2] == "tokend" && rps["sign", key] > 0) r1 = sprintf("%.0f %%", 100 * f[4] / rps["sign", key])
    if (f[2] == "tokend" && rps["durable", key] > 0) r2 = sprintf("%.0f %%", 100 * f[4] / rps["durable", key])
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", f[1], f[3], f[2], f[4], f[5], f[6], f[7], f[8], r1, r2
  }
}' "$work/results"
echo
cat "$work/rss"
[[ -f $work/overload ]] && cat "$work/overload"
