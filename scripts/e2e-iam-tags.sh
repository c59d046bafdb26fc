#!/usr/bin/env bash
# IAM tags and in-place updates through the real aws CLI, as Terraform's aws provider uses
# them: tags on create, tag-user/list-user-tags/untag-user (and the role and policy forms),
# IAM's tag errors, update-role, update-assume-role-policy, set-default-policy-version,
# list-entities-for-policy. It does not start a server: scripts/e2e.sh does, and exports
# AWS_ENDPOINT_URL, AWS_CA_BUNDLE and the account root's credentials.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
: "${AWS_ENDPOINT_URL:?AWS_ENDPOINT_URL must point at a running coffer}"
export AWS_PAGER=""
w=$(mktemp -d "${E2E_WORK:-${TMPDIR:-/tmp}}/iamtags.XXXXXX")
trap 'rm -rf "$w"' EXIT
ok() { echo "e2e-iam-tags: ok: $*"; }

user=e2e-tags-$RANDOM$RANDOM
aws iam create-user --user-name "$user" --tags Key=team,Value=blue >/dev/null
[ "$(aws iam get-user --user-name "$user" --query 'User.Tags[0].Value' --output text)" = blue ] || fail "get-user tags"
aws iam tag-user --user-name "$user" --tags Key=TEAM,Value=red Key=env,Value=prod
[ "$(aws iam list-user-tags --user-name "$user" --query 'Tags[].[Key,Value]' --output text | tr '\t\n' '= ')" = "TEAM=red env=prod " ] ||
  fail "list-user-tags: $(aws iam list-user-tags --user-name "$user" --output text)"
aws iam untag-user --user-name "$user" --tag-keys Env
[ "$(aws iam list-user-tags --user-name "$user" --query 'length(Tags)' --output text)" = 1 ] || fail "untag-user"
ok "create-user --tags, get-user, tag-user replaces ignoring case, list-user-tags, untag-user"

refused InvalidInput aws iam tag-user --user-name "$user" --tags Key=a,Value=1 Key=A,Value=2
refused InvalidInput aws iam tag-user --user-name "$user" --tags Key=aws:x,Value=1
refused ValidationError aws iam tag-user --user-name "$user" --tags "Key=$(printf 'k%.0s' $(seq 129)),Value=v"
refused NoSuchEntity aws iam tag-user --user-name "nobody-$user" --tags Key=a,Value=b
: >"$w/tags"
for i in $(seq 50); do printf 'Key=k%02d,Value=v ' "$i" >>"$w/tags"; done
# shellcheck disable=SC2046 # one argument per tag
refused LimitExceeded aws iam tag-user --user-name "$user" --tags $(cat "$w/tags")
ok "duplicate, reserved and over-long keys, a missing user and the 50-tag limit refused"

account=$(aws sts get-caller-identity --query Account --output text)
role=e2e-tags-role-$RANDOM$RANDOM
cat >"$w/trust.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::$account:root"},"Action":"sts:AssumeRole"}]}
JSON
aws iam create-role --role-name "$role" --assume-role-policy-document "file://$w/trust.json" --tags Key=app,Value=e2e >/dev/null
aws iam tag-role --role-name "$role" --tags Key=tier,Value=web
[ "$(aws iam list-role-tags --role-name "$role" --query 'length(Tags)' --output text)" = 2 ] || fail "list-role-tags"
aws iam update-role --role-name "$role" --description "e2e role" --max-session-duration 7200
[ "$(aws iam get-role --role-name "$role" --query 'Role.[Description,MaxSessionDuration]' --output text)" = "$(printf 'e2e role\t7200')" ] ||
  fail "update-role: $(aws iam get-role --role-name "$role" --query Role --output json)"
cat >"$w/trust2.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}
JSON
aws iam update-assume-role-policy --role-name "$role" --policy-document "file://$w/trust2.json"
aws iam get-role --role-name "$role" --query Role.AssumeRolePolicyDocument --output json | grep -q ec2.amazonaws.com || fail "update-assume-role-policy"
refused UnsupportedOperation aws iam create-role --role-name "$role-b" --assume-role-policy-document "file://$w/trust.json" \
  --permissions-boundary "arn:aws:iam::$account:policy/none"
ok "create-role --tags, tag-role, list-role-tags, update-role, update-assume-role-policy; a permissions boundary is refused"

cat >"$w/p.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}
JSON
arn=$(aws iam create-policy --policy-name "$role-p" --policy-document "file://$w/p.json" --tags Key=owner,Value=e2e --query Policy.Arn --output text)
aws iam tag-policy --policy-arn "$arn" --tags Key=owner,Value=ops
[ "$(aws iam list-policy-tags --policy-arn "$arn" --query 'Tags[0].Value' --output text)" = ops ] || fail "list-policy-tags"
aws iam create-policy-version --policy-arn "$arn" --policy-document "file://$w/p.json" >/dev/null
aws iam set-default-policy-version --policy-arn "$arn" --version-id v2
[ "$(aws iam get-policy --policy-arn "$arn" --query Policy.DefaultVersionId --output text)" = v2 ] || fail "set-default-policy-version"
aws iam attach-role-policy --role-name "$role" --policy-arn "$arn"
[ "$(aws iam list-entities-for-policy --policy-arn "$arn" --query 'PolicyRoles[0].RoleName' --output text)" = "$role" ] || fail "list-entities-for-policy"
ok "create-policy --tags, tag-policy, list-policy-tags, set-default-policy-version, list-entities-for-policy"

aws iam detach-role-policy --role-name "$role" --policy-arn "$arn"
aws iam delete-policy-version --policy-arn "$arn" --version-id v1
aws iam delete-policy --policy-arn "$arn"
aws iam delete-role --role-name "$role"
aws iam delete-user --user-name "$user"
ok "clean-up"
