"""boto3 end to end against a running Coffer (environment set by scripts/e2e.sh).

Exercises S3 and KMS the way Python applications do, with whatever botocore this
interpreter has: new ones send CRC32 trailers by default, old ones sign payloads.
"""
import base64
import hashlib
import io
import json
import os
import ssl
import sys
import urllib.request
import uuid

import boto3
import botocore
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError


def check(cond, what):
    if not cond:
        raise SystemExit("e2e-boto3: FAILED: " + what)


def error_code(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def main():
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    ca = os.environ["AWS_CA_BUNDLE"]
    session = boto3.session.Session(region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=endpoint, verify=ca,
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    kms = session.client("kms", endpoint_url=endpoint, verify=ca)
    bucket = "boto3-" + uuid.uuid4().hex[:12]

    s3.create_bucket(Bucket=bucket)
    check(bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]], "bucket listed")
    s3.create_bucket(Bucket=bucket)  # us-east-1: creating a bucket you own answers 200 OK

    body = os.urandom(300_000)
    put = s3.put_object(Bucket=bucket, Key="dir/a b+c.bin", Body=body, ContentType="application/x-boto",
                        Metadata={"owner": "boto3"})
    check(put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest(), "PUT ETag is the MD5")
    got = s3.get_object(Bucket=bucket, Key="dir/a b+c.bin")
    check(got["Body"].read() == body, "GET body")
    check(got["ContentType"] == "application/x-boto" and got["Metadata"] == {"owner": "boto3"}, "GET headers")
    rng = s3.get_object(Bucket=bucket, Key="dir/a b+c.bin", Range="bytes=100-199")
    check(rng["Body"].read() == body[100:200] and rng["ContentRange"] == "bytes 100-199/300000", "range GET")
    code, status = error_code(s3.get_object, Bucket=bucket, Key="missing")
    check((code, status) == ("NoSuchKey", 404), "missing key: %s %s" % (code, status))

    # Multipart through the transfer manager, as applications upload large files.
    big = os.urandom(12 * 1024 * 1024 + 123)
    cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    s3.upload_fileobj(io.BytesIO(big), bucket, "big.bin", Config=cfg)
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    check(head["ETag"].endswith('-3"') and head["ContentLength"] == len(big), "multipart upload: %s" % head["ETag"])
    out = io.BytesIO()
    s3.download_fileobj(bucket, "big.bin", out, Config=cfg)
    check(out.getvalue() == big, "multipart round trip")

    s3.copy_object(Bucket=bucket, Key="copy.bin", CopySource={"Bucket": bucket, "Key": "dir/a b+c.bin"})
    check(s3.get_object(Bucket=bucket, Key="copy.bin")["Body"].read() == body, "copy")

    for i in range(25):
        s3.put_object(Bucket=bucket, Key="many/%03d" % i, Body=b"x")
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="many/", PaginationConfig={"PageSize": 10}):
        keys += [o["Key"] for o in page.get("Contents", [])]
    check(keys == ["many/%03d" % i for i in range(25)], "paginated listing")
    top = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    check([p["Prefix"] for p in top.get("CommonPrefixes", [])] == ["dir/", "many/"], "delimiter listing")

    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "dir/a b+c.bin"}, ExpiresIn=300)
    with urllib.request.urlopen(url, context=ssl.create_default_context(cafile=ca)) as r:
        check(r.read() == body, "presigned GET")

    deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    check(len(deleted.get("Deleted", [])) == 25, "delete_objects")
    for k in ["dir/a b+c.bin", "big.bin", "copy.bin"]:
        s3.delete_object(Bucket=bucket, Key=k)
    s3.delete_bucket(Bucket=bucket)

    # KMS on the same endpoint.
    key_id = kms.create_key(Description="boto3 e2e")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"boto3 secret", EncryptionContext={"app": "e2e"})["CiphertextBlob"]
    check(kms.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "e2e"})["Plaintext"] == b"boto3 secret", "KMS round trip")
    code, status = error_code(kms.decrypt, CiphertextBlob=blob, EncryptionContext={"app": "other"})
    check((code, status) == ("InvalidCiphertextException", 400), "wrong context: %s %s" % (code, status))
    dk = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    check(len(dk["Plaintext"]) == 32 and kms.decrypt(CiphertextBlob=dk["CiphertextBlob"])["Plaintext"] == dk["Plaintext"], "data key")
    sk = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    sig = kms.sign(KeyId=sk, Message=b"msg", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    check(kms.verify(KeyId=sk, Message=b"msg", Signature=sig, SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"], "sign/verify")
    for k in (key_id, sk):
        kms.schedule_key_deletion(KeyId=k, PendingWindowInDays=7)
    print("e2e-boto3: boto3 %s / botocore %s: S3 and KMS ok" % (boto3.__version__, botocore.__version__))


if __name__ == "__main__":
    main()
