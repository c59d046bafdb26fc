#!/bin/bash
# The cost of the audit trail, measured in one run: three servers from one binary — auditing
# with --audit-fsync always, with the default 20 ms flush window, and --no-audit — and rounds
# that alternate between them.
#
#   go build -o /tmp/coffer ./cmd/coffer
#   BIN=/tmp/coffer scripts/bench-audit.sh          # coffer bench (aws-sdk-go-v2 clients): GenerateDataKey, 4 KiB SSE-KMS PUT
#   BIN=/tmp/coffer MODE=wrk scripts/bench-audit.sh # the server alone: wrk replaying one signed GenerateDataKey
#
# ROUNDS (5), DUR (5s) and CONC (8; wrk uses 16) set the rounds.
set -euo pipefail
BIN=${BIN:?set BIN to a coffer binary}
MODE=${MODE:-sdk}; ROUNDS=${ROUNDS:-5}; DUR=${DUR:-5s}; CONC=${CONC:-8}
W=$(mktemp -d)
export COFFER_ACCESS_KEY=AKIABENCH00000000001 COFFER_SECRET_KEY=bench-secret-key-0123456789abcdef
export AWS_ACCESS_KEY_ID=$COFFER_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$COFFER_SECRET_KEY
servers="always:9601 window:9602 off:9603"
"$BIN" server --data "$W/always" --listen 127.0.0.1:9601 --log-level warn --audit-fsync always >/dev/null & P1=$!
"$BIN" server --data "$W/window" --listen 127.0.0.1:9602 --log-level warn >/dev/null & P2=$!
"$BIN" server --data "$W/off" --listen 127.0.0.1:9603 --log-level warn --no-audit >/dev/null & P3=$!
trap 'kill $P1 $P2 $P3 2>/dev/null; wait; rm -rf "$W"' EXIT
sleep 3

sdk() { # name port args...
  local name=$1 port=$2; shift 2
  "$BIN" bench "$@" --endpoint "https://127.0.0.1:$port" --ca-cert "$W/${name#*-}/tls/cert.pem" --duration "$DUR" --concurrency "$CONC" --json |
    python3 -c 'import json,sys; d=json.load(sys.stdin)["operations"][0]; print("%-14s %8.0f ops/s  p50 %.2f ms" % (sys.argv[1], d["ops_per_sec"], d["latency_ms"]["p50"]))' "$name"
}

if [ "$MODE" = wrk ]; then
  for v in $servers; do
    "$BIN" bench kms --op generate-data-key --endpoint "https://127.0.0.1:${v#*:}" --ca-cert "$W/${v%%:*}/tls/cert.pem" \
      --concurrency 16 --wrk-script "$W/${v%%:*}.lua" >/dev/null
  done
fi
for _ in $(seq "$ROUNDS"); do
  for v in $servers; do
    n=${v%%:*} p=${v#*:}
    if [ "$MODE" = wrk ]; then
      printf "%-14s " "wrk-gdk-$n"
      wrk -t2 -c16 -d"$DUR" -s "$W/$n.lua" "https://127.0.0.1:$p/" | awk '/Requests\/sec/{printf "%8.0f req/s ", $2} /Latency/{printf "mean %s ", $2} /Non-2xx/{printf "NON-2XX: %s ", $0} END{print ""}'
    else
      sdk "gdk-$n" "$p" kms --op generate-data-key
    fi
  done
  [ "$MODE" = wrk ] && continue
  for v in $servers; do sdk "put-${v%%:*}" "${v#*:}" s3 --op put --size 4KiB --sse kms; done
done
