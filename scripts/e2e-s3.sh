#!/usr/bin/env bash
# S3 through the real aws CLI. Needs the environment scripts/e2e.sh sets up.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
w=${E2E_WORK:?run through scripts/e2e.sh}
s3() { aws s3 "$@" >/dev/null; }

bucket=e2e-bucket-$RANDOM
head -c 1024 /dev/urandom >"$w/small.bin"
head -c $((50 * 1024 * 1024)) /dev/urandom >"$w/big.bin"

s3 mb "s3://$bucket"
aws s3 ls | grep -q " $bucket\$" || fail "bucket not listed"

s3 cp "$w/small.bin" "s3://$bucket/dir/small.bin"
s3 cp "$w/big.bin" "s3://$bucket/dir/big.bin"
listing=$(aws s3 ls "s3://$bucket/dir/")
echo "$listing" | grep -q " 1024 small.bin\$" || fail "small.bin not listed: $listing"
echo "$listing" | grep -q " 52428800 big.bin\$" || fail "big.bin not listed: $listing"
etag=$(aws s3api head-object --bucket "$bucket" --key dir/big.bin --query ETag --output text)
case "$etag" in *-*) ;; *) fail "50 MiB upload was not multipart (ETag $etag)" ;; esac

s3 cp "s3://$bucket/dir/small.bin" "$w/small.out"
s3 cp "s3://$bucket/dir/big.bin" "$w/big.out"
[ "$(sha256sum <"$w/small.bin")" = "$(sha256sum <"$w/small.out")" ] || fail "1 KiB round trip differs"
[ "$(sha256sum <"$w/big.bin")" = "$(sha256sum <"$w/big.out")" ] || fail "50 MiB round trip differs"

url=$(aws s3 presign "s3://$bucket/dir/small.bin" --expires-in 300)
curl -sS --cacert "$AWS_CA_BUNDLE" -o "$w/presigned.out" "$url"; [ "$(head -c 5 "$w/presigned.out")" != "<?xml" ] || fail "presigned GET failed: $url $(cat "$w/presigned.out")"
[ "$(sha256sum <"$w/small.bin")" = "$(sha256sum <"$w/presigned.out")" ] || fail "presigned GET differs"
# Tamper with the signed expiry (SigV2 Expires or SigV4 X-Amz-Expires) but keep the URL well-formed.
tampered=$(printf '%s' "$url" | sed -E 's/([?&](X-Amz-)?Expires=)([0-9]+)/\1\31/')
[ "$tampered" != "$url" ] || fail "could not tamper with $url"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$AWS_CA_BUNDLE" "$tampered")
[ "$code" = 403 ] || fail "tampered presigned URL answered $code"

s3 rm "s3://$bucket/dir/small.bin"
if aws s3 rb "s3://$bucket" 2>/dev/null; then fail "rb of a non-empty bucket succeeded"; fi
s3 rm "s3://$bucket" --recursive
s3 rb "s3://$bucket"
if aws s3 ls | grep -q " $bucket\$"; then fail "bucket still listed after rb"; fi
echo "e2e-s3: mb, cp 1 KiB and 50 MiB both ways, ls, presigned GET, rm, rb: ok"
