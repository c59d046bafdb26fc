#!/usr/bin/env bash
# UpdateObjectEncryption end to end through the current boto3 (or, with a botocore too old to
# have the operation, a request signed by botocore's SigV4Auth). Needs the environment
# scripts/e2e.sh sets up.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/e2e_sse_update.py"
