#!/usr/bin/env bash
# ACLs and bucket ownership controls through the real aws CLI. Needs the environment
# scripts/e2e.sh sets up.
set -euo pipefail
. "$(dirname "$0")/e2e_lib.sh"
w=${E2E_WORK:?run through scripts/e2e.sh}

bucket=e2e-acl-$RANDOM
aws s3api create-bucket --bucket "$bucket" >/dev/null
echo acl >"$w/acl.txt"

owner=$(aws s3api get-bucket-acl --bucket "$bucket" --query Owner.ID --output text)
[ -n "$owner" ] && [ "$owner" != None ] || fail "get-bucket-acl names no owner"
grants=$(aws s3api get-bucket-acl --bucket "$bucket" --query 'Grants[].[Grantee.ID,Permission]' --output text)
[ "$grants" = "$owner	FULL_CONTROL" ] || fail "bucket grants: $grants"

aws s3api put-object --bucket "$bucket" --key k --body "$w/acl.txt" --acl bucket-owner-full-control >/dev/null
grants=$(aws s3api get-object-acl --bucket "$bucket" --key k --query 'Grants[].[Grantee.ID,Permission]' --output text)
[ "$grants" = "$owner	FULL_CONTROL" ] || fail "object grants: $grants"
refused AccessControlListNotSupported aws s3api put-object --bucket "$bucket" --key k --body "$w/acl.txt" --acl public-read
refused AccessControlListNotSupported aws s3api put-object-acl --bucket "$bucket" --key k --acl public-read

ownership() { aws s3api get-bucket-ownership-controls --bucket "$bucket" --query 'OwnershipControls.Rules[0].ObjectOwnership' --output text; }
[ "$(ownership)" = BucketOwnerEnforced ] || fail "default ownership: $(ownership)"
aws s3api put-bucket-ownership-controls --bucket "$bucket" --ownership-controls 'Rules=[{ObjectOwnership=ObjectWriter}]'
[ "$(ownership)" = ObjectWriter ] || fail "ownership after put: $(ownership)"
# ACLs now enabled: restating the owner's full control is accepted, granting the public is not.
aws s3api put-object-acl --bucket "$bucket" --key k --acl private
refused AccessControlListNotSupported aws s3api put-object-acl --bucket "$bucket" --key k --acl public-read
aws s3api delete-bucket-ownership-controls --bucket "$bucket"
refused OwnershipControlsNotFoundError aws s3api get-bucket-ownership-controls --bucket "$bucket"

aws s3api delete-object --bucket "$bucket" --key k >/dev/null
aws s3api delete-bucket --bucket "$bucket"
echo "e2e-acl: get-bucket-acl, get-object-acl, put-object --acl, put-object-acl refused, get/put/delete-bucket-ownership-controls: ok"
