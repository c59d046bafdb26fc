#!/usr/bin/env bash
# boto3 through every Python on this machine that has it: a current one (CRC32 trailers by
# default) and Debian's python3-boto3 (signed payloads), installed if no Python has boto3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pythons=()
for py in python3 /usr/bin/python3; do
  command -v "$py" >/dev/null 2>&1 || continue
  "$py" -c 'import boto3' 2>/dev/null || continue
  real=$("$py" -c 'import sys; print(sys.executable)')
  case " ${pythons[*]:-} " in *" $real "*) ;; *) pythons+=("$real") ;; esac
done
if [ ${#pythons[@]} -eq 0 ]; then
  echo "e2e-boto3: installing python3-boto3"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq python3-boto3 >/dev/null
  pythons=(/usr/bin/python3)
fi
for py in "${pythons[@]}"; do
  "$py" "$here/e2e_boto3.py"
done
