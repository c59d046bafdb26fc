package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/server"
)

// lastUsage returns GetKeyLastUsage of key id, failing the test on an error.
func lastUsage(t *testing.T, k *kms.Client, id string) *kms.GetKeyLastUsageOutput {
	t.Helper()
	return must[*kms.GetKeyLastUsageOutput](t)(k.GetKeyLastUsage(ctx(t), &kms.GetKeyLastUsageInput{KeyId: aws.String(id)}))
}

func requestIDOf(md middleware.Metadata) string {
	id, _ := awsmiddleware.GetRequestIDMetadata(md)
	return id
}

// TestKMSGetKeyLastUsage: each successful cryptographic call (through the KMS API or made by
// S3 for SSE-KMS) becomes the last use of the keys it used, naming the operation, the call's
// audit record and its request id; failed, dry-run and non-cryptographic calls do not count.
func TestKMSGetKeyLastUsage(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	k := e.kms()
	newKey := func(in *kms.CreateKeyInput) string {
		return aws.ToString(must[*kms.CreateKeyOutput](t)(k.CreateKey(c, in)).KeyMetadata.KeyId)
	}
	sym, sym2 := newKey(&kms.CreateKeyInput{}), newKey(&kms.CreateKeyInput{})
	mac := newKey(&kms.CreateKeyInput{KeySpec: kmstypes.KeySpecHmac256, KeyUsage: kmstypes.KeyUsageTypeGenerateVerifyMac})
	sig := newKey(&kms.CreateKeyInput{KeySpec: kmstypes.KeySpecEccNistP256, KeyUsage: kmstypes.KeyUsageTypeSignVerify})

	fresh := lastUsage(t, k, sym)
	if fresh.KeyLastUsage == nil || fresh.KeyLastUsage.Operation != "" || fresh.KeyLastUsage.Timestamp != nil || fresh.KeyLastUsage.CloudTrailEventId != nil {
		t.Fatalf("unused key: KeyLastUsage %+v, want an empty object", fresh.KeyLastUsage)
	}
	if aws.ToString(fresh.KeyId) != sym || fresh.KeyCreationDate == nil || !aws.ToTime(fresh.TrackingStartDate).Equal(aws.ToTime(fresh.KeyCreationDate)) {
		t.Fatalf("unused key: KeyId %q created %v tracking from %v, want its id and tracking from its creation", aws.ToString(fresh.KeyId), fresh.KeyCreationDate, fresh.TrackingStartDate)
	}

	enc := must[*kms.EncryptOutput](t)(k.Encrypt(c, &kms.EncryptInput{KeyId: aws.String(sym), Plaintext: []byte("x")}))
	sigOut := must[*kms.SignOutput](t)(k.Sign(c, &kms.SignInput{KeyId: aws.String(sig), Message: []byte("m"), SigningAlgorithm: kmstypes.SigningAlgorithmSpecEcdsaSha256}))
	newBucket(t, e, "usage")

	tests := []struct {
		name   string
		call   func() (middleware.Metadata, error)
		keys   []string
		wantOp string // "" : the call fails and changes nothing
		by     string // the identity that invoked it
	}{
		{"Encrypt", func() (middleware.Metadata, error) {
			o, err := k.Encrypt(c, &kms.EncryptInput{KeyId: aws.String(sym), Plaintext: []byte("y")})
			return resultMeta(o, err, func(o *kms.EncryptOutput) middleware.Metadata { return o.ResultMetadata })
		}, []string{sym}, "Encrypt", ""},
		{"Decrypt", func() (middleware.Metadata, error) {
			o, err := k.Decrypt(c, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
			return resultMeta(o, err, func(o *kms.DecryptOutput) middleware.Metadata { return o.ResultMetadata })
		}, []string{sym}, "Decrypt", ""},
		{"GenerateDataKeyWithoutPlaintext", func() (middleware.Metadata, error) {
			o, err := k.GenerateDataKeyWithoutPlaintext(c, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: aws.String(sym), KeySpec: kmstypes.DataKeySpecAes256})
			return resultMeta(o, err, func(o *kms.GenerateDataKeyWithoutPlaintextOutput) middleware.Metadata { return o.ResultMetadata })
		}, []string{sym}, "GenerateDataKeyWithoutPlaintext", ""},
		{"ReEncrypt counts for both keys", func() (middleware.Metadata, error) {
			o, err := k.ReEncrypt(c, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: aws.String(sym2)})
			return resultMeta(o, err, func(o *kms.ReEncryptOutput) middleware.Metadata { return o.ResultMetadata })
		}, []string{sym, sym2}, "ReEncrypt", ""},
		{"GenerateMac", func() (middleware.Metadata, error) {
			o, err := k.GenerateMac(c, &kms.GenerateMacInput{KeyId: aws.String(mac), Message: []byte("m"), MacAlgorithm: kmstypes.MacAlgorithmSpecHmacSha256})
			return resultMeta(o, err, func(o *kms.GenerateMacOutput) middleware.Metadata { return o.ResultMetadata })
		}, []string{mac}, "GenerateMac", ""},
		{"Verify", func() (middleware.Metadata, error) {
			o, err := k.Verify(c, &kms.VerifyInput{KeyId: aws.String(sig), Message: []byte("m"), Signature: sigOut.Signature, SigningAlgorithm: kmstypes.SigningAlgorithmSpecEcdsaSha256})
			return resultMeta(o, err, func(o *kms.VerifyOutput) middleware.Metadata { return o.ResultMetadata })
		}, []string{sig}, "Verify", ""},
		{"a signature that does not verify does not count", func() (middleware.Metadata, error) {
			_, err := k.Verify(c, &kms.VerifyInput{KeyId: aws.String(sig), Message: []byte("other"), Signature: sigOut.Signature, SigningAlgorithm: kmstypes.SigningAlgorithmSpecEcdsaSha256})
			return middleware.Metadata{}, err
		}, []string{sig}, "", ""},
		{"a dry run does not count", func() (middleware.Metadata, error) {
			_, err := k.Encrypt(c, &kms.EncryptInput{KeyId: aws.String(sym2), Plaintext: []byte("y"), DryRun: aws.Bool(true)})
			return middleware.Metadata{}, err
		}, []string{sym2}, "", ""},
		{"DescribeKey is not a cryptographic use", func() (middleware.Metadata, error) {
			o, err := k.DescribeKey(c, &kms.DescribeKeyInput{KeyId: aws.String(sym2)})
			if err != nil {
				return middleware.Metadata{}, err
			}
			return middleware.Metadata{}, errNotCounted(o)
		}, []string{sym2}, "", ""},
		{"SSE-KMS PutObject is S3's GenerateDataKey", func() (middleware.Metadata, error) {
			o, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("usage"), Key: aws.String("o"), Body: strings.NewReader("data"),
				ServerSideEncryption: "aws:kms", SSEKMSKeyId: aws.String(sym)})
			return resultMeta(o, err, func(o *s3.PutObjectOutput) middleware.Metadata { return o.ResultMetadata })
		}, []string{sym}, "GenerateDataKey", audit.InvokedByS3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := map[string]*kmstypes.KeyLastUsageData{}
			for _, id := range tt.keys {
				before[id] = lastUsage(t, k, id).KeyLastUsage
			}
			start := time.Now().Add(-time.Second)
			md, err := tt.call()
			if tt.wantOp == "" {
				if err == nil {
					t.Fatal("the call succeeded")
				}
				for _, id := range tt.keys {
					if got := lastUsage(t, k, id).KeyLastUsage; aws.ToString(got.CloudTrailEventId) != aws.ToString(before[id].CloudTrailEventId) {
						t.Errorf("key %s: last usage changed to %s %s", id, got.Operation, aws.ToString(got.CloudTrailEventId))
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rid := requestIDOf(md)
			for _, id := range tt.keys {
				got := lastUsage(t, k, id).KeyLastUsage
				if string(got.Operation) != tt.wantOp || got.Timestamp == nil || got.Timestamp.Before(start) || time.Since(*got.Timestamp) > time.Minute {
					t.Fatalf("key %s: last usage %s at %v, want %s now", id, got.Operation, got.Timestamp, tt.wantOp)
				}
				ev := e.auditEvent(t, audit.Filter{EventID: aws.ToString(got.CloudTrailEventId)})
				if ev.EventName != tt.wantOp || ev.UserIdentity.InvokedBy != tt.by || ev.ErrorCode != "" {
					t.Errorf("key %s: the named record is %s invoked by %q (error %q), want %s by %q", id, ev.EventName, ev.UserIdentity.InvokedBy, ev.ErrorCode, tt.wantOp, tt.by)
				}
				if tt.by == "" && (aws.ToString(got.KmsRequestId) != rid || ev.RequestID != rid) {
					t.Errorf("key %s: KmsRequestId %q, record's %q, want the call's %q", id, aws.ToString(got.KmsRequestId), ev.RequestID, rid)
				}
				if tt.by != "" && aws.ToString(got.KmsRequestId) != ev.RequestID {
					t.Errorf("key %s: KmsRequestId %q, want the record's %q", id, aws.ToString(got.KmsRequestId), ev.RequestID)
				}
			}
		})
	}
}

