package integration

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	bolt "go.etcd.io/bbolt"
)

// updateEncryption calls UpdateObjectEncryption for SSE-KMS under keyARN.
func updateEncryption(e *env, t *testing.T, bucket, key, keyARN string, bucketKey bool) error {
	t.Helper()
	_, err := e.s3.UpdateObjectEncryption(ctx(t), &s3.UpdateObjectEncryptionInput{
		Bucket: aws.String(bucket), Key: aws.String(key),
		ObjectEncryption: &types.ObjectEncryptionMemberSSEKMS{Value: types.SSEKMSEncryption{
			KMSKeyArn: aws.String(keyARN), BucketKeyEnabled: aws.Bool(bucketKey)}},
	})
	return err
}

// blobState is what a blob file is: its bytes' digest and its inode, so a test sees a blob
// rewritten in place or replaced.
type blobState struct {
	sum   [32]byte
	inode uint64
}

// blobStates returns the state of every blob file under the data directory dir.
func blobStates(t *testing.T, dir string) map[string]blobState {
	t.Helper()
	out := map[string]blobState{}
	for _, p := range blobFiles(t, dir) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := blobState{sum: sha256.Sum256(b)}
		if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
			st.inode = sys.Ino
		}
		out[p] = st
	}
	return out
}

// objectState is what UpdateObjectEncryption must keep of an object.
type objectState struct {
	etag, crc32 string
	modified    time.Time
	size        int64
}

func headState(t *testing.T, e *env, bucket, key string) (objectState, *s3.HeadObjectOutput) {
	t.Helper()
	h := must[*s3.HeadObjectOutput](t)(e.s3.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled}))
	return objectState{aws.ToString(h.ETag), aws.ToString(h.ChecksumCRC32), aws.ToTime(h.LastModified), aws.ToInt64(h.ContentLength)}, h
}

