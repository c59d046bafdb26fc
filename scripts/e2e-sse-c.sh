#!/usr/bin/env bash
# SSE-C through the real aws CLI: a new bucket refuses SSE-C writes until put-bucket-encryption
# unblocks it; then `aws s3 cp --sse-c` up (single and multipart) and down, an SSE-C to SSE-C
# copy with a new key, and reads without or with the wrong key refused. The cp steps run
# under every aws CLI found (Debian's older awscli too, which cannot send
# BlockedEncryptionTypes itself). Needs the environment scripts/e2e.sh sets up.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
w=${E2E_WORK:?run through scripts/e2e.sh}
# awsc CLI ARGS...: run one aws CLI against the endpoint (older CLIs ignore AWS_ENDPOINT_URL).
awsc() { local cli=$1; shift; "$cli" --endpoint-url "${AWS_ENDPOINT_URL:?}" "$@"; }
aws=$(type -P aws)

head -c 32 /dev/urandom >"$w/ssec.key"
head -c 32 /dev/urandom >"$w/ssec2.key"
head -c 100000 /dev/urandom >"$w/ssec-small.bin"
head -c $((9 << 20)) /dev/urandom >"$w/ssec-large.bin" # above the CLI's 8 MiB multipart threshold

bucket=e2e-ssec-$RANDOM
awsc "$aws" s3api create-bucket --bucket "$bucket" >/dev/null

# A new bucket blocks SSE-C, and says so.
blocked=$(awsc "$aws" s3api get-bucket-encryption --bucket "$bucket" \
  --query 'ServerSideEncryptionConfiguration.Rules[0].BlockedEncryptionTypes.EncryptionType[0]' --output text)
[ "$blocked" = SSE-C ] || fail "new bucket blocks '$blocked', want SSE-C"
refused AccessDenied awsc "$aws" s3 cp "$w/ssec-small.bin" "s3://$bucket/small" --sse-c AES256 --sse-c-key "fileb://$w/ssec.key"
awsc "$aws" s3 cp "$w/ssec-small.bin" "s3://$bucket/plain" >/dev/null # other writes go on

# Unblock it.
awsc "$aws" s3api put-bucket-encryption --bucket "$bucket" --server-side-encryption-configuration \
  '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"},"BlockedEncryptionTypes":{"EncryptionType":["NONE"]}}]}'
blocked=$(awsc "$aws" s3api get-bucket-encryption --bucket "$bucket" \
  --query 'ServerSideEncryptionConfiguration.Rules[0].BlockedEncryptionTypes.EncryptionType[0]' --output text)
[ "$blocked" = NONE ] || fail "after unblocking: '$blocked'"

clis=("$aws")
if [ -x /usr/bin/aws ] && [ "$(readlink -f /usr/bin/aws)" != "$(readlink -f "$aws")" ]; then clis+=(/usr/bin/aws); fi
for cli in "${clis[@]}"; do
  v=$("$cli" --version 2>&1 | cut -d' ' -f1)
  echo "e2e-sse-c: cp with $v"
  for f in small large; do
    awsc "$cli" s3 cp "$w/ssec-$f.bin" "s3://$bucket/$f" --sse-c AES256 --sse-c-key "fileb://$w/ssec.key" >/dev/null
    awsc "$cli" s3 cp "s3://$bucket/$f" "$w/ssec-$f.out" --sse-c AES256 --sse-c-key "fileb://$w/ssec.key" >/dev/null
    cmp -s "$w/ssec-$f.bin" "$w/ssec-$f.out" || fail "$v: $f read back differs"
    rm -f "$w/ssec-$f.out"
    # The CLI downloads with HeadObject first, which has no error body: only its status shows.
    refused 400 awsc "$cli" s3 cp "s3://$bucket/$f" "$w/ssec-$f.out"
    refused 403 awsc "$cli" s3 cp "s3://$bucket/$f" "$w/ssec-$f.out" --sse-c AES256 --sse-c-key "fileb://$w/ssec2.key"
  done
  # SSE-C to SSE-C under a new key.
  awsc "$cli" s3 cp "s3://$bucket/large" "s3://$bucket/rekeyed" --sse-c-copy-source AES256 --sse-c-copy-source-key "fileb://$w/ssec.key" \
    --sse-c AES256 --sse-c-key "fileb://$w/ssec2.key" >/dev/null
  awsc "$cli" s3 cp "s3://$bucket/rekeyed" "$w/ssec-rekeyed.out" --sse-c AES256 --sse-c-key "fileb://$w/ssec2.key" >/dev/null
  cmp -s "$w/ssec-large.bin" "$w/ssec-rekeyed.out" || fail "$v: rekeyed copy differs"
  rm -f "$w/ssec-rekeyed.out"
done

# GetObject without the key names S3's error; HEAD reports the algorithm and key MD5.
refused InvalidRequest awsc "$aws" s3api get-object --bucket "$bucket" --key small "$w/ssec.out"
md5=$(awsc "$aws" s3api head-object --bucket "$bucket" --key small --sse-customer-algorithm AES256 \
  --sse-customer-key "fileb://$w/ssec.key" --query SSECustomerKeyMD5 --output text)
[ "$md5" = "$(openssl dgst -md5 -binary <"$w/ssec.key" | base64)" ] || fail "head-object key MD5 $md5"

# Blocked again: SSE-C writes are refused, the objects written stay readable.
awsc "$aws" s3api put-bucket-encryption --bucket "$bucket" --server-side-encryption-configuration \
  '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"},"BlockedEncryptionTypes":{"EncryptionType":["SSE-C"]}}]}'
refused AccessDenied awsc "$aws" s3 cp "$w/ssec-small.bin" "s3://$bucket/again" --sse-c AES256 --sse-c-key "fileb://$w/ssec.key"
awsc "$aws" s3 cp "s3://$bucket/small" "$w/ssec-small.out" --sse-c AES256 --sse-c-key "fileb://$w/ssec.key" >/dev/null
cmp -s "$w/ssec-small.bin" "$w/ssec-small.out" || fail "read after blocking differs"
echo "e2e-sse-c: ok"
