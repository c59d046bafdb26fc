# Shared by the scripts/e2e-*.sh scripts, which source it; scripts/e2e.sh does not run it (its
# name does not match e2e-*.sh). It needs the environment scripts/e2e.sh sets up.

# e2e_name is the calling script's name without .sh, for its messages.
e2e_name=$(basename "${BASH_SOURCE[1]:-$0}" .sh)

# aws CLIs older than 1.29/2.13 (Debian's 2.9) ignore AWS_ENDPOINT_URL: name it on each call.
aws() { command aws --endpoint-url "${AWS_ENDPOINT_URL:?}" "$@"; }

fail() {
  echo "$e2e_name: $*"
  exit 1
}

# refused CODE CMD...: the command must fail with the error CODE (an S3, KMS, IAM or STS error
# code, or an HTTP status where the CLI shows only that, e.g. for HEAD), as the aws CLI prints
# it: "An error occurred (CODE) when calling ...". A CODE with a space in it is a part of the
# error message instead.
refused() {
  local code=$1 out want
  shift
  if out=$("$@" 2>&1); then fail "$* succeeded, want $code"; fi
  want="($code)"
  case "$code" in *" "*) want=$code ;; esac
  case "$out" in *"$want"*) ;; *) fail "$*: $out (want $code)" ;; esac
}
