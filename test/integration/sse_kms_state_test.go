package integration

import (
	"bytes"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/coffer/coffer/internal/server"
)

// TestSSEKMSKeyStates: disabling a key stops GETs of its objects at once (also on a bucket-key
// cache hit), enabling restores them, scheduling its deletion fails them with
// KMSInvalidStateException; HEAD needs no key.
func TestSSEKMSKeyStates(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	kc := e.kms()
	const bucket = "kmsstates"
	newBucket(t, e, bucket)
	id, _ := newKMSKey(t, e, "")
	body := sseBody(70 << 10)
	for _, bk := range []bool{false, true} {
		in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(keyFor(bk)), Body: bytes.NewReader(body),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(id), BucketKeyEnabled: aws.Bool(bk)}
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, in))
	}
	get := func(t *testing.T, code string, status int) {
		t.Helper()
		for _, bk := range []bool{false, true} {
			out, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(keyFor(bk))})
			if code == "" {
				if err != nil {
					t.Fatalf("%s: %v", keyFor(bk), err)
				}
				if !bytes.Equal(readBody(t, out), body) {
					t.Fatalf("%s: wrong bytes", keyFor(bk))
				}
				continue
			}
			wantAPIError(t, err, code, status)
			must[*s3.HeadObjectOutput](t)(e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(keyFor(bk))}))
		}
	}
	steps := []struct {
		name   string
		act    func(t *testing.T)
		code   string
		status int
	}{
		{"enabled", func(*testing.T) {}, "", 0},
		{"disabled", func(t *testing.T) {
			must[*kms.DisableKeyOutput](t)(kc.DisableKey(c, &kms.DisableKeyInput{KeyId: aws.String(id)}))
		}, "KMS.DisabledException", 400},
		{"enabled again", func(t *testing.T) {
			must[*kms.EnableKeyOutput](t)(kc.EnableKey(c, &kms.EnableKeyInput{KeyId: aws.String(id)}))
		}, "", 0},
		{"pending deletion", func(t *testing.T) {
			must[*kms.ScheduleKeyDeletionOutput](t)(kc.ScheduleKeyDeletion(c, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(7)}))
		}, "KMS.KMSInvalidStateException", 400},
		{"deletion cancelled, still disabled", func(t *testing.T) {
			must[*kms.CancelKeyDeletionOutput](t)(kc.CancelKeyDeletion(c, &kms.CancelKeyDeletionInput{KeyId: aws.String(id)}))
		}, "KMS.DisabledException", 400},
		{"enabled after cancel", func(t *testing.T) {
			must[*kms.EnableKeyOutput](t)(kc.EnableKey(c, &kms.EnableKeyInput{KeyId: aws.String(id)}))
		}, "", 0},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.act(t)
			get(t, s.code, s.status)
		})
	}
}

// TestSSEKMSDeletedKey: once a key's scheduled deletion is carried out, GETs of its objects
// (with and without a bucket key, also on a bucket-key cache hit) fail with
// KMS.NotFoundException, as the KMS answers for a key that no longer exists; HEAD still answers.
func TestSSEKMSDeletedKey(t *testing.T) {
	var ahead atomic.Int64 // how far the KMS clock runs ahead of real time
	e := startServerWith(t, server.Config{Dir: t.TempDir(), KMSNow: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	c := ctx(t)
	const bucket = "kmsdeleted"
	newBucket(t, e, bucket)
	id, _ := newKMSKey(t, e, "")
	body := sseBody(1 << 10)
	for _, bk := range []bool{false, true} {
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(keyFor(bk)), Body: bytes.NewReader(body),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(id), BucketKeyEnabled: aws.Bool(bk)}))
		readBody(t, must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(keyFor(bk))})))
	}
	kc := e.kms()
	must[*kms.ScheduleKeyDeletionOutput](t)(kc.ScheduleKeyDeletion(c, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(7)}))
	ahead.Store(int64(7*24*time.Hour + time.Hour))
	if err := e.srv.RunKMSJobs(c); err != nil {
		t.Fatalf("KMS jobs: %v", err)
	}
	_, err := kc.DescribeKey(c, &kms.DescribeKeyInput{KeyId: aws.String(id)})
	wantAPIError(t, err, "NotFoundException", 400)
	for _, bk := range []bool{false, true} {
		t.Run(keyFor(bk), func(t *testing.T) {
			_, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(keyFor(bk))})
			wantAPIError(t, err, "KMS.NotFoundException", 400)
			h := must[*s3.HeadObjectOutput](t)(e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(keyFor(bk))}))
			if h.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToInt64(h.ContentLength) != int64(len(body)) {
				t.Fatalf("HEAD: %q, %d bytes", h.ServerSideEncryption, aws.ToInt64(h.ContentLength))
			}
		})
	}
}

