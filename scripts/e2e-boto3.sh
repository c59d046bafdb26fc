#!/usr/bin/env bash
# boto3 through every Python on this machine that has it: a current one (CRC32 trailers by
# default) and Debian's python3-boto3 (an older botocore that signs payloads), which is
# installed when missing so both client generations are always covered.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if ! /usr/bin/python3 -c 'import boto3' 2>/dev/null; then
  echo "e2e-boto3: installing Debian's python3-boto3"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq python3-boto3 >/dev/null
fi
pythons=()
for py in python3 /usr/bin/python3; do
  command -v "$py" >/dev/null 2>&1 || continue
  "$py" -c 'import boto3' 2>/dev/null || continue
  real=$("$py" -c 'import sys; print(sys.executable)')
  case " ${pythons[*]:-} " in *" $real "*) ;; *) pythons+=("$real") ;; esac
done
for py in "${pythons[@]}"; do
  "$py" "$here/e2e_boto3.py"
done
