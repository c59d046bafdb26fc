#!/usr/bin/env bash
# KMS authorization through the real aws CLI: a user made with `aws iam`, a key policy that
# lets it Encrypt but not Decrypt, a grant (with an encryption-context constraint) that lets it
# Decrypt until it retires the grant, and the lockout safety check. Needs the environment
# scripts/e2e.sh sets up.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
w=${E2E_WORK:?run through scripts/e2e.sh}

account=$(aws sts get-caller-identity --query Account --output text)
user=e2e-kms-$RANDOM
user_arn=$(aws iam create-user --user-name "$user" --query User.Arn --output text)
read -r user_ak user_sk < <(aws iam create-access-key --user-name "$user" --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
# as_user CMD...: an aws command signed with the user's key.
as_user() { AWS_ACCESS_KEY_ID=$user_ak AWS_SECRET_ACCESS_KEY=$user_sk command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }
cleanup() { # best effort, and quick when the server is already gone
  timeout 30 aws --endpoint-url "$AWS_ENDPOINT_URL" iam delete-access-key --user-name "$user" --access-key-id "$user_ak" >/dev/null 2>&1 || true
  timeout 30 aws --endpoint-url "$AWS_ENDPOINT_URL" iam delete-user --user-name "$user" >/dev/null 2>&1 || true
}
trap cleanup EXIT

key_id=$(aws kms create-key --query KeyMetadata.KeyId --output text)
cat >"$w/key-policy.json" <<JSON
{"Version":"2012-10-17","Statement":[
 {"Sid":"root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::$account:root"},"Action":"kms:*","Resource":"*"},
 {"Sid":"encrypt only","Effect":"Allow","Principal":{"AWS":"$user_arn"},"Action":"kms:Encrypt","Resource":"*"}]}
JSON
aws kms put-key-policy --key-id "$key_id" --policy-name default --policy "file://$w/key-policy.json"

printf 'kms policy e2e' >"$w/policy-plain.txt"
as_user kms encrypt --key-id "$key_id" --plaintext "fileb://$w/policy-plain.txt" --encryption-context app=e2e \
  --query CiphertextBlob --output text | base64 -d >"$w/policy.blob"
[ -s "$w/policy.blob" ] || fail "the user's encrypt returned no ciphertext"
decrypt() { as_user kms decrypt --ciphertext-blob "fileb://$w/policy.blob" --encryption-context app="$1" "${@:2}" --query Plaintext --output text; }
refused AccessDeniedException decrypt e2e
refused "because no identity-based policy allows the kms:Decrypt action" decrypt e2e

read -r grant_id grant_token < <(aws kms create-grant --key-id "$key_id" --grantee-principal "$user_arn" \
  --retiring-principal "$user_arn" --operations Decrypt --constraints EncryptionContextEquals={app=e2e} \
  --query '[GrantId,GrantToken]' --output text)
[ "$(decrypt e2e --grant-tokens "$grant_token" | base64 -d)" = "kms policy e2e" ] || fail "decrypt with the grant token"
[ "$(decrypt e2e | base64 -d)" = "kms policy e2e" ] || fail "decrypt under the grant"
refused AccessDeniedException decrypt other # the constraint: the context must equal app=e2e
[ "$(aws kms list-grants --key-id "$key_id" --query 'Grants[0].GrantId' --output text)" = "$grant_id" ] || fail "list-grants"

as_user kms retire-grant --grant-token "$grant_token"
refused AccessDeniedException decrypt e2e
[ "$(aws kms list-grants --key-id "$key_id" --query 'length(Grants)' --output text)" = 0 ] || fail "the retired grant is still listed"

# The lockout safety check: a policy that would lock the caller out is refused unless bypassed.
cat >"$w/lockout.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"$user_arn"},"Action":"kms:*","Resource":"*"}]}
JSON
refused MalformedPolicyDocumentException aws kms put-key-policy --key-id "$key_id" --policy-name default --policy "file://$w/lockout.json"
aws kms put-key-policy --key-id "$key_id" --policy-name default --policy "file://$w/lockout.json" --bypass-policy-lockout-safety-check
refused AccessDeniedException aws kms describe-key --key-id "$key_id"
as_user kms schedule-key-deletion --key-id "$key_id" --pending-window-in-days 7 >/dev/null
echo "e2e-kms-policy: ok"