func keyFor(bucketKey bool) string {
	if bucketKey {
		return "with-bucket-key"
	}
	return "without-bucket-key"
}

// callCountObjects is how many objects TestSSEKMSCallCounts writes and reads per mode. At 1,000
// the counts are the same (1,000 and 1,000 without a bucket key; 1 and 0 with) but the test
// takes 20 s under -race, so it runs 10.
const callCountObjects = 10

// TestSSEKMSCallCounts counts the cryptographic KMS calls of callCountObjects PUTs and GETs of
// 1 KiB objects (and of as many HEADs and a listing) with and without a bucket key: one
// GenerateDataKey per PUT and one Decrypt per GET without; one GenerateDataKey in all and no
// Decrypt with (the cached bucket key).
func TestSSEKMSCallCounts(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	const bucket = "kmscalls"
	newBucket(t, e, bucket)
	id, _ := newKMSKey(t, e, "")
	body := sseBody(1 << 10)
	for _, tc := range []struct {
		bucketKey        bool
		wantGDK, wantDec int64
	}{{false, callCountObjects, callCountObjects}, {true, 1, 0}} {
		t.Run(keyFor(tc.bucketKey), func(t *testing.T) {
			name := func(i int) *string { return aws.String(keyFor(tc.bucketKey) + "/" + strconv.Itoa(i)) }
			before := e.srv.KMSCalls()
			for i := range callCountObjects {
				must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: name(i),
					Body: bytes.NewReader(body), ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(id), BucketKeyEnabled: aws.Bool(tc.bucketKey)}))
			}
			for i := range callCountObjects {
				readBody(t, must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: name(i)})))
				must[*s3.HeadObjectOutput](t)(e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: name(i)}))
			}
			must[*s3.ListObjectsV2Output](t)(e.s3.ListObjectsV2(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}))
			after := e.srv.KMSCalls()
			gdk, dec := after.GenerateDataKey-before.GenerateDataKey, after.Decrypt-before.Decrypt
			t.Logf("%d PUTs, GETs and HEADs, 1 listing: %d GenerateDataKey, %d Decrypt", callCountObjects, gdk, dec)
			if gdk != tc.wantGDK || dec != tc.wantDec {
				t.Fatalf("KMS calls: %d GenerateDataKey, %d Decrypt; want %d, %d", gdk, dec, tc.wantGDK, tc.wantDec)
			}
		})
	}
}

