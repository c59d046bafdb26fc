#!/usr/bin/env bash
# Issue 13's benchmarks in one run on one machine: 4 KiB PUT ops/s and 1 MiB PUT and GET MB/s
# (coffer bench s3, SSE-S3 by default as every bucket is) against
#   embedded  one node on the embedded stores (bbolt meta.db, blob files)
#   pg1       one node on PostgreSQL and a shared blob directory (--blob file://)
#   pg3       three nodes on that PostgreSQL and directory, one load client per node
# Rounds alternate between the set-ups, so drift on a noisy machine hits each alike; the
# medians are printed. PostgreSQL runs with its defaults (fsync on), as in production.
#
#   go build -o /tmp/coffer ./cmd/coffer && BIN=/tmp/coffer scripts/bench-cluster.sh
#
# ROUNDS (3), DUR (10s) and CONC (12: total client concurrency, split over pg3's nodes).
set -euo pipefail
BIN=${BIN:?set BIN to a coffer binary}
ROUNDS=${ROUNDS:-3}; DUR=${DUR:-10s}; CONC=${CONC:-12}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/pg_lib.sh"
W=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  stop_postgres
  rm -rf "$W"
}
trap cleanup EXIT
export COFFER_ACCESS_KEY=AKIABENCHCLUSTER0001 COFFER_SECRET_KEY=bench-cluster-secret-0123456789abcdef
export AWS_ACCESS_KEY_ID=$COFFER_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$COFFER_SECRET_KEY
start_postgres "$W"
mkdir -p "$W/shared" "$W/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$W/tls/key.pem" -out "$W/tls/cert.pem" 2>/dev/null
head -c 32 /dev/urandom >"$W/root.key" && chmod 600 "$W/root.key"

serve() { # name port [flags...]
  local name=$1 port=$2
  shift 2
  "$BIN" server --data "$W/$name" --listen "127.0.0.1:$port" --tls-cert "$W/tls/cert.pem" --tls-key "$W/tls/key.pem" \
    --log-level warn "$@" >"$W/$name.out" 2>"$W/$name.err" &
  pids+=($!)
}
shared=(--meta "$PG_URL" --blob "file://$W/shared" --kms-root-key-file "$W/root.key")
serve embedded 9701
serve pg1 9711 "${shared[@]}"
serve pg3a 9721 "${shared[@]}"
serve pg3b 9722 "${shared[@]}"
serve pg3c 9723 "${shared[@]}"
for n in embedded pg1 pg3a pg3b pg3c; do
  for _ in $(seq 300); do grep -q endpoint: "$W/$n.out" 2>/dev/null && break; sleep 0.1; done
  grep -q endpoint: "$W/$n.out" || { cat "$W/$n.err"; echo "bench-cluster: $n did not start"; exit 1; }
done

# load PORT CONC OP SIZE: one coffer bench run, its JSON on stdout.
load() {
  "$BIN" bench s3 --endpoint "https://127.0.0.1:$1" --ca-cert "$W/tls/cert.pem" --concurrency "$2" --op "$3" --size "$4" \
    --objects 64 --duration "$DUR" --json
}
# total FILE...: the summed ops/s and MB/s of concurrent runs.
total() {
  python3 - "$@" <<'PY'
import json, sys
ops = mb = 0.0
for f in sys.argv[1:]:
    d = json.load(open(f))["operations"][0]
    ops += d["ops_per_sec"]; mb += d["mb_per_sec"]
print("%.1f %.1f" % (ops, mb))
PY
}
per=$(( (CONC + 2) / 3 ))
for r in $(seq "$ROUNDS"); do
  for t in "put 4KiB" "put 1MiB" "get 1MiB"; do
    set -- $t
    op=$1 size=$2
    load 9701 "$CONC" "$op" "$size" >"$W/r.json" && echo "embedded $op $size $(total "$W/r.json")" >>"$W/results"
    load 9711 "$CONC" "$op" "$size" >"$W/r.json" && echo "pg1 $op $size $(total "$W/r.json")" >>"$W/results"
    load 9721 "$per" "$op" "$size" >"$W/a.json" & a=$!
    load 9722 "$per" "$op" "$size" >"$W/b.json" & b=$!
    load 9723 "$per" "$op" "$size" >"$W/c.json" & c=$!
    wait $a $b $c
    echo "pg3 $op $size $(total "$W/a.json" "$W/b.json" "$W/c.json")" >>"$W/results"
  done
  echo "round $r done" >&2
done
python3 - "$W/results" <<'PY'
import statistics, sys, collections
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    setup, op, size, ops, mb = line.split()
    runs[(op, size, setup)].append((float(ops), float(mb)))
print("| operation | embedded | 1 node, PostgreSQL | 3 nodes, PostgreSQL |")
print("|---|---:|---:|---:|")
for op, size in [("put", "4KiB"), ("put", "1MiB"), ("get", "1MiB")]:
    cells = []
    for setup in ("embedded", "pg1", "pg3"):
        v = runs[(op, size, setup)]
        if size == "4KiB":
            cells.append("%.0f ops/s" % statistics.median(x[0] for x in v))
        else:
            cells.append("%.1f MB/s" % statistics.median(x[1] for x in v))
    print("| %s %s | %s |" % (op.upper(), size, " | ".join(cells)))
PY
