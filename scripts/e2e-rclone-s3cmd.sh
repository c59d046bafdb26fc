#!/usr/bin/env bash
# rclone and s3cmd (Debian packages, installed when missing) against the running server: the
# other two clients people point at S3-compatible stores. Needs the environment of e2e.sh.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
w=${E2E_WORK:?run through scripts/e2e.sh}
if ! command -v rclone >/dev/null 2>&1 || ! command -v s3cmd >/dev/null 2>&1; then
  echo "e2e-rclone-s3cmd: installing rclone and s3cmd"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq rclone s3cmd >/dev/null
fi
hostport=${AWS_ENDPOINT_URL#https://}

src="$w/tree"
mkdir -p "$src/a/b" "$src/c"
head -c 1234 /dev/urandom >"$src/a/one.bin"
head -c 70000 /dev/urandom >"$src/a/b/two.bin"
head -c $((9 * 1024 * 1024)) /dev/urandom >"$src/c/big.bin"
echo "hello" >"$src/c/hello.txt"

# rclone: an S3 remote defined by environment variables only.
export RCLONE_CONFIG=/dev/null
export RCLONE_CONFIG_COFFER_TYPE=s3 RCLONE_CONFIG_COFFER_PROVIDER=Other
export RCLONE_CONFIG_COFFER_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_COFFER_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
export RCLONE_CONFIG_COFFER_ENDPOINT=$AWS_ENDPOINT_URL RCLONE_CONFIG_COFFER_REGION=us-east-1
# rclone's own --ca-cert; the AWS SDK inside rclone would also try AWS_CA_BUNDLE and fail.
rc() { env -u AWS_CA_BUNDLE -u AWS_ENDPOINT_URL rclone --ca-cert "$AWS_CA_BUNDLE" --s3-upload-cutoff 5M --s3-chunk-size 5M "$@"; }
rc mkdir coffer:rclone-e2e
rc copy "$src" coffer:rclone-e2e/tree
rc check "$src" coffer:rclone-e2e/tree >/dev/null 2>&1 || fail "rclone check after copy"
[ "$(rc lsf -R coffer:rclone-e2e/tree --files-only | sort | tr '\n' ' ')" = "a/b/two.bin a/one.bin c/big.bin c/hello.txt " ] || fail "rclone listing"
rm "$src/a/one.bin"
echo "changed" >"$src/c/hello.txt"
rc sync "$src" coffer:rclone-e2e/tree
rc check "$src" coffer:rclone-e2e/tree >/dev/null 2>&1 || fail "rclone check after sync"
rc copy coffer:rclone-e2e/tree "$w/back"
diff -r "$src" "$w/back" >/dev/null || fail "rclone round trip differs"
rc purge coffer:rclone-e2e
echo "e2e-rclone-s3cmd: rclone $(rclone version | head -1 | awk '{print $2}'): mkdir, copy (multipart), check, sync, purge ok"

# s3cmd: configuration on the command line, SigV4, our CA.
cfg="$w/s3cfg"
cat >"$cfg" <<CFG
[default]
access_key = $AWS_ACCESS_KEY_ID
secret_key = $AWS_SECRET_ACCESS_KEY
host_base = $hostport
host_bucket = $hostport
bucket_location = us-east-1
use_https = True
ca_certs_file = $AWS_CA_BUNDLE
check_ssl_certificate = True
signature_v2 = False
multipart_chunk_size_mb = 5
CFG
s() { s3cmd -c "$cfg" --no-progress "$@"; }
s mb s3://s3cmd-e2e >/dev/null
s put "$src/c/big.bin" s3://s3cmd-e2e/big.bin >/dev/null
s put "$src/a/b/two.bin" s3://s3cmd-e2e/dir/two.bin >/dev/null
s ls s3://s3cmd-e2e | grep -q "s3://s3cmd-e2e/big.bin" || fail "s3cmd ls"
s info s3://s3cmd-e2e >/dev/null || fail "s3cmd info of a bucket"
s get s3://s3cmd-e2e/big.bin "$w/big.s3cmd" >/dev/null
cmp "$src/c/big.bin" "$w/big.s3cmd" || fail "s3cmd round trip differs"
s del --recursive --force s3://s3cmd-e2e >/dev/null
s rb s3://s3cmd-e2e >/dev/null
echo "e2e-rclone-s3cmd: s3cmd $(s3cmd --version | awk '{print $3}'): mb, put (multipart), ls, info, get, del, rb ok"