// TestSSEKMSTamper: encryption records swapped between KMS objects (with and without a bucket
// key, and DSSE-KMS) make their GETs fail; they never return the other object's bytes.
func TestSSEKMSTamper(t *testing.T) {
	modes := []struct {
		name string
		alg  types.ServerSideEncryption
		bk   bool
	}{
		{"SSE-KMS", types.ServerSideEncryptionAwsKms, false},
		{"SSE-KMS bucket key", types.ServerSideEncryptionAwsKms, true},
		{"DSSE-KMS", types.ServerSideEncryptionAwsKmsDsse, false},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			e := startIn(t, dir)
			newBucket(t, e, tamperBucket)
			bodies := map[string][]byte{"a": sseBody(100 << 10), "b": bytes.ToUpper(sseBody(100 << 10))}
			for key, body := range bodies {
				must[*s3.PutObjectOutput](t)(e.s3.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(tamperBucket), Key: aws.String(key), Body: bytes.NewReader(body),
					ServerSideEncryption: m.alg, BucketKeyEnabled: aws.Bool(m.bk)}))
			}
			stopEnv(t, e)
			swapEncryptionRecords(t, dir, "a", "b")
			e = startIn(t, dir)
			defer stopEnv(t, e)
			for key := range bodies {
				_, err := e.s3.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(tamperBucket), Key: aws.String(key)})
				wantAPIError(t, err, "InternalError", 500)
			}
		})
	}
}

// TestBucketEncryptionKMS: a bucket default of aws:kms (with a key and a bucket key) or
// aws:kms:dsse encrypts writes that ask for nothing; a request header still wins.
func TestBucketEncryptionKMS(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	const bucket = "kmsdefault"
	newBucket(t, e, bucket)
	_, arn := newKMSKey(t, e, "alias/default")
	for _, tc := range []struct {
		name      string
		alg       types.ServerSideEncryption
		keyID     string
		bucketKey bool
	}{
		{"aws:kms with a key and a bucket key", types.ServerSideEncryptionAwsKms, "alias/default", true},
		{"aws:kms managed key", types.ServerSideEncryptionAwsKms, "", false},
		{"aws:kms:dsse", types.ServerSideEncryptionAwsKmsDsse, arn, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			def := &types.ServerSideEncryptionByDefault{SSEAlgorithm: tc.alg}
			if tc.keyID != "" {
				def.KMSMasterKeyID = aws.String(tc.keyID)
			}
			must[*s3.PutBucketEncryptionOutput](t)(e.s3.PutBucketEncryption(c, &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
				ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: def, BucketKeyEnabled: aws.Bool(tc.bucketKey)}}}}))
			got := must[*s3.GetBucketEncryptionOutput](t)(e.s3.GetBucketEncryption(c, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)}))
			r := got.ServerSideEncryptionConfiguration.Rules[0]
			if r.ApplyServerSideEncryptionByDefault.SSEAlgorithm != tc.alg || aws.ToString(r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != tc.keyID || aws.ToBool(r.BucketKeyEnabled) != tc.bucketKey {
				t.Fatalf("stored rule %+v, bucket key %v", r.ApplyServerSideEncryptionByDefault, aws.ToBool(r.BucketKeyEnabled))
			}
			out := must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), Body: stringsReader("data")}))
			if out.ServerSideEncryption != tc.alg || aws.ToBool(out.BucketKeyEnabled) != tc.bucketKey || tc.keyID != "" && aws.ToString(out.SSEKMSKeyId) != arn {
				t.Fatalf("PutObject under the default: %q %q bucket key %v", out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId), aws.ToBool(out.BucketKeyEnabled))
			}
			h := must[*s3.HeadObjectOutput](t)(e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")}))
			if h.ServerSideEncryption != tc.alg || aws.ToBool(h.BucketKeyEnabled) != tc.bucketKey {
				t.Fatalf("HeadObject: %q bucket key %v", h.ServerSideEncryption, aws.ToBool(h.BucketKeyEnabled))
			}
			over := must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("s3"), Body: stringsReader("data"), ServerSideEncryption: types.ServerSideEncryptionAes256}))
			if over.ServerSideEncryption != types.ServerSideEncryptionAes256 {
				t.Fatalf("request header did not win over the default: %q", over.ServerSideEncryption)
			}
		})
	}
	t.Run("missing default key fails the write", func(t *testing.T) {
		must[*s3.PutBucketEncryptionOutput](t)(e.s3.PutBucketEncryption(c, &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
			ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("alias/missing")}}}}}))
		_, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k2"), Body: stringsReader("data")})
		wantAPIError(t, err, "KMS.NotFoundException", 400)
	})
}
