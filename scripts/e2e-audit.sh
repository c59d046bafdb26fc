#!/usr/bin/env bash
# The audit trail through unmodified AWS tools (issue 11): an IAM user's `aws s3 cp --sse
# aws:kms` shows in `aws cloudtrail lookup-events` as the GenerateDataKey S3 made for that user
# with the object's aws:s3:arn context; a trail delivers log and digest files into a bucket,
# which `aws cloudtrail validate-logs` (an aws CLI that honours AWS_ENDPOINT_URL) checks, and
# the local chain passes `coffer audit verify`; once a log file is edited (in the bucket, in
# DIR/audit) both fail.
#
# It runs its own coffer (the binary scripts/e2e.sh built, $E2E_WORK/coffer) on its own data
# directory, so that it can stop it: `coffer audit verify` checks the local chain offline,
# after the clean shutdown's final digest has taken in every log file. Everything else it
# needs from scripts/e2e.sh is E2E_WORK.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
work=${E2E_WORK:?run through scripts/e2e.sh}
coffer=$work/coffer
[ -x "$coffer" ] || fail "no coffer binary at $coffer"
w=$(mktemp -d "$work/audit.XXXXXX")
data=$w/data
pid=""
stop_server() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid" || fail "coffer did not exit cleanly on SIGTERM: $(tail -5 "$w/server.err")"
  fi
  pid=""
}
trap 'stop_server || true' EXIT
ok() { echo "$e2e_name: ok: $*"; }

# validate-logs reads the bucket through an S3 client the CLI makes without --endpoint-url:
# only an aws CLI whose botocore honours AWS_ENDPOINT_URL (1.29+ / 2.13+) reaches Coffer.
validator=""
for cli in $(type -aP aws) /usr/bin/aws; do
  [ -x "$cli" ] || continue
  v=$("$cli" --version 2>&1 | sed -n 's|^aws-cli/\([0-9]*\)\.\([0-9]*\)\..*|\1 \2|p')
  read -r major minor <<<"${v:-0 0}"
  if [ "$major" -eq 1 ] && [ "$minor" -ge 29 ] || [ "$major" -eq 2 ] && [ "$minor" -ge 13 ] || [ "$major" -gt 2 ]; then
    validator=$cli
    break
  fi
done
[ -n "$validator" ] || fail "no aws CLI that honours AWS_ENDPOINT_URL (1.29+ or 2.13+) for validate-logs"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export COFFER_ACCESS_KEY=AKIAE2EAUDIT00000001 COFFER_SECRET_KEY=e2eAuditSecretKey0123456789abcdefghijklmn
"$coffer" server --data "$data" --listen "127.0.0.1:$port" >"$w/server.out" 2>"$w/server.err" &
pid=$!
for _ in $(seq 100); do
  grep -q "endpoint:" "$w/server.out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || fail "coffer exited: $(cat "$w/server.err")"
  sleep 0.1
done
export AWS_ENDPOINT_URL="https://127.0.0.1:$port" AWS_CA_BUNDLE="$data/tls/cert.pem"
export AWS_ACCESS_KEY_ID=$COFFER_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$COFFER_SECRET_KEY AWS_DEFAULT_REGION=us-east-1
account=$(aws sts get-caller-identity --query Account --output text)

