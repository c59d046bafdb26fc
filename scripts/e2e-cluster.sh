#!/usr/bin/env bash
# Three coffer nodes sharing one PostgreSQL (Debian's postgresql, initdb and pg_ctl in a temp
# dir, installed when missing) and one blob store (a fourth coffer on the embedded backend),
# driven by the aws CLI: a bucket made through node 1, objects written through node 2 and read
# through node 3, a multipart upload spread over the nodes, an SSE-KMS key made through node 3
# and used through node 1, the key disabled through node 1 refusing reads through node 3.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
. "$(dirname "$0")/pg_lib.sh"

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  stop_postgres
  rm -rf "$work"
}
trap cleanup EXIT

PG_OPTIONS="-c fsync=off -c synchronous_commit=off" start_postgres "$work"
dburl=$PG_URL

# One certificate for every process, one KMS root key for every node.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
head -c 32 /dev/urandom >"$work/kms-root.key"
chmod 600 "$work/kms-root.key" "$work/key.pem"

# start NAME [FLAGS...]: a coffer process with its own data directory, on a port it binds
# itself (no window for another process to take a port chosen beforehand).
start() {
  local name=$1 dir=$work/$1
  shift
  mkdir -p "$dir"
  "$E2E_WORK/coffer" server --data "$dir/data" --listen 127.0.0.1:0 --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" \
    "$@" >"$dir/server.out" 2>"$dir/server.err" &
  pids+=($!)
}
# wait_started NAME: waits for NAME's banner and prints its port.
wait_started() {
  local name=$1 dir=$work/$1
  for _ in $(seq 300); do
    if grep -q "endpoint:" "$dir/server.out" 2>/dev/null; then
      sed -n 's|.*endpoint: *https://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$dir/server.out" | head -1
      return 0
    fi
    sleep 0.1
  done
  fail "$name did not start: $(cat "$dir/server.err")"
}

COFFER_ACCESS_KEY=AKIAE2ECLUSTERBLOB01 COFFER_SECRET_KEY=e2eClusterBlobSecret0123456789abcdefghij \
  start blobs --no-audit
blobport=$(wait_started blobs) && [ -n "$blobport" ] || exit 1
AWS_ACCESS_KEY_ID=AKIAE2ECLUSTERBLOB01 AWS_SECRET_ACCESS_KEY=e2eClusterBlobSecret0123456789abcdefghij \
  AWS_CA_BUNDLE=$work/cert.pem command aws --endpoint-url "https://127.0.0.1:$blobport" s3 mb s3://coffer-blobs >/dev/null

export COFFER_ACCESS_KEY=AKIAE2ECLUSTERROOT01 COFFER_SECRET_KEY=e2eClusterRootSecret0123456789abcdefghij
for n in 1 2 3; do
  AWS_ACCESS_KEY_ID=AKIAE2ECLUSTERBLOB01 AWS_SECRET_ACCESS_KEY=e2eClusterBlobSecret0123456789abcdefghij \
    start "node$n" --meta "$dburl" --kms-root-key-file "$work/kms-root.key" \
    --blob "s3://coffer-blobs/cluster?endpoint=https://127.0.0.1:$blobport&region=us-east-1&ca=$work/cert.pem&path-style=true"
done
ports=()
for n in 1 2 3; do
  p=$(wait_started "node$n") && [ -n "$p" ] || exit 1
  ports+=("$p")
done

export AWS_ACCESS_KEY_ID=$COFFER_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$COFFER_SECRET_KEY AWS_CA_BUNDLE=$work/cert.pem
on() { # on N aws-args...: the aws CLI against node N
  local n=$1
  shift
  command aws --endpoint-url "https://127.0.0.1:${ports[$((n - 1))]}" "$@"
}

on 1 s3 mb s3://e2e-cluster >/dev/null
head -c 300000 /dev/urandom >"$work/small"
head -c 20000000 /dev/urandom >"$work/large" # over the CLI's 8 MiB threshold: a multipart upload
on 2 s3 cp "$work/small" s3://e2e-cluster/small >/dev/null
on 2 s3 cp "$work/large" s3://e2e-cluster/large >/dev/null
on 3 s3 cp s3://e2e-cluster/small "$work/small.3" >/dev/null
on 1 s3 cp s3://e2e-cluster/large "$work/large.1" >/dev/null
cmp -s "$work/small" "$work/small.3" || fail "small object read through node 3 differs"
cmp -s "$work/large" "$work/large.1" || fail "multipart object read through node 1 differs"
count=$(on 3 s3api list-objects-v2 --bucket e2e-cluster --query 'length(Contents)' --output text)
[ "$count" = 2 ] || fail "node 3 lists $count objects, want 2"

# A multipart upload whose parts go through different nodes.
upload=$(on 1 s3api create-multipart-upload --bucket e2e-cluster --key spread --query UploadId --output text)
head -c 5242880 /dev/urandom >"$work/part1"
head -c 1000 /dev/urandom >"$work/part2"
e1=$(on 2 s3api upload-part --bucket e2e-cluster --key spread --upload-id "$upload" --part-number 1 --body "$work/part1" --query ETag --output text)
e2=$(on 3 s3api upload-part --bucket e2e-cluster --key spread --upload-id "$upload" --part-number 2 --body "$work/part2" --query ETag --output text)
on 1 s3api complete-multipart-upload --bucket e2e-cluster --key spread --upload-id "$upload" \
  --multipart-upload "{\"Parts\":[{\"ETag\":$e1,\"PartNumber\":1},{\"ETag\":$e2,\"PartNumber\":2}]}" >/dev/null
on 2 s3 cp s3://e2e-cluster/spread "$work/spread.2" >/dev/null
cat "$work/part1" "$work/part2" | cmp -s - "$work/spread.2" || fail "upload completed across nodes differs"

# SSE-KMS with a key made through node 3; disabled through node 1, node 3 refuses within the bound.
key=$(on 3 kms create-key --description e2e-cluster --query KeyMetadata.KeyId --output text)
on 1 s3 cp "$work/small" s3://e2e-cluster/kms --sse aws:kms --sse-kms-key-id "$key" >/dev/null
on 3 s3 cp s3://e2e-cluster/kms "$work/kms.3" >/dev/null
cmp -s "$work/small" "$work/kms.3" || fail "SSE-KMS object read through node 3 differs"
on 1 kms disable-key --key-id "$key"
refused_by_3=""
deadline=$((SECONDS + 15))
while [ $SECONDS -lt $deadline ]; do
  if ! out=$(on 3 s3 cp s3://e2e-cluster/kms "$work/kms.again" 2>&1); then
    case "$out" in *KMS.DisabledException*) refused_by_3=yes && break ;; *) fail "node 3: $out" ;; esac
  fi
  sleep 0.1
done
[ -n "$refused_by_3" ] || fail "node 3 still decrypts with the key node 1 disabled"
refused_by_2=""
while [ $SECONDS -lt $((deadline + 5)) ]; do # node 2 within the same bound
  out=$(on 2 kms encrypt --key-id "$key" --plaintext fileb://"$work/part2" 2>&1) && { sleep 0.1; continue; }
  case "$out" in *DisabledException*) refused_by_2=yes && break ;; *) fail "node 2: $out" ;; esac
done
[ -n "$refused_by_2" ] || fail "node 2 still encrypts with the key node 1 disabled"

for p in "${pids[@]}"; do kill -TERM "$p"; done
for p in "${pids[@]}"; do wait "$p" || fail "a coffer process did not exit cleanly on SIGTERM"; done
pids=()
echo "$e2e_name: ok"