type notCounted struct{}

func (notCounted) Error() string { return "succeeded; a use that must not count" }

// errNotCounted turns the success of a call that must not count into the error the table expects.
func errNotCounted(any) error { return notCounted{} }

// resultMeta returns the result metadata of a call's output, or its error.
func resultMeta[T any](o T, err error, md func(T) middleware.Metadata) (middleware.Metadata, error) {
	if err != nil {
		return middleware.Metadata{}, err
	}
	return md(o), nil
}

// TestKMSGetKeyLastUsageErrors: GetKeyLastUsage takes a key id or key ARN of the caller's
// account, never an alias.
func TestKMSGetKeyLastUsageErrors(t *testing.T) {
	e := startServer(t)
	k := e.kms()
	c := ctx(t)
	out := must[*kms.CreateKeyOutput](t)(k.CreateKey(c, &kms.CreateKeyInput{}))
	id, arn := aws.ToString(out.KeyMetadata.KeyId), aws.ToString(out.KeyMetadata.Arn)
	must[*kms.CreateAliasOutput](t)(k.CreateAlias(c, &kms.CreateAliasInput{AliasName: aws.String("alias/used"), TargetKeyId: aws.String(id)}))
	must[*kms.DisableKeyOutput](t)(k.DisableKey(c, &kms.DisableKeyInput{KeyId: aws.String(id)}))
	tests := []struct {
		name, keyID string
		wantErr     string // "" : succeeds
	}{
		{"key id of a disabled key", id, ""},
		{"key ARN", arn, ""},
		{"alias name", "alias/used", "NotFoundException"},
		{"alias ARN", strings.Replace(arn, "key/"+id, "alias/used", 1), "NotFoundException"},
		{"unknown key", "1234abcd-12ab-34cd-56ef-1234567890ab", "NotFoundException"},
		{"missing", "", "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := k.GetKeyLastUsage(c, &kms.GetKeyLastUsageInput{KeyId: aws.String(tt.keyID)})
			if tt.wantErr == "" {
				if err != nil || aws.ToString(got.KeyId) != id {
					t.Fatalf("got %v, %v; want key %s", got, err, id)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want %s", err, tt.wantErr)
			}
		})
	}
}

