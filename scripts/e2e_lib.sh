# Shared by the scripts/e2e-*.sh scripts, which source it; scripts/e2e.sh does not run it (its
# name does not match e2e-*.sh). It needs the environment scripts/e2e.sh sets up.

# e2e_name is the calling script's name without .sh, for its messages.
e2e_name=$(basename "${BASH_SOURCE[1]:-$0}" .sh)

# aws CLIs older than 1.29/2.13 (Debian's 2.9) ignore AWS_ENDPOINT_URL: name it on each call.
aws() { command aws --endpoint-url "${AWS_ENDPOINT_URL:?}" "$@"; }

fail() {
  echo "$e2e_name: $*"
  exit 1
}

# refused CODE CMD...: the command must fail with the error CODE (an S3, KMS, IAM or STS error
# code, or an HTTP status where the CLI shows only that, e.g. for HEAD), as the aws CLI prints
# it: "An error occurred (CODE) when calling ...". A CODE with a space in it is a part of the
# error message instead.
refused() {
  local code=$1 out want
  shift
  if out=$("$@" 2>&1); then fail "$* succeeded, want $code"; fi
  want="($code)"
  case "$code" in *" "*) want=$code ;; esac
  case "$out" in *"$want"*) ;; *) fail "$*: $out (want $code)" ;; esac
}

# start_coffer DIR [SERVER-FLAGS...] starts a coffer of its own (the binary scripts/e2e.sh built,
# $E2E_WORK/coffer) on a free loopback port with data directory DIR/data, its output in
# DIR/server.out and DIR/server.err, and points the aws CLI at it (AWS_ENDPOINT_URL,
# AWS_CA_BUNDLE, credentials). stop_coffer stops it and checks for a clean exit; the caller
# traps it on EXIT.
coffer_pid=""
start_coffer() {
  local dir=$1 port
  shift
  [ -x "${E2E_WORK:?run through scripts/e2e.sh}/coffer" ] || fail "no coffer binary at $E2E_WORK/coffer"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  export COFFER_ACCESS_KEY=AKIAE2EOWNSERVER0001 COFFER_SECRET_KEY=e2eOwnServerSecretKey0123456789abcdefghij
  "$E2E_WORK/coffer" server --data "$dir/data" --listen "127.0.0.1:$port" "$@" >"$dir/server.out" 2>"$dir/server.err" &
  coffer_pid=$!
  for _ in $(seq 100); do
    grep -q "endpoint:" "$dir/server.out" 2>/dev/null && break
    kill -0 "$coffer_pid" 2>/dev/null || fail "coffer exited: $(cat "$dir/server.err")"
    sleep 0.1
  done
  export AWS_ENDPOINT_URL="https://127.0.0.1:$port" AWS_CA_BUNDLE="$dir/data/tls/cert.pem"
  export AWS_ACCESS_KEY_ID=$COFFER_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$COFFER_SECRET_KEY AWS_DEFAULT_REGION=us-east-1
}
stop_coffer() {
  if [ -n "$coffer_pid" ] && kill -0 "$coffer_pid" 2>/dev/null; then
    kill -TERM "$coffer_pid"
    wait "$coffer_pid" || fail "coffer did not exit cleanly on SIGTERM"
  fi
  coffer_pid=""
}

# softhsm_token DIR LABEL PIN installs SoftHSM2 (Debian package softhsm2) when it is missing, and
# initialises a token labelled LABEL with the crypto-user PIN in a SoftHSM2 configuration of
# its own under DIR (exported as SOFTHSM2_CONF).
softhsm_token() {
  local dir=$1 label=$2 pin=$3
  if [ ! -e /usr/lib/softhsm/libsofthsm2.so ] || ! command -v softhsm2-util >/dev/null; then
    echo "$e2e_name: installing SoftHSM2 (Debian package softhsm2)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq softhsm2 >/dev/null
  fi
  mkdir -p "$dir/tokens"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$dir/tokens" >"$dir/softhsm2.conf"
  export SOFTHSM2_CONF=$dir/softhsm2.conf
  softhsm2-util --init-token --free --label "$label" --pin "$pin" --so-pin "$pin-so" >/dev/null
}
