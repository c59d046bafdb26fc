#!/usr/bin/env bash
# The newer KMS key specs and GetKeyLastUsage through the real aws CLI: an Ed25519 key signs a
# RAW message that openssl verifies with the public key from get-public-key; an ML-DSA-65 key
# signs and KMS verifies; get-key-last-usage names the last use and its audit event. It does not
# start a server: the caller (scripts/e2e.sh) starts coffer and exports AWS_ENDPOINT_URL,
# AWS_CA_BUNDLE, credentials and AWS_DEFAULT_REGION. Needs openssl (Ed25519: 3.0 or later).
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
: "${AWS_ENDPOINT_URL:?AWS_ENDPOINT_URL must point at a running coffer}"
export AWS_PAGER=""
w=$(mktemp -d "${E2E_WORK:-${TMPDIR:-/tmp}}/kms-specs.XXXXXX")
trap 'rm -rf "$w"' EXIT

q() { local query=$1; shift; aws kms "$@" --query "$query" --output text; }
printf 'a message for the newer key specs' >"$w/msg"

# Ed25519: sign with KMS, verify with openssl and with KMS.
ed=$(q KeyMetadata.KeyId create-key --key-spec ECC_NIST_EDWARDS25519 --key-usage SIGN_VERIFY)
[ "$(q 'KeyLastUsage.Operation' get-key-last-usage --key-id "$ed")" = None ] || fail "a new key has a last usage"
q PublicKey get-public-key --key-id "$ed" | base64 -d >"$w/ed.der"
q Signature sign --key-id "$ed" --message fileb://"$w/msg" --message-type RAW --signing-algorithm ED25519_SHA_512 | base64 -d >"$w/ed.sig"
openssl pkeyutl -verify -pubin -keyform DER -inkey "$w/ed.der" -rawin -in "$w/msg" -sigfile "$w/ed.sig" >/dev/null ||
  fail "openssl does not verify the Ed25519 signature"
[ "$(q SignatureValid verify --key-id "$ed" --message fileb://"$w/msg" --message-type RAW --signing-algorithm ED25519_SHA_512 --signature fileb://"$w/ed.sig")" = True ] ||
  fail "KMS does not verify the Ed25519 signature"
refused ValidationException aws kms sign --key-id "$ed" --message fileb://"$w/msg" --message-type RAW --signing-algorithm ED25519_PH_SHA_512
echo "$e2e_name: ok: Ed25519 sign, openssl and KMS verify"

# The last use is the Verify above, with its audit event and request id.
[ "$(q 'KeyLastUsage.Operation' get-key-last-usage --key-id "$ed")" = Verify ] || fail "last usage is not Verify"
event=$(q 'KeyLastUsage.CloudTrailEventId' get-key-last-usage --key-id "$ed")
case "$event" in ????????-????-????-????-????????????) ;; *) fail "CloudTrailEventId $event" ;; esac
refused NotFoundException aws kms get-key-last-usage --key-id alias/aws/s3
echo "$e2e_name: ok: get-key-last-usage"

# ML-DSA-65: sign and verify with KMS; EXTERNAL_MU is not supported.
ml=$(q KeyMetadata.KeyId create-key --key-spec ML_DSA_65 --key-usage SIGN_VERIFY)
q Signature sign --key-id "$ml" --message fileb://"$w/msg" --signing-algorithm ML_DSA_SHAKE_256 | base64 -d >"$w/ml.sig"
[ "$(stat -c %s "$w/ml.sig")" = 3309 ] || fail "ML-DSA-65 signature of $(stat -c %s "$w/ml.sig") bytes"
[ "$(q SignatureValid verify --key-id "$ml" --message fileb://"$w/msg" --signing-algorithm ML_DSA_SHAKE_256 --signature fileb://"$w/ml.sig")" = True ] ||
  fail "KMS does not verify the ML-DSA signature"
head -c 64 /dev/zero >"$w/mu"
refused UnsupportedOperationException aws kms sign --key-id "$ml" --message fileb://"$w/mu" --message-type EXTERNAL_MU --signing-algorithm ML_DSA_SHAKE_256
echo "$e2e_name: ok: ML-DSA-65 sign and verify"