# An IAM user uploads with SSE-KMS; S3's GenerateDataKey is recorded for that user.
aws iam create-user --user-name alice >/dev/null
aws iam put-user-policy --user-name alice --policy-name work --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","kms:*","cloudtrail:LookupEvents"],"Resource":"*"}]}'
read -r ak sk < <(aws iam create-access-key --user-name alice --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
alice() { AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk aws "$@"; }
aws s3api create-bucket --bucket e2e-data >/dev/null
head -c 20000 /dev/urandom >"$w/secret.bin"
alice s3 cp --quiet --sse aws:kms "$w/secret.bin" s3://e2e-data/secret.bin
alice cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=GenerateDataKey --output json >"$w/lookup.json"
python3 - "$w/lookup.json" "$account" <<'EOF' || fail "lookup-events shows no GenerateDataKey by S3 for alice with the object's context: $(head -c 2000 "$w/lookup.json")"
import json, sys
events, account = json.load(open(sys.argv[1]))["Events"], sys.argv[2]
def wanted(e):
    r = json.loads(e["CloudTrailEvent"])
    u = r["userIdentity"]
    return (r["eventSource"] == "kms.amazonaws.com" and u.get("userName") == "alice" and u.get("type") == "IAMUser"
            and u.get("invokedBy") == "s3.amazonaws.com" and r["recipientAccountId"] == account
            and r["requestParameters"]["encryptionContext"].get("aws:s3:arn") == "arn:aws:s3:::e2e-data/secret.bin")
sys.exit(0 if any(wanted(e) for e in events) else 1)
EOF
ok "lookup-events shows the GenerateDataKey S3 made for alice's SSE-KMS upload, with its aws:s3:arn context"

# A trail delivers into a bucket whose policy lets CloudTrail write; StopLogging writes its
# final digest.
aws s3api create-bucket --bucket e2e-trail >/dev/null
aws s3api put-bucket-policy --bucket e2e-trail --policy "$(cat <<EOF
{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::e2e-trail"},
 {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::e2e-trail/logs/AWSLogs/$account/*",
  "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control","aws:SourceArn":"arn:aws:cloudtrail:us-east-1:$account:trail/e2e"}}}]}
EOF
)"
start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
trail=$(aws cloudtrail create-trail --name e2e --s3-bucket-name e2e-trail --s3-key-prefix logs --enable-log-file-validation --query TrailARN --output text)
[ "$trail" = "arn:aws:cloudtrail:us-east-1:$account:trail/e2e" ] || fail "create-trail returned $trail"
aws cloudtrail start-logging --name e2e
alice s3 cp --quiet --sse aws:kms "$w/secret.bin" s3://e2e-data/again.bin
aws kms create-key --description e2e-audit >/dev/null
aws cloudtrail describe-trails >/dev/null
aws cloudtrail stop-logging --name e2e
[ "$(aws cloudtrail get-trail-status --name e2e --query IsLogging --output text)" = False ] || fail "the trail still logs"
ok "create-trail, start-logging, traffic, stop-logging"

"$validator" cloudtrail validate-logs --trail-arn "$trail" --start-time "$start" --verbose >"$w/validate.out" 2>&1 ||
  fail "validate-logs failed on untouched files: $(cat "$w/validate.out")"
grep -Eq '^[1-9][0-9]*/[0-9]+ digest files valid$' "$w/validate.out" && grep -Eq '^[1-9][0-9]*/[0-9]+ log files valid$' "$w/validate.out" &&
  ! grep -q INVALID "$w/validate.out" || fail "validate-logs checked no digest or log file: $(cat "$w/validate.out")"
ok "validate-logs ($("$validator" --version 2>&1 | cut -d' ' -f1)): $(grep -E 'files valid' "$w/validate.out" | tr '\n' ' ')"

# An edited log file in the bucket fails validate-logs.
key=$(aws s3api list-objects-v2 --bucket e2e-trail --prefix "logs/AWSLogs/$account/CloudTrail/" --query 'Contents[0].Key' --output text)
aws s3 cp --quiet "s3://e2e-trail/$key" "$w/log.json.gz"
gzip -dc "$w/log.json.gz" | sed 's/"eventName":"/"eventName":"x/' | gzip -c >"$w/edited.json.gz"
aws s3 cp --quiet "$w/edited.json.gz" "s3://e2e-trail/$key"
if "$validator" cloudtrail validate-logs --trail-arn "$trail" --start-time "$start" >"$w/tampered.out" 2>&1; then
  fail "validate-logs passed an edited log file: $(cat "$w/tampered.out")"
fi
grep -q "INVALID: hash value doesn't match" "$w/tampered.out" || fail "validate-logs did not name the edited file: $(cat "$w/tampered.out")"
ok "validate-logs fails on the edited s3://e2e-trail/$key"

# The local chain, checked offline after the clean shutdown's final digest.
stop_server
"$coffer" audit verify --data "$data" >"$w/verify.out" 2>&1 || fail "coffer audit verify failed on untouched files: $(tail -20 "$w/verify.out")"
grep -q '^valid: ' "$w/verify.out" || fail "coffer audit verify checked no log file: $(tail -5 "$w/verify.out")"
ok "coffer audit verify: $(tail -1 "$w/verify.out")"
log=$(find "$data/audit/logs" -name '*.json.gz' | sort | head -1)
[ -n "$log" ] || fail "no log file under $data/audit/logs"
gzip -dc "$log" | sed 's/"eventName":"/"eventName":"x/' | gzip -c >"$w/local.json.gz"
cp "$w/local.json.gz" "$log"
if "$coffer" audit verify --data "$data" >"$w/verify-tampered.out" 2>&1; then
  fail "coffer audit verify passed an edited log file: $(tail -5 "$w/verify-tampered.out")"
fi
grep -q '^modified: ' "$w/verify-tampered.out" || fail "coffer audit verify did not report the edit: $(tail -5 "$w/verify-tampered.out")"
ok "coffer audit verify fails on the edited ${log#"$data/"}"
echo "$e2e_name: ok"
