#!/usr/bin/env bash
# Bucket behaviours real clients trip on, through the aws CLI and boto3: refusals of
# Expect: 100-continue uploads, DeleteBucket with in-progress uploads, url-encoded listings,
# ListBuckets paging. Needs the environment scripts/e2e.sh sets up.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
w=${E2E_WORK:?run through scripts/e2e.sh}

# `aws s3 cp` to a missing bucket must report NoSuchBucket, not a connection closed while
# the server waited for the body it had not asked for. timeout catches a hang.
head -c $((200 * 1024)) /dev/urandom >"$w/fid-200k.bin"
if out=$(timeout 60 aws s3 cp "$w/fid-200k.bin" "s3://fid-missing-$RANDOM/k" 2>&1); then
  fail "cp to a missing bucket succeeded: $out"
fi
echo "$out" | grep -q NoSuchBucket || fail "cp to a missing bucket: $out"

# DeleteBucket of a bucket with only in-progress uploads removes them.
bucket=fid-cli-$RANDOM
aws s3api create-bucket --bucket "$bucket" >/dev/null
id=$(aws s3api create-multipart-upload --bucket "$bucket" --key mp --query UploadId --output text)
aws s3api upload-part --bucket "$bucket" --key mp --upload-id "$id" --part-number 1 --body "$w/fid-200k.bin" >/dev/null
aws s3api delete-bucket --bucket "$bucket" || fail "delete-bucket with an in-progress upload failed"
if aws s3api head-bucket --bucket "$bucket" 2>/dev/null; then fail "bucket $bucket survived delete-bucket"; fi

# A client that hangs on a refusal would stall the whole run: timeout turns that into a failure.
timeout 120 python3 "$here/e2e_fidelity_buckets.py" || fail "boto3 checks failed or hung"
