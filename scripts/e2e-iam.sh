#!/usr/bin/env bash
# IAM and STS through the real aws CLI: a user and its access key, an inline policy, the
# user's own identity, a role assumed with its temporary credentials. It does not start a
# server: the caller (scripts/e2e.sh) starts coffer and exports AWS_ENDPOINT_URL,
# AWS_CA_BUNDLE, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION (the
# account root's key).
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
: "${AWS_ENDPOINT_URL:?AWS_ENDPOINT_URL must point at a running coffer}"
export AWS_PAGER=""
w=$(mktemp -d "${E2E_WORK:-${TMPDIR:-/tmp}}/iam.XXXXXX")
trap 'rm -rf "$w"' EXIT

ok() { echo "e2e-iam: ok: $*"; }
# as KEY SECRET [TOKEN] -- ARGS... runs aws with other credentials.
as() {
  local ak=$1 sk=$2 tok=$3; shift 4
  AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk AWS_SESSION_TOKEN=$tok aws "$@"
}

account=$(aws sts get-caller-identity --query Account --output text)
[ "$(aws sts get-caller-identity --query Arn --output text)" = "arn:aws:iam::$account:root" ] || fail "root identity"
ok "get-caller-identity as the account root ($account)"

user=e2e-user-$RANDOM$RANDOM
aws iam create-user --user-name "$user" --path /e2e/ >/dev/null
[ "$(aws iam get-user --user-name "$user" --query User.Arn --output text)" = "arn:aws:iam::$account:user/e2e/$user" ] || fail "get-user"
refused EntityAlreadyExists aws iam create-user --user-name "$user"
refused NoSuchEntity aws iam get-user --user-name "nobody-$user"
aws iam list-users --path-prefix /e2e/ --query 'Users[].UserName' --output text | grep -qw "$user" || fail "list-users"
read -r ak sk < <(aws iam create-access-key --user-name "$user" --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
[ "${ak:0:4}" = AKIA ] && [ "${#sk}" -eq 40 ] || fail "create-access-key returned $ak"
ok "create-user, get-user, list-users, create-access-key"

for _ in $(seq 30); do # IAM is immediate on one node; the loop only guards against slow starts
  as "$ak" "$sk" "" -- sts get-caller-identity --query Arn --output text >"$w/arn" 2>/dev/null && break
  sleep 0.2
done
[ "$(cat "$w/arn")" = "arn:aws:iam::$account:user/e2e/$user" ] || fail "the new key is not the user: $(cat "$w/arn")"
AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk refused AccessDenied aws iam list-users
ok "get-caller-identity with the user's key; list-users without permission is AccessDenied"

cat >"$w/policy.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","sts:AssumeRole"],"Resource":"*"}]}
JSON
refused MalformedPolicyDocument aws iam put-user-policy --user-name "$user" --policy-name bad --policy-document '{"Statement":[{"Effect":"Allow"}]}'
aws iam put-user-policy --user-name "$user" --policy-name e2e --policy-document "file://$w/policy.json"
aws iam list-user-policies --user-name "$user" --query PolicyNames --output text | grep -qw e2e || fail "list-user-policies"
aws iam get-user-policy --user-name "$user" --policy-name e2e --query PolicyDocument --output text | grep -q 'iam:ListUsers' || fail "get-user-policy"
as "$ak" "$sk" "" -- iam list-users --query 'Users[].UserName' --output text | grep -qw "$user" || fail "list-users with the policy"
ok "put-user-policy lets the user list users"

role=e2e-role-$RANDOM$RANDOM
cat >"$w/trust.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::$account:root"},"Action":"sts:AssumeRole"}]}
JSON
aws iam create-role --role-name "$role" --assume-role-policy-document "file://$w/trust.json" >/dev/null
aws iam put-role-policy --role-name "$role" --policy-name all --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
read -r sak ssk stok < <(as "$ak" "$sk" "" -- sts assume-role --role-arn "arn:aws:iam::$account:role/$role" --role-session-name e2e \
  --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
[ "${sak:0:4}" = ASIA ] || fail "assume-role returned $sak"
[ "$(as "$sak" "$ssk" "$stok" -- sts get-caller-identity --query Arn --output text)" = "arn:aws:sts::$account:assumed-role/$role/e2e" ] || fail "session identity"
bucket=e2e-iam-$RANDOM$RANDOM
as "$sak" "$ssk" "$stok" -- s3api create-bucket --bucket "$bucket" >/dev/null
echo hello >"$w/obj"
as "$sak" "$ssk" "$stok" -- s3 cp "$w/obj" "s3://$bucket/obj" >/dev/null
as "$sak" "$ssk" "$stok" -- s3 cp "s3://$bucket/obj" "$w/back" >/dev/null
cmp -s "$w/obj" "$w/back" || fail "object read with session credentials differs"
as "$sak" "$ssk" "$stok" -- kms list-keys >/dev/null
AWS_ACCESS_KEY_ID=$sak AWS_SECRET_ACCESS_KEY=$ssk AWS_SESSION_TOKEN="${stok}x" refused InvalidToken aws s3api list-buckets
ok "assume-role; the session works on S3 and KMS; a wrong token is InvalidToken"

as "$sak" "$ssk" "$stok" -- s3 rm "s3://$bucket/obj" >/dev/null
as "$sak" "$ssk" "$stok" -- s3api delete-bucket --bucket "$bucket"
aws iam delete-role-policy --role-name "$role" --policy-name all
aws iam delete-role --role-name "$role"
refused DeleteConflict aws iam delete-user --user-name "$user"
aws iam delete-user-policy --user-name "$user" --policy-name e2e
aws iam delete-access-key --user-name "$user" --access-key-id "$ak"
aws iam delete-user --user-name "$user"
AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk refused InvalidClientTokenId aws sts get-caller-identity
ok "clean-up; the deleted key is refused"
