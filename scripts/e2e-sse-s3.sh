#!/usr/bin/env bash
# SSE-S3 through the real aws CLI: uploads and downloads with --sse AES256 (single PUT and
# multipart), the encryption HeadObject reports, a range of an encrypted object, and bucket
# default encryption put, read and deleted. Needs the environment scripts/e2e.sh sets up.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
w=${E2E_WORK:?run through scripts/e2e.sh}

bucket=e2e-sse-s3-$RANDOM
aws s3api create-bucket --bucket "$bucket" >/dev/null
head -c $((300 * 1024)) /dev/urandom >"$w/sse-small.bin"
head -c $((20 * 1024 * 1024 + 12345)) /dev/urandom >"$w/sse-large.bin" # multipart (8 MiB parts)

for f in sse-small.bin sse-large.bin; do
  aws s3 cp --quiet --sse AES256 "$w/$f" "s3://$bucket/$f"
  aws s3 cp --quiet "s3://$bucket/$f" "$w/$f.down"
  cmp -s "$w/$f" "$w/$f.down" || fail "$f came back different"
  sse=$(aws s3api head-object --bucket "$bucket" --key "$f" --query ServerSideEncryption --output text)
  [ "$sse" = AES256 ] || fail "head-object $f: ServerSideEncryption $sse, want AES256"
done

# A range across the first part boundary of the multipart object, checked against the file.
aws s3api get-object --bucket "$bucket" --key sse-large.bin --range "bytes=8388000-8389000" "$w/sse-range.bin" >/dev/null
cmp -s "$w/sse-range.bin" <(tail -c +8388001 "$w/sse-large.bin" | head -c 1001) || fail "range of sse-large.bin differs"

# Bucket default encryption: AES256 with a bucket key, read back, deleted → the default.
encryption() {
  aws s3api get-bucket-encryption --bucket "$bucket" \
    --query 'ServerSideEncryptionConfiguration.Rules[0].[ApplyServerSideEncryptionByDefault.SSEAlgorithm,BucketKeyEnabled]' --output text
}
aws s3api put-bucket-encryption --bucket "$bucket" --server-side-encryption-configuration \
  '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"},"BucketKeyEnabled":true}]}'
got=$(encryption)
[ "$got" = "AES256	True" ] || fail "get-bucket-encryption after put: $got"
aws s3 cp --quiet "$w/sse-small.bin" "s3://$bucket/default.bin" # no --sse: the bucket default
sse=$(aws s3api head-object --bucket "$bucket" --key default.bin --query ServerSideEncryption --output text)
[ "$sse" = AES256 ] || fail "head-object of an upload under the bucket default: $sse"
aws s3api delete-bucket-encryption --bucket "$bucket"
got=$(encryption)
[ "$got" = "AES256	False" ] || fail "get-bucket-encryption after delete: $got, want the SSE-S3 default"

aws s3 rm --quiet --recursive "s3://$bucket"
aws s3api delete-bucket --bucket "$bucket"
echo "e2e-sse-s3: ok"
