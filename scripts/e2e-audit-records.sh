#!/usr/bin/env bash
# The audit records of real aws CLI traffic, read back with `coffer audit events` from the
# running server's data directory: an IAM user's `aws s3 cp --sse aws:kms` makes a
# GenerateDataKey record invoked by S3 for that user, with the object's aws:s3:arn context; the user's CreateAccessKey is recorded without its secret, and
# no file under DIR/audit holds the secret. It does not start a server: the caller
# (scripts/e2e.sh) starts coffer (binary and data directory in E2E_WORK) and exports
# AWS_ENDPOINT_URL, AWS_CA_BUNDLE and the account root's credentials.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
: "${AWS_ENDPOINT_URL:?AWS_ENDPOINT_URL must point at a running coffer}"
: "${E2E_WORK:?E2E_WORK must hold the coffer binary and its data directory}"
export AWS_PAGER=""
w=$(mktemp -d "$E2E_WORK/audit.XXXXXX")
trap 'rm -rf "$w"' EXIT
ok() { echo "$e2e_name: ok: $*"; }
events() { "$E2E_WORK/coffer" audit events --data "$E2E_WORK/data" "$@"; }

user=audit-user-$RANDOM$RANDOM
bucket=audit-bucket-$RANDOM$RANDOM
aws iam create-user --user-name "$user" >/dev/null
aws iam put-user-policy --user-name "$user" --policy-name all \
  --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
read -r ak sk < <(aws iam create-access-key --user-name "$user" --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
key=$(aws kms create-key --query KeyMetadata.KeyId --output text)
aws s3 mb "s3://$bucket" >/dev/null
echo "audited object body" >"$w/body.txt"
AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk aws s3 cp --sse aws:kms --sse-kms-key-id "$key" "$w/body.txt" "s3://$bucket/report.txt" >/dev/null
ok "an IAM user's aws s3 cp --sse aws:kms"

events --event-name GenerateDataKey --user "$user" >"$w/gdk.json"
python3 - "$w/gdk.json" "$user" "$ak" "$bucket" "$key" <<'PY' || fail "no GenerateDataKey invoked by S3 for $user with the object's context"
import json, sys
path, user, ak, bucket, key = sys.argv[1:]
for line in open(path):
    e = json.loads(line)
    u = e["userIdentity"]
    p = e.get("requestParameters") or {}
    if (u.get("type") == "IAMUser" and u.get("userName") == user and u.get("accessKeyId") == ak
            and u.get("invokedBy") == "s3.amazonaws.com" and e.get("sourceIPAddress") == "s3.amazonaws.com"
            and p.get("encryptionContext", {}).get("aws:s3:arn") == "arn:aws:s3:::%s/report.txt" % bucket
            and any(r["ARN"].endswith(":key/" + key) for r in e.get("resources", []))):
        sys.exit(0)
sys.exit(1)
PY
ok "coffer audit events shows the GenerateDataKey invoked by S3 for $user with aws:s3:arn"

events --event-name CreateAccessKey >"$w/cak.json"
grep -q "\"accessKeyId\":\"$ak\"" "$w/cak.json" || fail "no CreateAccessKey record of $ak"
if grep -qF "$sk" "$w/cak.json"; then fail "the CreateAccessKey record holds the secret"; fi
if grep -rqF "$sk" "$E2E_WORK/data/audit"; then fail "a file under DIR/audit holds the secret"; fi
for f in $(find "$E2E_WORK/data/audit" -name '*.gz'); do
  if gzip -dc "$f" | grep -qF "$sk"; then fail "$f holds the secret"; fi
done
ok "the CreateAccessKey record and the files under DIR/audit hold no secret key"
