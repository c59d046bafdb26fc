#!/bin/bash
# Coffer's KMS side by side with local-kms (github.com/nsmithuk/local-kms), in one run on one
# machine: GenerateDataKey (AES_256, with an encryption context) and Decrypt (of a ciphertext
# that server made), each replayed by wrk. Coffer is served over HTTPS, verifies SigV4 on every
# request and audits it (the default policy: each record written to the journal before the
# answer, flushed within 20 ms); local-kms is plain HTTP without authentication, on loopback.
#
#   go build -o /tmp/coffer ./cmd/coffer
#   BIN=/tmp/coffer scripts/bench-kms-peers.sh
#
# Each round runs wrk -t2 -c16 for DUR against each server in turn (the order alternates from
# round to round) and prints req/s and the server's CPU per request: its utime+stime from
# /proc/PID/stat before and after the round, divided by the requests wrk completed. CPU per
# request holds on a shared machine, where req/s follows whatever else runs; the ratios at the
# end are medians of the rounds.
#
# Env: BIN (a coffer binary; required), LOCALKMS (a local-kms binary; default: go install the
# pinned version into a temporary GOBIN), ROUNDS (5), DUR (5s), CONC (16), THREADS (2),
# COFFER_PORT (9711), LOCALKMS_PORT (9712), OPS ("generate-data-key decrypt").
set -euo pipefail
BIN=${BIN:?set BIN to a coffer binary}
ROUNDS=${ROUNDS:-5}; DUR=${DUR:-5s}; CONC=${CONC:-16}; THREADS=${THREADS:-2}
COFFER_PORT=${COFFER_PORT:-9711}; LOCALKMS_PORT=${LOCALKMS_PORT:-9712}
OPS=${OPS:-generate-data-key decrypt}
LOCALKMS_VERSION=github.com/nsmithuk/local-kms@v0.0.0-20260228092603-2a5e92d09ab6
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }

W=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${LOCALKMS:-}" ]; then
  echo "installing $LOCALKMS_VERSION" >&2
  GOBIN="$W/gobin" go install "$LOCALKMS_VERSION"
  LOCALKMS=$W/gobin/local-kms
fi

for port in "$COFFER_PORT" "$LOCALKMS_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use (set COFFER_PORT / LOCALKMS_PORT)" >&2
    exit 1
  fi
done

export COFFER_ACCESS_KEY=AKIABENCH00000000001 COFFER_SECRET_KEY=bench-secret-key-0123456789abcdef
export AWS_ACCESS_KEY_ID=$COFFER_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$COFFER_SECRET_KEY
"$BIN" server --data "$W/coffer" --listen "127.0.0.1:$COFFER_PORT" --log-level warn >"$W/coffer.log" 2>&1 &
PIDS+=($!); COFFER_PID=$!
mkdir -p "$W/local-kms"
PORT=$LOCALKMS_PORT KMS_DATA_PATH=$W/local-kms "$LOCALKMS" >"$W/local-kms.log" 2>&1 &
PIDS+=($!); LOCALKMS_PID=$!

wait_port() { # port pid name
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  echo "$3 did not start:" >&2; cat "$W/$3.log" >&2; exit 1
}
wait_port "$COFFER_PORT" "$COFFER_PID" coffer
wait_port "$LOCALKMS_PORT" "$LOCALKMS_PID" local-kms
CA=$W/coffer/tls/cert.pem
for _ in $(seq 50); do [ -s "$CA" ] && break; sleep 0.1; done

# Coffer's scripts: `coffer bench kms --wrk-script` signs one request (valid 15 minutes, so
# they are written again before each round) for one key, made once.
COFFER_KEY=$("$BIN" bench kms --op generate-data-key --endpoint "https://127.0.0.1:$COFFER_PORT" --ca-cert "$CA" \
  --wrk-script "$W/coffer-probe.lua" | sed -n 's/.*(key \([^;]*\);.*/\1/p')
[ -n "$COFFER_KEY" ] || { echo "no Coffer key" >&2; exit 1; }
coffer_scripts() {
  for op in $OPS; do
    "$BIN" bench kms --op "$op" --key-id "$COFFER_KEY" --endpoint "https://127.0.0.1:$COFFER_PORT" --ca-cert "$CA" \
      --concurrency "$CONC" --wrk-script "$W/coffer-$op.lua" >/dev/null
  done
}

