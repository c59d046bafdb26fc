#!/usr/bin/env bash
# SSE-KMS through the real aws CLI: uploads with a named key and with the managed key, a bucket
# default of aws:kms with a bucket key, and a key disabled then enabled. Needs the environment
# scripts/e2e.sh sets up.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
w=${E2E_WORK:?run through scripts/e2e.sh}

bucket=e2e-sse-kms-$RANDOM
aws s3api create-bucket --bucket "$bucket" >/dev/null
head -c 300000 /dev/urandom >"$w/kms.bin"
key_id=$(aws kms create-key --query KeyMetadata.KeyId --output text)
key_arn=$(aws kms describe-key --key-id "$key_id" --query KeyMetadata.Arn --output text)

aws s3 cp --quiet --sse aws:kms --sse-kms-key-id "$key_id" "$w/kms.bin" "s3://$bucket/named"
[ "$(aws s3api head-object --bucket "$bucket" --key named --query ServerSideEncryption --output text)" = aws:kms ] || fail "head-object: not aws:kms"
[ "$(aws s3api head-object --bucket "$bucket" --key named --query SSEKMSKeyId --output text)" = "$key_arn" ] || fail "head-object: not the key ARN"
aws s3 cp --quiet "s3://$bucket/named" "$w/named.out"
cmp -s "$w/kms.bin" "$w/named.out" || fail "named-key object read back differently"

aws s3 cp --quiet --sse aws:kms "$w/kms.bin" "s3://$bucket/managed"
managed=$(aws kms describe-key --key-id alias/aws/s3 --query KeyMetadata.Arn --output text)
[ "$(aws s3api head-object --bucket "$bucket" --key managed --query SSEKMSKeyId --output text)" = "$managed" ] || fail "--sse aws:kms without a key did not use alias/aws/s3"

aws s3api put-bucket-encryption --bucket "$bucket" --server-side-encryption-configuration \
  "{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"aws:kms\",\"KMSMasterKeyID\":\"$key_arn\"},\"BucketKeyEnabled\":true}]}"
[ "$(aws s3api get-bucket-encryption --bucket "$bucket" --query 'ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm' --output text)" = aws:kms ] || fail "get-bucket-encryption: not aws:kms"
aws s3 cp --quiet "$w/kms.bin" "s3://$bucket/default"
[ "$(aws s3api head-object --bucket "$bucket" --key default --query BucketKeyEnabled --output text)" = True ] || fail "bucket default did not use a bucket key"

aws kms disable-key --key-id "$key_id"
for k in named default; do
  refused KMS.DisabledException aws s3api get-object --bucket "$bucket" --key "$k" "$w/$k.out"
done
aws kms enable-key --key-id "$key_id"
for k in named default; do
  aws s3 cp --quiet "s3://$bucket/$k" "$w/$k.out"
  cmp -s "$w/kms.bin" "$w/$k.out" || fail "$k read back differently after enable-key"
done

refused KMS.NotFoundException aws s3 cp --sse aws:kms --sse-kms-key-id alias/none "$w/kms.bin" "s3://$bucket/none"
echo "e2e-sse-kms: ok"
