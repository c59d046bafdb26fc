#!/usr/bin/env bash
# Object fidelity through boto3 (metadata bytes sent as Latin-1, CompleteMultipartUpload
# retried after success); environment set by scripts/e2e.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/e2e_fidelity_objects.py"