# local-kms' scripts: the same bodies, unsigned, stopping wrk at the first answer that is not 200.
lk() { # target body
  curl -sf -H 'Content-Type: application/x-amz-json-1.1' -H "X-Amz-Target: TrentService.$1" -d "$2" "http://127.0.0.1:$LOCALKMS_PORT/"
}
json_get() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[k]
print(d)' "$1"; }
EC='{"aws:s3:arn":"arn:aws:s3:::coffer-bench/object"}'
LK_KEY=$(lk CreateKey '{}' | json_get KeyMetadata.KeyId)
LK_CT=$(lk GenerateDataKey "{\"KeyId\":\"$LK_KEY\",\"KeySpec\":\"AES_256\",\"EncryptionContext\":$EC}" | json_get CiphertextBlob)
lk_script() { # file target body
  cat >"$1" <<EOF
wrk.method = "POST"
wrk.path = "/"
wrk.body = '$3'
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "TrentService.$2"
function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
    os.exit(1)
  end
end
EOF
}
lk_script "$W/local-kms-generate-data-key.lua" GenerateDataKey "{\"KeyId\":\"$LK_KEY\",\"KeySpec\":\"AES_256\",\"EncryptionContext\":$EC}"
lk_script "$W/local-kms-decrypt.lua" Decrypt "{\"KeyId\":\"$LK_KEY\",\"CiphertextBlob\":\"$LK_CT\",\"EncryptionContext\":$EC}"

TCK=$(getconf CLK_TCK)
cpu_ticks() { # pid: utime+stime
  awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || { echo "server $1 exited" >&2; exit 1; }
}
# one name pid url script: prints "name req/s cpu-µs-per-request"; fails on a non-2xx answer,
# a socket error or wrk's own failure.
one() {
  local name=$1 pid=$2 url=$3 script=$4 before after out reqs rps
  before=$(cpu_ticks "$pid")
  if ! out=$(wrk -t"$THREADS" -c"$CONC" -d"$DUR" -s "$script" "$url" 2>&1); then
    echo "$name: wrk failed:" >&2; echo "$out" >&2; exit 1
  fi
  after=$(cpu_ticks "$pid")
  if grep -qE 'Non-2xx|Socket errors|unexpected status' <<<"$out"; then
    echo "$name: not every answer was 2xx:" >&2; echo "$out" >&2; exit 1
  fi
  reqs=$(awk '/requests in/{print $1}' <<<"$out")
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  awk -v n="$name" -v r="$rps" -v q="$reqs" -v t=$((after - before)) -v hz="$TCK" \
    'BEGIN{printf "%s %.0f %.1f\n", n, r, t * 1e6 / hz / q}'
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $ROUNDS rounds of wrk -t$THREADS -c$CONC -d$DUR"
printf "%-5s %-18s %10s %12s %10s %12s\n" round op "coffer r/s" "coffer µs/r" "lkms r/s" "lkms µs/r"
RES=$W/results
for round in $(seq "$ROUNDS"); do
  coffer_scripts
  for op in $OPS; do
    if [ $((round % 2)) = 1 ]; then order="coffer local-kms"; else order="local-kms coffer"; fi
    for s in $order; do
      if [ "$s" = coffer ]; then
        one "$s" "$COFFER_PID" "https://127.0.0.1:$COFFER_PORT/" "$W/coffer-$op.lua"
      else
        one "$s" "$LOCALKMS_PID" "http://127.0.0.1:$LOCALKMS_PORT/" "$W/local-kms-$op.lua"
      fi
    done | sort >"$W/round"
    read -r _ c_rps c_cpu <"$W/round"
    read -r _ l_rps l_cpu < <(sed -n 2p "$W/round")
    printf "%-5s %-18s %10s %12s %10s %12s\n" "$round" "$op" "$c_rps" "$c_cpu" "$l_rps" "$l_cpu"
    echo "$op $c_rps $c_cpu $l_rps $l_cpu" >>"$RES"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$RES" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    op, *v = line.split()
    rows.setdefault(op, []).append([float(x) for x in v])
print()
print("%-18s %10s %12s %10s %12s %14s %14s" % ("median of rounds", "coffer r/s", "coffer µs/r", "lkms r/s", "lkms µs/r", "req/s ratio", "CPU/req ratio"))
for op, rs in rows.items():
    med = lambda i: statistics.median(r[i] for r in rs)
    rps = statistics.median(r[0] / r[2] for r in rs)
    cpu = statistics.median(r[3] / r[1] for r in rs)
    print("%-18s %10.0f %12.1f %10.0f %12.1f %13.2fx %13.2fx" % (op, med(0), med(1), med(2), med(3), rps, cpu))
print("(ratios: Coffer over local-kms per round, then the median; CPU/req ratio = local-kms µs / Coffer µs, above 1 when Coffer spends less)")
EOF
