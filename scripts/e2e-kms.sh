#!/usr/bin/env bash
# KMS through the real aws CLI. It does not start a server: the caller (scripts/e2e.sh) starts
# coffer and exports AWS_ENDPOINT_URL, AWS_CA_BUNDLE, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
# and AWS_DEFAULT_REGION. Needs base64, openssl and cmp.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
: "${AWS_ENDPOINT_URL:?AWS_ENDPOINT_URL must point at a running coffer}"
export AWS_PAGER=""
w=$(mktemp -d "${E2E_WORK:-${TMPDIR:-/tmp}}/kms.XXXXXX")
trap 'rm -rf "$w"' EXIT

ok() { echo "e2e-kms: ok: $*"; }
k() { aws kms "$@"; }
# q QUERY ARGS... runs an aws kms command and prints one field as text.
q() { local query=$1; shift; aws kms "$@" --query "$query" --output text; }
# expect_error CODE ARGS... runs an aws kms command that must fail with the AWS error CODE.
expect_error() {
  local code=$1; shift
  if aws kms "$@" >"$w/out" 2>"$w/err"; then fail "aws kms $1 succeeded, want $code"; fi
  grep -q "($code)" "$w/err" || fail "aws kms $1: want $code, got: $(cat "$w/err")"
}
b64d() { base64 -d >"$1"; }

# create-key, describe-key, create-alias
key=$(q KeyMetadata.KeyId create-key --description "e2e key")
[ "$(q KeyMetadata.KeyState describe-key --key-id "$key")" = Enabled ] || fail "new key is not Enabled"
alias=alias/e2e-$RANDOM$RANDOM
k create-alias --alias-name "$alias" --target-key-id "$key"
[ "$(q KeyMetadata.KeyId describe-key --key-id "$alias")" = "$key" ] || fail "alias does not resolve to the key"
k list-aliases --key-id "$key" --query 'Aliases[].AliasName' --output text | grep -q "$alias" || fail "alias not listed"
expect_error NotAuthorizedException create-alias --alias-name alias/aws/e2e --target-key-id "$key"
ok "create-key, create-alias"

# encrypt / decrypt with an encryption context, and with the wrong one
head -c 100 /dev/urandom >"$w/plain"
q CiphertextBlob encrypt --key-id "$alias" --plaintext "fileb://$w/plain" \
  --encryption-context purpose=e2e,team=ops | b64d "$w/ct"
q Plaintext decrypt --ciphertext-blob "fileb://$w/ct" --encryption-context team=ops,purpose=e2e | b64d "$w/dec"
cmp -s "$w/plain" "$w/dec" || fail "decrypt did not return the plaintext"
expect_error InvalidCiphertextException decrypt --ciphertext-blob "fileb://$w/ct" --encryption-context purpose=e2e,team=dev
expect_error InvalidCiphertextException decrypt --ciphertext-blob "fileb://$w/ct"
other=$(q KeyMetadata.KeyId create-key)
expect_error IncorrectKeyException decrypt --key-id "$other" --ciphertext-blob "fileb://$w/ct" --encryption-context purpose=e2e,team=ops
ok "encrypt/decrypt with and without the right context"

# generate-data-key
k generate-data-key --key-id "$alias" --key-spec AES_256 --encryption-context bucket=b >"$w/dk.json"
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Plaintext"])' "$w/dk.json" | b64d "$w/dk.plain"
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["CiphertextBlob"])' "$w/dk.json" | b64d "$w/dk.ct"
[ "$(wc -c <"$w/dk.plain")" -eq 32 ] || fail "AES_256 data key is not 32 bytes"
q Plaintext decrypt --ciphertext-blob "fileb://$w/dk.ct" --encryption-context bucket=b | b64d "$w/dk.dec"
cmp -s "$w/dk.plain" "$w/dk.dec" || fail "data key does not decrypt to its plaintext"
[ "$(q Plaintext generate-random --number-of-bytes 64 | base64 -d | wc -c)" -eq 64 ] || fail "generate-random"
ok "generate-data-key, generate-random"

# disable / enable
k disable-key --key-id "$key"
[ "$(q KeyMetadata.KeyState describe-key --key-id "$key")" = Disabled ] || fail "key not Disabled"
expect_error DisabledException encrypt --key-id "$key" --plaintext "fileb://$w/plain"
expect_error DisabledException decrypt --ciphertext-blob "fileb://$w/ct" --encryption-context purpose=e2e,team=ops
k enable-key --key-id "$key"
q KeyId encrypt --key-id "$key" --plaintext "fileb://$w/plain" >/dev/null
ok "disable-key, enable-key"

# schedule / cancel deletion
[ "$(q KeyState schedule-key-deletion --key-id "$key" --pending-window-in-days 7)" = PendingDeletion ] || fail "not PendingDeletion"
expect_error KMSInvalidStateException encrypt --key-id "$key" --plaintext "fileb://$w/plain"
expect_error ValidationException schedule-key-deletion --key-id "$other" --pending-window-in-days 3
k cancel-key-deletion --key-id "$key" >/dev/null
[ "$(q KeyMetadata.KeyState describe-key --key-id "$key")" = Disabled ] || fail "cancelled key is not Disabled"
k enable-key --key-id "$key"
ok "schedule-key-deletion, cancel-key-deletion"

