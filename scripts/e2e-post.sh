#!/usr/bin/env bash
# POST Object: a browser-style form upload with curl, its policy signed here with openssl as
# AWS's "Authenticating Requests in Browser-Based Uploads Using POST (AWS Signature Version 4)"
# describes, read back with the aws CLI. Needs the environment scripts/e2e.sh sets up.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
w=${E2E_WORK:?run through scripts/e2e.sh}

bucket=e2e-post-$RANDOM
region=${AWS_DEFAULT_REGION:-us-east-1}
aws s3 mb "s3://$bucket" >/dev/null
head -c $((300 * 1024)) /dev/urandom >"$w/post.bin"

amzdate=$(date -u +%Y%m%dT%H%M%SZ)
day=${amzdate:0:8} # from the one reading of the clock, so both agree across midnight
expiration=$(date -u -d '+10 minutes' +%Y-%m-%dT%H:%M:%S.000Z)
credential="$AWS_ACCESS_KEY_ID/$day/$region/s3/aws4_request"

# sign_policy JSON: prints the base64 policy and, on a second line, its hex signature.
sign_policy() {
  local policy key
  policy=$(printf '%s' "$1" | base64 -w0)
  hmac() { printf '%s' "$2" | openssl dgst -sha256 -mac HMAC -macopt "$1" | sed 's/^.* //'; }
  key=$(hmac "key:AWS4$AWS_SECRET_ACCESS_KEY" "$day")
  key=$(hmac "hexkey:$key" "$region")
  key=$(hmac "hexkey:$key" "s3")
  key=$(hmac "hexkey:$key" "aws4_request")
  printf '%s\n%s\n' "$policy" "$(hmac "hexkey:$key" "$policy")"
}

policy_json=$(cat <<JSON
{ "expiration": "$expiration",
  "conditions": [
    {"bucket": "$bucket"},
    ["starts-with", "\$key", "uploads/"],
    ["content-length-range", 1, 1048576],
    {"success_action_status": "201"},
    ["starts-with", "\$Content-Type", "application/"],
    {"x-amz-meta-origin": "e2e"},
    {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
    {"x-amz-credential": "$credential"},
    {"x-amz-date": "$amzdate"}
  ]
}
JSON
)
{ read -r policy; read -r signature; } < <(sign_policy "$policy_json")

post() { # key signature output: prints the HTTP status
  curl -sS --cacert "$AWS_CA_BUNDLE" -o "$3" -w '%{http_code}' "$AWS_ENDPOINT_URL/$bucket" \
    --form-string "key=$1" --form-string "success_action_status=201" \
    --form-string "Content-Type=application/octet-stream" --form-string "x-amz-meta-origin=e2e" \
    --form-string "x-amz-algorithm=AWS4-HMAC-SHA256" --form-string "x-amz-credential=$credential" \
    --form-string "x-amz-date=$amzdate" --form-string "policy=$policy" \
    --form-string "x-amz-signature=$2" -F "file=@$w/post.bin;filename=post.bin"
}

code=$(post 'uploads/${filename}' "$signature" "$w/post.resp")
[ "$code" = 201 ] || fail "upload answered $code: $(cat "$w/post.resp")"
grep -q '<Key>uploads/post.bin</Key>' "$w/post.resp" || fail "PostResponse lacks the key: $(cat "$w/post.resp")"

aws s3 cp "s3://$bucket/uploads/post.bin" "$w/post.out" >/dev/null
cmp -s "$w/post.bin" "$w/post.out" || fail "read back differs from the uploaded file"
meta=$(aws s3api head-object --bucket "$bucket" --key uploads/post.bin --query 'Metadata.origin' --output text)
[ "$meta" = e2e ] || fail "x-amz-meta-origin stored as $meta"

# Refused: a key outside the policy's prefix, and a signature made with another secret.
code=$(post 'elsewhere/post.bin' "$signature" "$w/post.err")
[ "$code" = 403 ] && grep -q '<Code>AccessDenied</Code>' "$w/post.err" || fail "key outside the policy answered $code: $(cat "$w/post.err")"
bad=$(AWS_SECRET_ACCESS_KEY=not-the-secret sign_policy "$policy_json" | sed -n 2p)
code=$(post 'uploads/bad.bin' "$bad" "$w/post.err")
[ "$code" = 403 ] && grep -q '<Code>SignatureDoesNotMatch</Code>' "$w/post.err" || fail "bad signature answered $code: $(cat "$w/post.err")"
if aws s3api head-object --bucket "$bucket" --key uploads/bad.bin >/dev/null 2>&1; then fail "refused upload was stored"; fi

aws s3 rm --recursive "s3://$bucket" >/dev/null
aws s3 rb "s3://$bucket" >/dev/null
echo "e2e-post: ok"