// TestUpdateObjectEncryption moves objects of every shape (blob, inline, multipart, with a
// client encryption context) from SSE-S3 and SSE-KMS to SSE-KMS under another key, with and
// without a bucket key: no blob file changes, ETag, checksum, size and Last-Modified stay, GET
// returns the same bytes, and disabling the old key afterwards does not matter.
func TestUpdateObjectEncryption(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	const bucket = "rewrap"
	newBucket(t, e, bucket)
	idA, arnA := newKMSKey(t, e, "")
	_, arnB := newKMSKey(t, e, "")
	ctxJSON := base64.StdEncoding.EncodeToString([]byte(`{"team":"blue"}`))
	put := func(key string, body []byte, in s3.PutObjectInput) {
		in.Bucket, in.Key, in.Body = aws.String(bucket), aws.String(key), bytes.NewReader(body)
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &in))
	}
	kmsA := s3.PutObjectInput{ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(arnA)}
	tests := []struct {
		name      string
		body      []byte
		write     func(key string, body []byte)
		toARN     string
		bucketKey bool
	}{
		{"SSE-S3 to SSE-KMS", sseBody(200 << 10), func(k string, b []byte) { put(k, b, s3.PutObjectInput{}) }, arnA, false},
		{"SSE-S3 to SSE-KMS with bucket key", sseBody(200 << 10), func(k string, b []byte) { put(k, b, s3.PutObjectInput{}) }, arnB, true},
		{"SSE-S3 inline to SSE-KMS", sseBody(900), func(k string, b []byte) { put(k, b, s3.PutObjectInput{}) }, arnB, false},
		{"SSE-KMS to another key", sseBody(150 << 10), func(k string, b []byte) { put(k, b, kmsA) }, arnB, false},
		{"SSE-KMS to the same key with bucket key", sseBody(150 << 10), func(k string, b []byte) { put(k, b, kmsA) }, arnA, true},
		{"SSE-KMS bucket key to another key without", sseBody(150 << 10), func(k string, b []byte) {
			in := kmsA
			in.BucketKeyEnabled = aws.Bool(true)
			put(k, b, in)
		}, arnB, false},
		{"SSE-KMS with context to another key", sseBody(2000), func(k string, b []byte) {
			in := kmsA
			in.SSEKMSEncryptionContext = aws.String(ctxJSON)
			put(k, b, in)
		}, arnB, false},
		{"SSE-S3 multipart to SSE-KMS with bucket key", nil, nil, arnB, true},
	}
	for i := range tests {
		tc := &tests[i]
		if tc.write == nil {
			tc.body = append(sseBody(5<<20), bytes.ToLower(sseBody(3000))...)
			tc.write = func(k string, b []byte) { putMultipart(t, e, bucket, k, b[:5<<20], b[5<<20:]) }
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := strings.ReplaceAll(tc.name, " ", "-")
			tc.write(key, tc.body)
			before, _ := headState(t, e, bucket, key)
			blobs := blobStates(t, e.dir)
			if err := updateEncryption(e, t, bucket, key, tc.toARN, tc.bucketKey); err != nil {
				t.Fatalf("UpdateObjectEncryption: %v", err)
			}
			after, h := headState(t, e, bucket, key)
			if after != before {
				t.Errorf("object changed: %+v, was %+v", after, before)
			}
			if got := blobStates(t, e.dir); len(got) != len(blobs) {
				t.Errorf("%d blob files, were %d", len(got), len(blobs))
			} else {
				for p, st := range blobs {
					if got[p] != st {
						t.Errorf("blob file %s rewritten", p)
					}
				}
			}
			if h.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(h.SSEKMSKeyId) != tc.toARN || aws.ToBool(h.BucketKeyEnabled) != tc.bucketKey {
				t.Errorf("HEAD reports %q %q bucket key %v, want aws:kms %q %v", h.ServerSideEncryption, aws.ToString(h.SSEKMSKeyId), aws.ToBool(h.BucketKeyEnabled), tc.toARN, tc.bucketKey)
			}
			if len(blobs) == 0 {
				t.Fatal("no blob files found")
			}
			got, _ := getAll(t, e, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if !bytes.Equal(got, tc.body) {
				t.Fatalf("GET after the update returned other bytes (%d, want %d)", len(got), len(tc.body))
			}
		})
	}
	t.Run("disabling the old key leaves re-wrapped objects readable", func(t *testing.T) {
		must[*kms.DisableKeyOutput](t)(e.kms().DisableKey(c, &kms.DisableKeyInput{KeyId: aws.String(idA)}))
		defer e.kms().EnableKey(c, &kms.EnableKeyInput{KeyId: aws.String(idA)})
		for _, tc := range tests {
			key := strings.ReplaceAll(tc.name, " ", "-")
			_, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			switch {
			case tc.toARN == arnB && err != nil:
				t.Errorf("%s, now under the other key: %v", key, err)
			case tc.toARN == arnA:
				wantAPIError(t, err, "KMS.DisabledException", 400)
			}
		}
	})
}

