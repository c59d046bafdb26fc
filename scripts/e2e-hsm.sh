#!/usr/bin/env bash
# KMS custom key stores through the real aws CLI, backed by a SoftHSM2 token (Debian package
# softhsm2, installed when missing): create-custom-key-store, connect, create-key in it,
# encrypt/decrypt, generate-data-key, disconnect (decrypt fails), reconnect (decrypt works),
# and the key's deletion.
#
# It runs its own coffer (start_coffer, e2e_lib.sh) with the token configured as HSM
# cluster-coffere2ehsm (--hsm, its PIN in a file), on its own data directory.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
work=${E2E_WORK:?run through scripts/e2e.sh}
w=$(mktemp -d "$work/hsm.XXXXXX")
trap 'stop_coffer || true' EXIT
ok() { echo "$e2e_name: ok: $*"; }
q() { local query=$1; shift; aws kms "$@" --query "$query" --output text; }
b64d() { base64 -d >"$1"; }

softhsm_token "$w" coffer-e2e e2e-user-pin
printf 'e2e-user-pin\n' >"$w/pin" && chmod 600 "$w/pin"
cluster=cluster-coffere2ehsm

start_coffer "$w" --hsm "name=$cluster,module=/usr/lib/softhsm/libsofthsm2.so,token=coffer-e2e,pin-file=$w/pin"
! grep -q e2e-user-pin "$w/server.out" "$w/server.err" || fail "the PIN appears in the server's output"

# The trust anchor is checked for being a PEM certificate: any will do for SoftHSM2.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$w/anchor.key" \
  -out "$w/anchor.crt" -subj /CN=coffer-e2e-anchor -days 1 2>/dev/null
store=$(q CustomKeyStoreId create-custom-key-store --custom-key-store-name e2e-hsm \
  --cloud-hsm-cluster-id "$cluster" --trust-anchor-certificate "file://$w/anchor.crt" --key-store-password kmsuser-pass)
[ "$(q 'CustomKeyStores[0].ConnectionState' describe-custom-key-stores --custom-key-store-id "$store")" = DISCONNECTED ] \
  || fail "a new custom key store is not DISCONNECTED"
refused CustomKeyStoreInvalidStateException aws kms create-key --origin AWS_CLOUDHSM --custom-key-store-id "$store"
refused UnsupportedOperationException aws kms create-custom-key-store --custom-key-store-name xks --custom-key-store-type EXTERNAL_KEY_STORE
# A wrong PIN: the store is FAILED with INVALID_CREDENTIALS, the log says why without the PIN.
printf 'not-the-pin\n' >"$w/pin"
aws kms connect-custom-key-store --custom-key-store-id "$store"
[ "$(q 'CustomKeyStores[0].ConnectionState' describe-custom-key-stores --custom-key-store-id "$store")" = FAILED ] \
  || fail "a wrong PIN did not fail the connection"
[ "$(q 'CustomKeyStores[0].ConnectionErrorCode' describe-custom-key-stores --custom-key-store-id "$store")" = INVALID_CREDENTIALS ] \
  || fail "a wrong PIN is not INVALID_CREDENTIALS"
grep -q INVALID_CREDENTIALS "$w/server.out" "$w/server.err" || fail "the server did not log the failed connection"
refused CustomKeyStoreInvalidStateException aws kms connect-custom-key-store --custom-key-store-id "$store"
aws kms disconnect-custom-key-store --custom-key-store-id "$store"
printf 'e2e-user-pin\n' >"$w/pin"
aws kms connect-custom-key-store --custom-key-store-id "$store"
[ "$(q 'CustomKeyStores[0].ConnectionState' describe-custom-key-stores --custom-key-store-id "$store")" = CONNECTED ] \
  || fail "connect-custom-key-store did not connect"
ok "create-custom-key-store, connect-custom-key-store (FAILED with a wrong PIN, CONNECTED with the right one)"

key=$(q KeyMetadata.KeyId create-key --origin AWS_CLOUDHSM --custom-key-store-id "$store" --description "e2e HSM key")
[ "$(q KeyMetadata.CustomKeyStoreId describe-key --key-id "$key")" = "$store" ] || fail "describe-key does not name the store"
[ "$(q KeyMetadata.Origin describe-key --key-id "$key")" = AWS_CLOUDHSM ] || fail "the key's origin is not AWS_CLOUDHSM"
head -c 100 /dev/urandom >"$w/plain"
q CiphertextBlob encrypt --key-id "$key" --plaintext "fileb://$w/plain" --encryption-context app=e2e | b64d "$w/ct"
q Plaintext decrypt --ciphertext-blob "fileb://$w/ct" --encryption-context app=e2e | b64d "$w/dec"
cmp -s "$w/plain" "$w/dec" || fail "decrypt did not return the plaintext"
refused InvalidCiphertextException aws kms decrypt --ciphertext-blob "fileb://$w/ct" --encryption-context app=other
aws kms generate-data-key --key-id "$key" --key-spec AES_256 >"$w/dk.json"
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Plaintext"])' "$w/dk.json" | b64d "$w/dk.plain"
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["CiphertextBlob"])' "$w/dk.json" | b64d "$w/dk.ct"
q Plaintext decrypt --ciphertext-blob "fileb://$w/dk.ct" | b64d "$w/dk.dec"
cmp -s "$w/dk.plain" "$w/dk.dec" || fail "the data key does not decrypt to its plaintext"
ok "create-key in the store, encrypt/decrypt, generate-data-key"

aws kms disconnect-custom-key-store --custom-key-store-id "$store"
refused KMSInvalidStateException aws kms decrypt --ciphertext-blob "fileb://$w/ct" --encryption-context app=e2e
[ "$(q KeyMetadata.KeyState describe-key --key-id "$key")" = Unavailable ] || fail "a key of a disconnected store is not Unavailable"
aws kms connect-custom-key-store --custom-key-store-id "$store"
q Plaintext decrypt --ciphertext-blob "fileb://$w/ct" --encryption-context app=e2e | b64d "$w/dec2"
cmp -s "$w/plain" "$w/dec2" || fail "decrypt after reconnecting"
ok "disconnect (decrypt fails), reconnect (decrypt works)"

refused CustomKeyStoreInvalidStateException aws kms delete-custom-key-store --custom-key-store-id "$store"
aws kms schedule-key-deletion --key-id "$key" --pending-window-in-days 7 >/dev/null
aws kms disconnect-custom-key-store --custom-key-store-id "$store"
refused CustomKeyStoreHasCMKsException aws kms delete-custom-key-store --custom-key-store-id "$store"
ok "delete-custom-key-store refused while connected and while it holds a key"

stop_coffer
grep -q e2e-user-pin "$w/server.out" "$w/server.err" && fail "the PIN appears in the server's output"
echo "$e2e_name: all passed"
