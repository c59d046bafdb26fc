#!/usr/bin/env bash
# The KMS root key in a SoftHSM2 token through the real aws CLI and coffer's own commands: a
# server with a file root key seals a KMS key's ciphertext and an SSE-KMS object; `coffer admin
# kms-root wrap` moves the root key into the token (root.key is removed); a server with
# --kms-root-pkcs11 opens both, refuses a wrong PIN, and a start without the flag is refused;
# `coffer admin kms-root unwrap` takes the root key out again and a file-root server opens both.
#
# It runs its own coffer (start_coffer, e2e_lib.sh) on its own data directory.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
work=${E2E_WORK:?run through scripts/e2e.sh}
w=$(mktemp -d "$work/kmsroot.XXXXXX")
trap 'stop_coffer || true' EXIT
ok() { echo "$e2e_name: ok: $*"; }
b64d() { base64 -d >"$1"; }

softhsm_token "$w" coffer-e2e-root e2e-root-pin
printf 'e2e-root-pin\n' >"$w/pin" && chmod 600 "$w/pin"
printf 'not-the-pin\n' >"$w/wrong-pin" && chmod 600 "$w/wrong-pin"
hsm="module=/usr/lib/softhsm/libsofthsm2.so,token=coffer-e2e-root,pin-file=$w/pin"

# readback: the ciphertext decrypts and the SSE-KMS object reads back.
readback() {
  aws kms decrypt --ciphertext-blob "fileb://$w/ct" --query Plaintext --output text | b64d "$w/dec"
  cmp -s "$w/plain" "$w/dec" || fail "$1: decrypt did not return the plaintext"
  aws s3api get-object --bucket e2e-kms-root --key sealed "$w/got" >/dev/null
  cmp -s "$w/plain" "$w/got" || fail "$1: the SSE-KMS object did not read back"
}

start_coffer "$w"
key=$(aws kms create-key --query KeyMetadata.KeyId --output text)
head -c 200 /dev/urandom >"$w/plain"
aws kms encrypt --key-id "$key" --plaintext "fileb://$w/plain" --query CiphertextBlob --output text | b64d "$w/ct"
aws s3api create-bucket --bucket e2e-kms-root >/dev/null
aws s3api put-object --bucket e2e-kms-root --key sealed --body "$w/plain" --server-side-encryption aws:kms --ssekms-key-id "$key" >/dev/null
stop_coffer
ok "a file root key sealed a ciphertext and an SSE-KMS object"

"$E2E_WORK/coffer" admin kms-root wrap --data "$w/data" --kms-root-pkcs11 "$hsm" >"$w/wrap.out" 2>&1 || fail "wrap: $(cat "$w/wrap.out")"
[ ! -e "$w/data/kms/root.key" ] && [ -s "$w/data/kms/root.key.wrapped" ] || fail "wrap left root.key, or wrote no root.key.wrapped"
if "$E2E_WORK/coffer" server --data "$w/data" --listen 127.0.0.1:0 >"$w/nohsm.out" 2>&1; then fail "a start without --kms-root-pkcs11 was not refused"; fi
grep -q "wrapped by an HSM" "$w/nohsm.out" || fail "the refused start does not say why: $(cat "$w/nohsm.out")"
if "$E2E_WORK/coffer" server --data "$w/data" --listen 127.0.0.1:0 \
  --kms-root-pkcs11 "module=/usr/lib/softhsm/libsofthsm2.so,token=coffer-e2e-root,pin-file=$w/wrong-pin" >"$w/badpin.out" 2>&1; then
  fail "a wrong PIN was not refused"
fi
grep -q "refused the PIN" "$w/badpin.out" || fail "the wrong-PIN start does not say why: $(cat "$w/badpin.out")"
ok "admin kms-root wrap; starts without the flag and with a wrong PIN refused"

start_coffer "$w" --kms-root-pkcs11 "$hsm"
readback "wrapped"
stop_coffer
ok "a server with --kms-root-pkcs11 opens what was sealed before the migration"

"$E2E_WORK/coffer" admin kms-root unwrap --data "$w/data" --kms-root-pkcs11 "$hsm" >"$w/unwrap.out" 2>&1 || fail "unwrap: $(cat "$w/unwrap.out")"
[ -s "$w/data/kms/root.key" ] && [ ! -e "$w/data/kms/root.key.wrapped" ] || fail "unwrap did not restore root.key"
start_coffer "$w"
readback "unwrapped"
stop_coffer
ok "admin kms-root unwrap; a file-root server opens it all again"

! grep -q e2e-root-pin "$w"/*.out "$w/server.err" || fail "the PIN appears in an output"
echo "$e2e_name: all passed"