# rotation
if aws kms help </dev/null 2>/dev/null | grep -q rotate-key-on-demand; then
  k enable-key-rotation --key-id "$key" --rotation-period-in-days 90
  [ "$(q KeyRotationEnabled get-key-rotation-status --key-id "$key")" = True ] || fail "rotation not enabled"
  [ "$(q RotationPeriodInDays get-key-rotation-status --key-id "$key")" = 90 ] || fail "rotation period not 90"
  before=$(q KeyMetadata.CurrentKeyMaterialId describe-key --key-id "$key")
  k rotate-key-on-demand --key-id "$key" >/dev/null
  after=$(q KeyMetadata.CurrentKeyMaterialId describe-key --key-id "$key")
  [ "$before" != "$after" ] || fail "on-demand rotation did not change the key material"
  [ "$(q 'length(Rotations)' list-key-rotations --key-id "$key")" = 1 ] || fail "list-key-rotations"
  [ "$(q 'Rotations[0].RotationType' list-key-rotations --key-id "$key")" = ON_DEMAND ] || fail "rotation type"
  q Plaintext decrypt --ciphertext-blob "fileb://$w/ct" --encryption-context purpose=e2e,team=ops | b64d "$w/dec2"
  cmp -s "$w/plain" "$w/dec2" || fail "ciphertext from before the rotation does not decrypt"
  k disable-key-rotation --key-id "$key"
  ok "enable-key-rotation, rotate-key-on-demand, list-key-rotations"
else
  # This aws CLI predates the 2024 rotation API (RotationPeriodInDays, RotateKeyOnDemand,
  # ListKeyRotations); the Go tests drive those through aws-sdk-go-v2.
  k enable-key-rotation --key-id "$key"
  [ "$(q KeyRotationEnabled get-key-rotation-status --key-id "$key")" = True ] || fail "rotation not enabled"
  k disable-key-rotation --key-id "$key"
  [ "$(q KeyRotationEnabled get-key-rotation-status --key-id "$key")" = False ] || fail "rotation not disabled"
  ok "enable-key-rotation, disable-key-rotation (this aws CLI has no rotate-key-on-demand)"
fi

# sign / verify with ECC_NIST_P256, checked by openssl as well
sk=$(q KeyMetadata.KeyId create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY)
printf 'message signed by coffer' >"$w/msg"
q Signature sign --key-id "$sk" --message "fileb://$w/msg" --message-type RAW --signing-algorithm ECDSA_SHA_256 | b64d "$w/sig"
[ "$(q SignatureValid verify --key-id "$sk" --message "fileb://$w/msg" --message-type RAW \
  --signing-algorithm ECDSA_SHA_256 --signature "fileb://$w/sig")" = True ] || fail "verify"
q PublicKey get-public-key --key-id "$sk" | b64d "$w/pub.der"
openssl dgst -sha256 -verify <(openssl pkey -pubin -inform DER -in "$w/pub.der") -signature "$w/sig" "$w/msg" >/dev/null \
  || fail "openssl does not verify the signature"
printf 'tampered' >"$w/msg2"
expect_error KMSInvalidSignatureException verify --key-id "$sk" --message "fileb://$w/msg2" --message-type RAW \
  --signing-algorithm ECDSA_SHA_256 --signature "fileb://$w/sig"
ok "sign/verify ECC_NIST_P256"

# import key material, wrapped with openssl
ik=$(q KeyMetadata.KeyId create-key --origin EXTERNAL)
[ "$(q KeyMetadata.KeyState describe-key --key-id "$ik")" = PendingImport ] || fail "EXTERNAL key not PendingImport"
k get-parameters-for-import --key-id "$ik" --wrapping-algorithm RSAES_OAEP_SHA_256 --wrapping-key-spec RSA_2048 >"$w/params.json"
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["PublicKey"])' "$w/params.json" | b64d "$w/wrap.der"
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ImportToken"])' "$w/params.json" | b64d "$w/token"
openssl rand 32 >"$w/material"
openssl pkeyutl -encrypt -pubin -keyform DER -inkey "$w/wrap.der" -in "$w/material" -out "$w/wrapped" \
  -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
k import-key-material --key-id "$ik" --import-token "fileb://$w/token" --encrypted-key-material "fileb://$w/wrapped" \
  --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE >/dev/null
[ "$(q KeyMetadata.KeyState describe-key --key-id "$ik")" = Enabled ] || fail "imported key not Enabled"
q CiphertextBlob encrypt --key-id "$ik" --plaintext "fileb://$w/plain" | b64d "$w/ict"
q Plaintext decrypt --ciphertext-blob "fileb://$w/ict" | b64d "$w/idec"
cmp -s "$w/plain" "$w/idec" || fail "imported key round trip"
k delete-imported-key-material --key-id "$ik"
expect_error KMSInvalidStateException decrypt --ciphertext-blob "fileb://$w/ict"
expect_error UnsupportedOperationException get-parameters-for-import --key-id "$key" \
  --wrapping-algorithm RSAES_OAEP_SHA_256 --wrapping-key-spec RSA_2048
ok "get-parameters-for-import, import-key-material, delete-imported-key-material"

echo "e2e-kms: all passed"
