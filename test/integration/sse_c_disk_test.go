package integration

import (
	"crypto/md5"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/secret/secrettest"
)

// TestSSECNothingOnDisk writes known plaintext under customer keys (inline, blob, multipart,
// copied to another key), stops the server and scans every file under its data directory:
// neither the plaintext nor any key (raw, base64, or its plain MD5 raw, base64 or hex) is
// there.
func TestSSECNothingOnDisk(t *testing.T) {
	dir := t.TempDir()
	e := startServer(t, dir)
	const bkt = "ssecdisk"
	newBucket(t, e, bkt)
	unblockSSEC(t, e, bkt)
	keyA, keyB := newCustomerKey(11), newCustomerKey(12)
	putSSEC(t, e, bkt, "inline", sseBody(3000), keyA)
	putSSEC(t, e, bkt, "large", sseBody(700<<10), keyA)
	putMultipartSSEC(t, e, bkt, "mp", keyA, sseBody(5<<20+1), sseBody(64<<10))
	must[*s3.CopyObjectOutput](t)(e.s3.CopyObject(ctx(t), &s3.CopyObjectInput{Bucket: aws.String(bkt), Key: aws.String("copy"), CopySource: aws.String(bkt + "/large"),
		CopySourceSSECustomerAlgorithm: keyA.alg(), CopySourceSSECustomerKey: keyA.key(), CopySourceSSECustomerKeyMD5: keyA.md5(),
		SSECustomerAlgorithm: keyB.alg(), SSECustomerKey: keyB.key(), SSECustomerKeyMD5: keyB.md5()}))
	stopEnv(t, e)

	secrets := map[string][]byte{"plaintext": []byte(sseMarker)}
	for name, k := range map[string]customerKey{"key A": keyA, "key B": keyB} {
		sum := md5.Sum(k.raw)
		secrets[name], secrets[name+" MD5"] = k.raw, sum[:]
	}
	secrettest.ScanDir(t, dir, secrets, 5) // each raw, in hex and in base64
}
