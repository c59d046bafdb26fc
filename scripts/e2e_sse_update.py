"""UpdateObjectEncryption against a running Coffer (environment set by scripts/e2e.sh).

SSE-S3 -> SSE-KMS, then to another key with a bucket key: the bytes, ETag and Last-Modified
stay; disabling the first key afterwards does not matter; an SSE-S3 target and a DSSE-KMS
source are refused with InvalidRequest.
"""
import base64
import hashlib
import os
import uuid

import boto3
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError
import urllib3


def check(cond, what):
    if not cond:
        raise SystemExit("e2e-sse-update: FAILED: " + what)


def body_xml(inner):
    return ('<ObjectEncryption xmlns="http://s3.amazonaws.com/doc/2006-03-01/">%s</ObjectEncryption>' % inner).encode()


class Updater:
    """Calls UpdateObjectEncryption through boto3 if it has the operation, else signs it raw."""

    def __init__(self, session, s3, endpoint, ca):
        self.s3, self.endpoint, self.ca = s3, endpoint, ca
        self.creds = session.get_credentials()
        model = botocore.session.get_session().get_service_model("s3")
        self.native = "UpdateObjectEncryption" in model.operation_names
        self.http = urllib3.PoolManager(ca_certs=ca)

    def update(self, bucket, key, arn, bucket_key=False):
        """Returns (code, status): (None, 200) on success."""
        if self.native:
            try:
                self.s3.update_object_encryption(Bucket=bucket, Key=key, ObjectEncryption={
                    "SSEKMS": {"KMSKeyArn": arn, "BucketKeyEnabled": bucket_key}})
            except ClientError as e:
                return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
            return None, 200
        return self.raw(bucket, key, body_xml(
            "<SSE-KMS><KMSKeyArn>%s</KMSKeyArn><BucketKeyEnabled>%s</BucketKeyEnabled></SSE-KMS>"
            % (arn, "true" if bucket_key else "false")))

    def raw(self, bucket, key, body):
        url = "%s/%s/%s?encryption" % (self.endpoint, bucket, key)
        headers = {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode(),
                   "X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()}
        req = AWSRequest(method="PUT", url=url, data=body, headers=headers)
        SigV4Auth(self.creds, "s3", "us-east-1").add_auth(req)
        r = self.http.request("PUT", url, body=body, headers=dict(req.headers.items()))
        if r.status == 200:
            return None, 200
        text = r.data.decode()
        code = text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in text else ""
        return code, r.status


def main():
    endpoint, ca = os.environ["AWS_ENDPOINT_URL"], os.environ["AWS_CA_BUNDLE"]
    session = boto3.session.Session(region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=endpoint, verify=ca)
    kms = session.client("kms", endpoint_url=endpoint, verify=ca)
    up = Updater(session, s3, endpoint, ca)
    print("e2e-sse-update: UpdateObjectEncryption through", "boto3" if up.native else "a raw SigV4 request",
          "(botocore %s)" % botocore.__version__)

    bucket = "e2e-sse-update-" + uuid.uuid4().hex[:8]
    s3.create_bucket(Bucket=bucket)
    key_a = kms.create_key()["KeyMetadata"]
    key_b = kms.create_key()["KeyMetadata"]
    data = os.urandom(300_000)
    s3.put_object(Bucket=bucket, Key="obj", Body=data)
    before = s3.head_object(Bucket=bucket, Key="obj")
    check(before["ServerSideEncryption"] == "AES256", "new object is not SSE-S3")

    steps = [(key_a["Arn"], False), (key_b["Arn"], True)]
    for arn, bucket_key in steps:
        code, status = up.update(bucket, "obj", arn, bucket_key)
        check(code is None, "update to %s (bucket key %s): %s %s" % (arn, bucket_key, code, status))
        h = s3.head_object(Bucket=bucket, Key="obj")
        check(h["ServerSideEncryption"] == "aws:kms" and h["SSEKMSKeyId"] == arn, "head after update: %s" % h)
        check(h.get("BucketKeyEnabled", False) == bucket_key, "bucket key after update: %s" % h)
        check(h["ETag"] == before["ETag"] and h["LastModified"] == before["LastModified"], "ETag or Last-Modified changed")
        check(s3.get_object(Bucket=bucket, Key="obj")["Body"].read() == data, "bytes changed")

    kms.disable_key(KeyId=key_a["KeyId"])
    check(s3.get_object(Bucket=bucket, Key="obj")["Body"].read() == data, "disabling the old key broke the object")
    kms.enable_key(KeyId=key_a["KeyId"])

    s3.put_object(Bucket=bucket, Key="dsse", Body=b"two layers", ServerSideEncryption="aws:kms:dsse")
    code, status = up.update(bucket, "dsse", key_a["Arn"])
    check((code, status) == ("InvalidRequest", 400), "DSSE-KMS source: %s %s" % (code, status))
    code, status = up.raw(bucket, "obj", body_xml("<SSE-S3/>"))
    check((code, status) == ("InvalidRequest", 400), "SSE-S3 target: %s %s" % (code, status))
    code, status = up.update(bucket, "obj", key_a["KeyId"])
    check((code, status) == ("InvalidRequest", 400), "key id instead of an ARN: %s %s" % (code, status))
    print("e2e-sse-update: ok")


if __name__ == "__main__":
    main()
