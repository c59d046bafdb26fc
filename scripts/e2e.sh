#!/usr/bin/env bash
# End-to-end driver: builds coffer, starts it on a fresh data directory on 127.0.0.1, points
# the real aws CLI at it, and runs every e2e-*.sh script beside this one. The server is
# stopped (SIGTERM, checked for a clean exit) whatever happens.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

# The aws CLI scripts run under Debian's awscli package (installed when missing) and under
# any other aws CLI on PATH (this image has a newer one from pip): old and new clients alike.
if [ ! -x /usr/bin/aws ]; then
  echo "e2e: installing the aws CLI (Debian package awscli)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq awscli >/dev/null
fi
aws_clis=(/usr/bin/aws)
if other=$(command -v aws) && [ "$(readlink -f "$other")" != "$(readlink -f /usr/bin/aws)" ]; then
  aws_clis+=("$other")
fi
for tool in curl openssl; do # used by the scripts below
  command -v "$tool" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null; }
done

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$root" && go build -o "$work/coffer" ./cmd/coffer)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export COFFER_ACCESS_KEY=AKIAE2ETEST000000001 COFFER_SECRET_KEY=e2eSecretKey0123456789abcdefghijklmnopqr
"$work/coffer" server --data "$work/data" --listen "127.0.0.1:$port" >"$work/server.out" 2>"$work/server.err" &
pid=$!
for _ in $(seq 100); do
  grep -q "endpoint:" "$work/server.out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.err"; echo "e2e: server exited"; exit 1; }
  sleep 0.1
done
grep -q "endpoint:" "$work/server.out" || { cat "$work/server.err"; echo "e2e: server did not start"; exit 1; }

export AWS_ENDPOINT_URL="https://127.0.0.1:$port"
export AWS_CA_BUNDLE="$work/data/tls/cert.pem"
export AWS_ACCESS_KEY_ID=$COFFER_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$COFFER_SECRET_KEY AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=""
export E2E_WORK="$work"

status=0
run() { # script, label
  echo "e2e: running $2"
  if bash "$1"; then echo "e2e: $2 passed"; else echo "e2e: $2 FAILED"; status=1; fi
}
for cli in "${aws_clis[@]}"; do
  bin=$(mktemp -d "$work/bin.XXXX") && ln -s "$cli" "$bin/aws"
  version=$(PATH="$bin:$PATH" aws --version 2>&1 | cut -d' ' -f1)
  for s in "$here"/e2e-s3.sh "$here"/e2e-kms.sh; do
    PATH="$bin:$PATH" run "$s" "$(basename "$s") with $version"
  done
  rm -rf "$bin"
done
for s in "$here"/e2e-*.sh; do
  case "$(basename "$s")" in e2e-s3.sh | e2e-kms.sh) continue ;; esac
  run "$s" "$(basename "$s")"
done

kill -TERM "$pid"
if ! wait "$pid"; then echo "e2e: server did not exit cleanly on SIGTERM"; cat "$work/server.err"; status=1; fi
pid=""
exit $status
