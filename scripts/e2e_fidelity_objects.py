"""Object fidelity through boto3 against a running Coffer (environment set by scripts/e2e.sh).

- Metadata bytes: Python's http.client sends str header values as Latin-1, so 'é' goes over
  the wire as the single byte 0xE9; it must come back as that same byte, which http.client
  (and so boto3) decodes to 'é' again. The UTF-8 bytes botocore itself sends round-trip too.
- CompleteMultipartUpload repeated after it succeeded (an SDK retry after a lost response)
  answers 200 with the same ETag and checksum.
"""
import datetime
import hashlib
import hmac
import http.client
import os
import ssl
import sys
import urllib.parse
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def check(cond, what):
    if not cond:
        raise SystemExit("e2e-fidelity-objects: FAILED: " + what)


def error_code(fn, **kwargs):
    try:
        fn(**kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def put_latin1(endpoint, ca, bucket, key, headers):
    """PUTs key with http.client, which sends str header values as Latin-1 ('é' is the one
    byte 0xE9), signed with SigV4 over the bytes actually sent (botocore cannot: it signs
    UTF-8 and refuses non-ASCII metadata)."""
    u = urllib.parse.urlsplit(endpoint)
    now = datetime.datetime.now(datetime.timezone.utc)
    amzdate, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    body = b"latin-1 metadata"
    payload = hashlib.sha256(body).hexdigest()
    hdrs = dict(headers, host=u.netloc, **{"x-amz-date": amzdate, "x-amz-content-sha256": payload})
    names = sorted(k.lower() for k in hdrs)
    values = {k.lower(): v for k, v in hdrs.items()}
    canonical = "\n".join(["PUT", "/%s/%s" % (bucket, key), ""] + ["%s:%s" % (n, values[n].strip()) for n in names]
                          + ["", ";".join(names), payload])
    scope = "%s/us-east-1/s3/aws4_request" % day
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope,
                         hashlib.sha256(canonical.encode("latin-1")).hexdigest()])
    k = ("AWS4" + os.environ["AWS_SECRET_ACCESS_KEY"]).encode()
    for part in (day, "us-east-1", "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    hdrs["Authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        os.environ["AWS_ACCESS_KEY_ID"], scope, ";".join(names), sig)
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ssl.create_default_context(cafile=ca))
    conn.request("PUT", "/%s/%s" % (bucket, key), body=body, headers=hdrs)
    resp = conn.getresponse()
    check(resp.status == 200, "http.client PUT: %s %s" % (resp.status, resp.read()))
    conn.close()


def metadata_bytes(s3, bucket):
    # Sent as Latin-1 bytes: http.client decodes response headers as Latin-1, so the value
    # reads back as the same string exactly when the server returns the same bytes.
    meta = {"city": "Orléans", "plain": "ascii"}
    disposition = 'attachment; filename="café.txt"'
    headers = {"x-amz-meta-" + k: v for k, v in meta.items()}
    headers["Content-Disposition"] = disposition
    put_latin1(os.environ["AWS_ENDPOINT_URL"], os.environ["AWS_CA_BUNDLE"], bucket, "latin1", headers)
    s3.copy_object(Bucket=bucket, Key="latin1-copy", CopySource={"Bucket": bucket, "Key": "latin1"})
    for key in ("latin1", "latin1-copy"):
        for what, out in (("HEAD", s3.head_object(Bucket=bucket, Key=key)), ("GET", s3.get_object(Bucket=bucket, Key=key))):
            check(out["Metadata"] == meta, "%s %s metadata %r, want %r" % (what, key, out["Metadata"], meta))
            check(out["ContentDisposition"] == disposition, "%s %s Content-Disposition %r" % (what, key, out["ContentDisposition"]))

    # botocore itself sends header values as UTF-8 (and refuses non-ASCII Metadata, so a hook
    # adds it): the bytes must come back unchanged, which Python then decodes as Latin-1.
    def add(request, **_):
        request.headers["x-amz-meta-city"] = "Orléans"
    s3.meta.events.register_first("before-sign.s3.PutObject", add)
    try:
        s3.put_object(Bucket=bucket, Key="utf8", Body=b"x")
    finally:
        s3.meta.events.unregister("before-sign.s3.PutObject", add)
    got = s3.head_object(Bucket=bucket, Key="utf8")["Metadata"]["city"]
    check(got.encode("latin-1") == "Orléans".encode("utf-8"), "UTF-8 metadata bytes changed: %r" % got)


def complete_retry(s3, bucket):
    key = "retried"
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32")
    parts = []
    data = [os.urandom(5 << 20), os.urandom(1000)]
    for n, chunk in enumerate(data, 1):
        p = s3.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=n, Body=chunk,
                           ChecksumAlgorithm="CRC32")
        parts.append({"PartNumber": n, "ETag": p["ETag"], "ChecksumCRC32": p["ChecksumCRC32"]})
    args = dict(Bucket=bucket, Key=key, UploadId=up["UploadId"], MultipartUpload={"Parts": parts})
    first = s3.complete_multipart_upload(**args)
    again = s3.complete_multipart_upload(**args)
    check(again["ETag"] == first["ETag"], "retry ETag %s, first %s" % (again["ETag"], first["ETag"]))
    check(again.get("ChecksumCRC32") == first.get("ChecksumCRC32"), "retry checksum")
    check(s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"".join(data), "completed body")
    other = dict(args, MultipartUpload={"Parts": parts[:1]})
    code = error_code(s3.complete_multipart_upload, **other)
    check(code == ("InvalidPart", 400), "retry with other parts: %s %s" % code)
    s3.put_object(Bucket=bucket, Key=key, Body=b"overwritten")
    code = error_code(s3.complete_multipart_upload, **args)
    check(code == ("NoSuchUpload", 404), "retry after overwrite: %s %s" % code)


def main():
    s3 = boto3.session.Session(region_name="us-east-1").client(
        "s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], verify=os.environ["AWS_CA_BUNDLE"],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    bucket = "fidelity-" + uuid.uuid4().hex[:12]
    s3.create_bucket(Bucket=bucket)
    metadata_bytes(s3, bucket)
    complete_retry(s3, bucket)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=o["Key"])
    s3.delete_bucket(Bucket=bucket)
    print("e2e-fidelity-objects: ok (botocore %s)" % sys.modules["botocore"].__version__)


if __name__ == "__main__":
    main()