// TestUpdateObjectEncryptionErrors: every refusal S3 documents, each leaving the object as it
// was.
func TestUpdateObjectEncryptionErrors(t *testing.T) {
	dir := t.TempDir()
	e := startIn(t, dir)
	c := ctx(t)
	const bucket = tamperBucket
	newBucket(t, e, bucket)
	idA, arnA := newKMSKey(t, e, "alias/update-a")
	idOff, arnOff := newKMSKey(t, e, "")
	must[*kms.DisableKeyOutput](t)(e.kms().DisableKey(c, &kms.DisableKeyInput{KeyId: aws.String(idOff)}))
	body := sseBody(1000)
	for key, alg := range map[string]types.ServerSideEncryption{"s3": "", "dsse": types.ServerSideEncryptionAwsKmsDsse, "plain": ""} {
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body), ServerSideEncryption: alg}))
	}
	unblockSSEC(t, e, bucket)
	putSSEC(t, e, bucket, "ssec", body, newCustomerKey(7))
	// "plain" becomes an object stored before encryption existed: no encryption record and
	// its bytes in plaintext.
	stopEnv(t, e)
	withDB(t, dir, func(tx *bolt.Tx) error {
		r := objectRecord(tx, "plain")
		delete(r, "x")
		parts, _ := json.Marshal([]map[string]any{{"n": 0, "s": len(body), "dl": len(body)}})
		r["p"] = parts
		putRecord(t, tx, "plain", r)
		return tx.Bucket([]byte("s3.buckets")).Bucket([]byte(bucket)).Bucket([]byte("d")).Put([]byte("plain"), body)
	})
	e = startIn(t, dir)
	e.http = &http.Client{Transport: e.transport()}
	t.Cleanup(func() { stopEnv(t, e) })
	if got, _ := getAll(t, e, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("plain")}); !bytes.Equal(got, body) {
		t.Fatal("the unencrypted fixture does not read")
	}

	account := strings.Split(arnA, ":")[4]
	sdk := []struct {
		name, bucket, key, arn, code string
		status                       int
	}{
		{"unencrypted source", bucket, "plain", arnA, "InvalidRequest", 400},
		{"DSSE-KMS source", bucket, "dsse", arnA, "InvalidRequest", 400},
		{"SSE-C source", bucket, "ssec", arnA, "InvalidRequest", 400},
		{"key id instead of ARN", bucket, "s3", idA, "InvalidRequest", 400},
		{"alias ARN", bucket, "s3", strings.Replace(arnA, "key/"+idA, "alias/update-a", 1), "InvalidRequest", 400},
		{"key of another account", bucket, "s3", strings.Replace(arnA, ":"+account+":", ":999999999999:", 1), "AccessDenied", 403},
		{"key that does not exist", bucket, "s3", strings.Replace(arnA, idA, "00000000-0000-0000-0000-000000000000", 1), "KMS.NotFoundException", 400},
		{"disabled key", bucket, "s3", arnOff, "KMS.DisabledException", 400},
		{"no such key", bucket, "missing", arnA, "NoSuchKey", 404},
		{"no such bucket", "nobucket", "s3", arnA, "NoSuchBucket", 404},
	}
	for _, tc := range sdk {
		t.Run(tc.name, func(t *testing.T) {
			wantAPIError(t, updateEncryption(e, t, tc.bucket, tc.key, tc.arn, false), tc.code, tc.status)
		})
	}
	wrap := func(inner string) string {
		return `<ObjectEncryption xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` + inner + `</ObjectEncryption>`
	}
	kmsBody := func(arn, bk string) string {
		return wrap(`<SSE-KMS><KMSKeyArn>` + arn + `</KMSKeyArn><BucketKeyEnabled>` + bk + `</BucketKeyEnabled></SSE-KMS>`)
	}
	raw := []struct {
		name, query, body string
		noMD5             bool
		code              string
		status            int
	}{
		{"SSE-S3 target", "encryption", wrap(`<SSE-S3/>`), false, "InvalidRequest", 400},
		{"DSSE-KMS target", "encryption", wrap(`<DSSE-KMS><KMSKeyArn>` + arnA + `</KMSKeyArn></DSSE-KMS>`), false, "InvalidRequest", 400},
		{"SSE-C target", "encryption", wrap(`<SSE-C/>`), false, "InvalidRequest", 400},
		{"no target", "encryption", wrap(``), false, "InvalidRequest", 400},
		{"no key ARN", "encryption", wrap(`<SSE-KMS><BucketKeyEnabled>true</BucketKeyEnabled></SSE-KMS>`), false, "InvalidRequest", 400},
		{"bucket key not a boolean", "encryption", kmsBody(arnA, "yes"), false, "InvalidRequest", 400},
		{"malformed XML", "encryption", `<ObjectEncryption><SSE-KMS>`, false, "MalformedXML", 400},
		{"no Content-MD5 or checksum", "encryption", kmsBody(arnA, "false"), true, "InvalidRequest", 400},
		{"a version other than null", "encryption&versionId=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", kmsBody(arnA, "false"), false, "InvalidArgument", 400},
	}
	for _, tc := range raw {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if !tc.noMD5 {
				sum := md5.Sum([]byte(tc.body))
				h["Content-MD5"] = base64.StdEncoding.EncodeToString(sum[:])
			}
			wantRawError(t, e.raw(t, "PUT", "/"+bucket+"/s3?"+tc.query, tc.body, h, time.Now()), tc.code, tc.status)
		})
	}
	t.Run("refusals left the objects as they were", func(t *testing.T) {
		for key, want := range map[string]types.ServerSideEncryption{"s3": types.ServerSideEncryptionAes256, "dsse": types.ServerSideEncryptionAwsKmsDsse, "plain": ""} {
			_, h := headState(t, e, bucket, key)
			if h.ServerSideEncryption != want {
				t.Errorf("%s: encryption %q, want %q", key, h.ServerSideEncryption, want)
			}
		}
	})
	t.Run("versionId null is the object", func(t *testing.T) {
		_, err := e.s3.UpdateObjectEncryption(c, &s3.UpdateObjectEncryptionInput{Bucket: aws.String(bucket), Key: aws.String("s3"), VersionId: aws.String("null"),
			ObjectEncryption: &types.ObjectEncryptionMemberSSEKMS{Value: types.SSEKMSEncryption{KMSKeyArn: aws.String(arnA)}}})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestUpdateObjectEncryptionTamper: records made by UpdateObjectEncryption stay bound to their
// objects: swapped between two objects, neither GET returns bytes.
func TestUpdateObjectEncryptionTamper(t *testing.T) {
	for _, bk := range []bool{false, true} {
		t.Run(keyFor(bk), func(t *testing.T) {
			dir := t.TempDir()
			e := startIn(t, dir)
			newBucket(t, e, tamperBucket)
			_, arn := newKMSKey(t, e, "")
			for key, body := range map[string][]byte{"a": sseBody(100 << 10), "b": bytes.ToUpper(sseBody(100 << 10))} {
				must[*s3.PutObjectOutput](t)(e.s3.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(tamperBucket), Key: aws.String(key), Body: bytes.NewReader(body)}))
				if err := updateEncryption(e, t, tamperBucket, key, arn, bk); err != nil {
					t.Fatal(err)
				}
			}
			stopEnv(t, e)
			swapEncryptionRecords(t, dir, "a", "b")
			e = startIn(t, dir)
			defer stopEnv(t, e)
			for _, key := range []string{"a", "b"} {
				_, err := e.s3.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(tamperBucket), Key: aws.String(key)})
				wantAPIError(t, err, "InternalError", 500)
			}
		})
	}
}

// TestUpdateObjectEncryptionRacesOverwrite: UpdateObjectEncryption and PutObject race on one
// key; whichever order they land in, the object is the last PUT's bytes under a record that
// opens them, never an old record over new bytes.
func TestUpdateObjectEncryptionRacesOverwrite(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	const bucket, key = "race", "k"
	newBucket(t, e, bucket)
	_, arn := newKMSKey(t, e, "")
	for i := range 20 {
		body := sseBody(20<<10 + i)
		first := bytes.ToLower(body)
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(first)}))
		done := make(chan error, 1)
		go func() { done <- updateEncryption(e, t, bucket, key, arn, i%2 == 0) }()
		out := must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}))
		if err := <-done; err != nil {
			t.Fatalf("round %d: UpdateObjectEncryption: %v", i, err)
		}
		got, gout := getAll(t, e, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if !bytes.Equal(got, body) || aws.ToString(gout.ETag) != aws.ToString(out.ETag) {
			t.Fatalf("round %d: GET returned %d bytes, ETag %s; want the last PUT's %d bytes, ETag %s", i, len(got), aws.ToString(gout.ETag), len(body), aws.ToString(out.ETag))
		}
	}
}
