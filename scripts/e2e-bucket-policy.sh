#!/usr/bin/env bash
# Bucket policies and Block Public Access through the real aws CLI and curl: the "deny uploads
# without aws:kms" policy enforced on `aws s3 cp`, policy status, the public access block round
# trip, anonymous public reads, and an IAM user limited by its identity policy. Needs the
# environment scripts/e2e.sh sets up.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
w=${E2E_WORK:?run through scripts/e2e.sh}

bucket=e2e-policy-$RANDOM
aws s3api create-bucket --bucket "$bucket" >/dev/null
echo "policy e2e" >"$w/policy.txt"
refused NoSuchBucketPolicy aws s3api get-bucket-policy --bucket "$bucket"

# AWS's "require SSE-KMS" bucket policy: a write without the header, or with AES256, is refused
# even though the bucket's default would encrypt it; aws:kms passes.
cat >"$w/kms-only.json" <<JSON
{"Version":"2012-10-17","Id":"PutObjectPolicy","Statement":[
 {"Sid":"DenyIncorrectEncryptionHeader","Effect":"Deny","Principal":"*","Action":"s3:PutObject",
  "Resource":"arn:aws:s3:::$bucket/*","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}},
 {"Sid":"DenyUnencryptedObjectUploads","Effect":"Deny","Principal":"*","Action":"s3:PutObject",
  "Resource":"arn:aws:s3:::$bucket/*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}}]}
JSON
aws s3api put-bucket-policy --bucket "$bucket" --policy "file://$w/kms-only.json"
aws s3api get-bucket-policy --bucket "$bucket" --query Policy --output text | grep -q DenyUnencryptedObjectUploads ||
  fail "get-bucket-policy does not return the policy"
[ "$(aws s3api get-bucket-policy-status --bucket "$bucket" --query PolicyStatus.IsPublic --output text)" = False ] ||
  fail "a deny-only policy reported public"

refused AccessDenied aws s3 cp "$w/policy.txt" "s3://$bucket/plain.txt"
refused AccessDenied aws s3 cp "$w/policy.txt" "s3://$bucket/aes.txt" --sse AES256
aws s3 cp "$w/policy.txt" "s3://$bucket/kms.txt" --sse aws:kms >/dev/null || fail "cp --sse aws:kms refused"
[ "$(aws s3api head-object --bucket "$bucket" --key kms.txt --query ServerSideEncryption --output text)" = aws:kms ] ||
  fail "kms.txt is not SSE-KMS"
# A multipart upload (8 MiB parts by default) goes through with the header on CreateMultipartUpload only.
head -c $((9 * 1024 * 1024)) /dev/urandom >"$w/policy-big.bin"
aws s3 cp "$w/policy-big.bin" "s3://$bucket/big.bin" --sse aws:kms >/dev/null || fail "multipart cp --sse aws:kms refused"
refused AccessDenied aws s3 cp "$w/policy-big.bin" "s3://$bucket/big-plain.bin"
aws s3api delete-bucket-policy --bucket "$bucket"
refused NoSuchBucketPolicy aws s3api get-bucket-policy --bucket "$bucket"
aws s3 cp "$w/policy.txt" "s3://$bucket/plain.txt" >/dev/null || fail "cp refused after the policy was deleted"

# Block Public Access: on for a new bucket; a public policy is refused until it is lifted.
pab() { aws s3api get-public-access-block --bucket "$bucket" --query "PublicAccessBlockConfiguration.[BlockPublicAcls,IgnorePublicAcls,BlockPublicPolicy,RestrictPublicBuckets]" --output text; }
[ "$(pab)" = "True	True	True	True" ] || fail "new bucket's public access block: $(pab)"
cat >"$w/public-read.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::$bucket/*"}]}
JSON
refused AccessDenied aws s3api put-bucket-policy --bucket "$bucket" --policy "file://$w/public-read.json"
aws s3api put-public-access-block --bucket "$bucket" --public-access-block-configuration \
  BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=false,RestrictPublicBuckets=false
[ "$(pab)" = "True	True	False	False" ] || fail "public access block after put: $(pab)"
aws s3api put-bucket-policy --bucket "$bucket" --policy "file://$w/public-read.json"
[ "$(aws s3api get-bucket-policy-status --bucket "$bucket" --query PolicyStatus.IsPublic --output text)" = True ] ||
  fail "public-read policy not reported public"
got=$(curl -sS --cacert "$AWS_CA_BUNDLE" "$AWS_ENDPOINT_URL/$bucket/plain.txt")
[ "$got" = "policy e2e" ] || fail "anonymous GET of a public-read object: $got"
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$AWS_CA_BUNDLE" -X PUT --data x "$AWS_ENDPOINT_URL/$bucket/anon.txt")
[ "$code" = 403 ] || fail "anonymous PUT answered $code"
aws s3api put-public-access-block --bucket "$bucket" --public-access-block-configuration \
  BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$AWS_CA_BUNDLE" "$AWS_ENDPOINT_URL/$bucket/plain.txt")
[ "$code" = 403 ] || fail "anonymous GET with RestrictPublicBuckets answered $code"
aws s3api delete-public-access-block --bucket "$bucket"
refused NoSuchPublicAccessBlockConfiguration aws s3api get-public-access-block --bucket "$bucket"
aws s3api delete-bucket-policy --bucket "$bucket"

# An IAM user reads but cannot write: its identity policy allows reads only.
user=e2e-reader-$RANDOM
aws iam create-user --user-name "$user" >/dev/null
aws iam put-user-policy --user-name "$user" --policy-name read --policy-document \
  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\",\"s3:ListBucket\"],\"Resource\":[\"arn:aws:s3:::$bucket\",\"arn:aws:s3:::$bucket/*\"]}]}"
read -r ak sk < <(aws iam create-access-key --user-name "$user" --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
as_user() { AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk aws "$@"; }
for _ in $(seq 20); do as_user s3 ls "s3://$bucket/" >/dev/null 2>&1 && break; sleep 0.2; done
as_user s3 cp "s3://$bucket/plain.txt" "$w/policy-back.txt" >/dev/null || fail "user cannot read"
cmp -s "$w/policy.txt" "$w/policy-back.txt" || fail "user read other bytes"
refused AccessDenied as_user s3 cp "$w/policy.txt" "s3://$bucket/by-user.txt"
echo "e2e-bucket-policy: ok"
