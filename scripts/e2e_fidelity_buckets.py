"""boto3 checks of bucket behaviours real clients trip on (environment set by scripts/e2e.sh).

Refusals of Expect: 100-continue uploads arrive without the body, a bucket holding only
in-progress multipart uploads is deleted with them, url-encoded listings round-trip and
ListBuckets pages.
"""
import datetime
import os
import time
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def check(cond, what):
    if not cond:
        raise SystemExit("e2e-fidelity-buckets: FAILED: " + what)


def refused(fn, **kwargs):
    """Calls fn, which must fail, and returns (code, HTTP status, seconds taken)."""
    start = time.monotonic()
    try:
        fn(**kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"], time.monotonic() - start
    raise SystemExit("e2e-fidelity-buckets: FAILED: %s succeeded" % fn.__name__)


def main():
    # One attempt and a read timeout: a refusal that waits for a body the client holds back
    # shows up as a timeout instead of being retried away.
    cfg = Config(signature_version="s3v4", s3={"addressing_style": "path"}, read_timeout=20,
                 retries={"max_attempts": 1, "mode": "standard"})
    s3 = boto3.session.Session(region_name="us-east-1").client(
        "s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], verify=os.environ["AWS_CA_BUNDLE"], config=cfg)
    bucket = "fid-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=bucket)
    body = os.urandom(200 * 1024)

    # Expect: 100-continue refusals.
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    code, status, took = refused(s3.put_object, Bucket=bucket, Key="locked", Body=body,
                                 ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until)
    check((code, status) == ("InvalidRequest", 400), "Object Lock PUT: %s %s" % (code, status))
    check(took < 10, "Object Lock PUT refusal took %.1f s" % took)
    code, status, took = refused(s3.put_object, Bucket=bucket + "-missing", Key="k", Body=body)
    check((code, status) == ("NoSuchBucket", 404), "PUT to a missing bucket: %s %s" % (code, status))
    check(took < 10, "PUT to a missing bucket took %.1f s" % took)

    # A bucket holding only in-progress uploads is deleted with them.
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=body)
    s3.create_multipart_upload(Bucket=bucket, Key="other")
    s3.put_object(Bucket=bucket, Key="obj", Body=b"x")
    code, status, _ = refused(s3.delete_bucket, Bucket=bucket)
    check((code, status) == ("BucketNotEmpty", 409), "DeleteBucket with an object: %s %s" % (code, status))
    s3.delete_object(Bucket=bucket, Key="obj")
    s3.delete_bucket(Bucket=bucket)
    code, status, _ = refused(s3.head_bucket, Bucket=bucket)
    check(status == 404, "bucket still there after DeleteBucket: %s %s" % (code, status))

    # boto3 asks for encoding-type=url itself and decodes: odd keys come back as written.
    s3.create_bucket(Bucket=bucket)
    keys = ["a b+c", "sp ace/x%20y", "plus+/z"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    got = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    check(got == sorted(keys), "ListObjectsV2 keys %r" % got)
    got = sorted(o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"])
    check(got == sorted(keys), "ListObjects keys %r" % got)
    prefixes = [p["Prefix"] for p in s3.list_objects_v2(Bucket=bucket, Delimiter="/")["CommonPrefixes"]]
    check(prefixes == ["plus+/", "sp ace/"], "common prefixes %r" % prefixes)
    for k in keys:
        s3.delete_object(Bucket=bucket, Key=k)

    # ListBuckets pages.
    extra = [bucket + "-p%d" % i for i in range(3)]
    for b in extra:
        s3.create_bucket(Bucket=b)
    pages = list(s3.get_paginator("list_buckets").paginate(Prefix=bucket, PaginationConfig={"PageSize": 2}))
    names = [b["Name"] for p in pages for b in p["Buckets"]]
    check(names == [bucket] + extra and len(pages) == 2, "ListBuckets pages %r" % [[b["Name"] for b in p["Buckets"]] for p in pages])
    check(pages[0]["Owner"].get("DisplayName"), "ListBuckets Owner has no DisplayName")
    for b in extra + [bucket]:
        s3.delete_bucket(Bucket=b)
    print("e2e-fidelity-buckets: boto3 passed")


if __name__ == "__main__":
    main()