// TestKMSGetKeyLastUsageSurvivesRestart: uses are kept in memory and flushed; an orderly
// shutdown flushes them, so the last use is the same after a restart.
func TestKMSGetKeyLastUsageSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := server.Config{Dir: dir, Listen: "127.0.0.1:0", Region: "us-east-1", AccessKey: testAccessKey, SecretKey: testSecretKey}
	shutdown := func(s *server.Server) {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(sctx); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := server.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, srv: srv, region: "us-east-1"}
	c := ctx(t)
	k := e.kms()
	id := aws.ToString(must[*kms.CreateKeyOutput](t)(k.CreateKey(c, &kms.CreateKeyInput{})).KeyMetadata.KeyId)
	must[*kms.GenerateDataKeyOutput](t)(k.GenerateDataKey(c, &kms.GenerateDataKeyInput{KeyId: aws.String(id), NumberOfBytes: aws.Int32(32)}))
	before := lastUsage(t, k, id)
	shutdown(srv)

	if e.srv, err = server.Start(cfg); err != nil {
		t.Fatal(err)
	}
	defer shutdown(e.srv)
	after := lastUsage(t, e.kms(), id)
	b, a := before.KeyLastUsage, after.KeyLastUsage
	if a.Operation != "GenerateDataKey" || aws.ToString(a.CloudTrailEventId) != aws.ToString(b.CloudTrailEventId) ||
		aws.ToString(a.KmsRequestId) != aws.ToString(b.KmsRequestId) || !aws.ToTime(a.Timestamp).Equal(aws.ToTime(b.Timestamp)) {
		t.Fatalf("after a restart the last usage is %+v, want %+v", a, b)
	}
	if !aws.ToTime(after.TrackingStartDate).Equal(aws.ToTime(before.TrackingStartDate)) {
		t.Fatalf("tracking start moved from %v to %v", before.TrackingStartDate, after.TrackingStartDate)
	}
}
