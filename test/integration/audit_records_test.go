package integration

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/server"
)

// auditEvents returns the records of e's audit trail that f selects, newest first, read back
// through audit.Query from the data directory (finished log files and the open journal).
func (e *env) auditEvents(t *testing.T, f audit.Filter) []*audit.Event {
	t.Helper()
	var out []*audit.Event
	if err := audit.Query(e.srv.AuditDir(), f, func(ev *audit.Event) bool { out = append(out, ev); return true }); err != nil {
		t.Fatal(err)
	}
	return out
}

// auditEvent returns the newest record f selects, failing the test if there is none.
func (e *env) auditEvent(t *testing.T, f audit.Filter) *audit.Event {
	t.Helper()
	evs := e.auditEvents(t, f)
	if len(evs) == 0 {
		t.Fatalf("no audit record for %+v", f)
	}
	return evs[0]
}

func recordJSON(ev *audit.Event) string {
	b, _ := json.Marshal(ev)
	return string(b)
}

// param returns a requestParameters member as a string (JSON text for raw members).
func param(ev *audit.Event, name string) string {
	switch v := ev.RequestParameters[name].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		b, _ := json.Marshal(v)
		return strings.Trim(string(b), `"`)
	}
}

// selectAll is a data selector selecting every S3 data event.
type selectAll struct{ on atomic.Bool }

func (s *selectAll) WantsData(string, string, bool) bool { return s.on.Load() }

// TestAuditRecords drives KMS, IAM, STS and S3 calls through a real server and reads their
// records back from its audit trail: each in CloudTrail's shape for its source.
func TestAuditRecords(t *testing.T) {
	clock := atomic.Int64{}
	e := startServerWith(t, server.Config{Dir: t.TempDir(), KMSNow: func() time.Time { return time.Now().Add(time.Duration(clock.Load())) }})
	account := e.srv.Identity.AccountID
	kc := e.kms()

	created := must[*kms.CreateKeyOutput](t)(kc.CreateKey(ctx(t), &kms.CreateKeyInput{Description: aws.String("audited")}))
	keyID, keyARN := *created.KeyMetadata.KeyId, *created.KeyMetadata.Arn

	t.Run("KMS CreateKey", func(t *testing.T) {
		ev := e.auditEvent(t, audit.Filter{EventName: "CreateKey", EventSource: audit.SourceKMS})
		km, _ := ev.ResponseElements["keyMetadata"].(map[string]any)
		if km["keyId"] != keyID || km["arn"] != keyARN || ev.ReadOnly || ev.UserIdentity.Type != "Root" || ev.UserIdentity.AccountID != account {
			t.Errorf("record: %s", recordJSON(ev))
		}
		if len(ev.Resources) != 1 || ev.Resources[0].ARN != keyARN || ev.Resources[0].Type != "AWS::KMS::Key" {
			t.Errorf("resources: %s", recordJSON(ev))
		}
	})
	t.Run("KMS crypto operation", func(t *testing.T) {
		must[*kms.EncryptOutput](t)(kc.Encrypt(ctx(t), &kms.EncryptInput{KeyId: &keyID, Plaintext: []byte("hello"), EncryptionContext: map[string]string{"app": "demo"}}))
		ev := e.auditEvent(t, audit.Filter{EventName: "Encrypt", EventSource: audit.SourceKMS})
		if ev.EventSource != "kms.amazonaws.com" || !ev.ReadOnly || ev.ResponseElements != nil || ev.EventType != "AwsApiCall" ||
			!ev.ManagementEvent || ev.EventCategory != "Management" || ev.RecipientAccountID != account || ev.TLSDetails == nil {
			t.Errorf("record: %s", recordJSON(ev))
		}
		if param(ev, "keyId") != keyID || param(ev, "encryptionAlgorithm") != "SYMMETRIC_DEFAULT" || param(ev, "encryptionContext") != `{"app":"demo"}` {
			t.Errorf("requestParameters: %s", recordJSON(ev))
		}
		if ev.UserIdentity.AccessKeyID != testAccessKey || ev.EventID == "" || ev.EventVersion == "" || ev.RequestID == "" || ev.SourceIPAddress != "127.0.0.1" {
			t.Errorf("who and which: %s", recordJSON(ev))
		}
	})
	t.Run("KMS failure", func(t *testing.T) {
		_, err := kc.Decrypt(ctx(t), &kms.DecryptInput{KeyId: &keyID, CiphertextBlob: []byte("not a ciphertext blob at all, but long enough")})
		wantAPIError(t, err, "InvalidCiphertextException", 400)
		ev := e.auditEvent(t, audit.Filter{EventName: "Decrypt", EventSource: audit.SourceKMS})
		if ev.ErrorCode != "InvalidCiphertextException" || len(ev.Resources) != 1 || ev.Resources[0].ARN != keyARN {
			t.Errorf("record: %s", recordJSON(ev))
		}
	})
	t.Run("KMS rotation by the scheduler", func(t *testing.T) {
		must[*kms.EnableKeyRotationOutput](t)(kc.EnableKeyRotation(ctx(t), &kms.EnableKeyRotationInput{KeyId: &keyID, RotationPeriodInDays: aws.Int32(90)}))
		clock.Store(int64(91 * 24 * time.Hour))
		if err := e.srv.RunKMSJobs(ctx(t)); err != nil {
			t.Fatal(err)
		}
		ev := e.auditEvent(t, audit.Filter{EventName: "RotateKey", EventSource: audit.SourceKMS})
		if ev.EventType != "AwsServiceEvent" || ev.UserIdentity.InvokedBy != "AWS Internal" || ev.UserIdentity.AccountID != account ||
			ev.SourceIPAddress != "AWS Internal" || ev.RequestParameters != nil || ev.ServiceEventDetails["keyId"] != keyID ||
			len(ev.Resources) != 1 || ev.Resources[0].ARN != keyARN {
			t.Errorf("record: %s", recordJSON(ev))
		}
	})

	t.Run("KMS deletion by the scheduler", func(t *testing.T) {
		doomed := *must[*kms.CreateKeyOutput](t)(kc.CreateKey(ctx(t), &kms.CreateKeyInput{})).KeyMetadata.KeyId
		sk := must[*kms.ScheduleKeyDeletionOutput](t)(kc.ScheduleKeyDeletion(ctx(t), &kms.ScheduleKeyDeletionInput{KeyId: &doomed, PendingWindowInDays: aws.Int32(7)}))
		ev := e.auditEvent(t, audit.Filter{EventName: "ScheduleKeyDeletion", EventSource: audit.SourceKMS})
		if ev.ResponseElements["keyId"] != *sk.KeyId || ev.ResponseElements["keyState"] != "PendingDeletion" || ev.ResponseElements["deletionDate"] == nil {
			t.Errorf("ScheduleKeyDeletion: %s", recordJSON(ev))
		}
		clock.Add(int64(8 * 24 * time.Hour))
		if err := e.srv.RunKMSJobs(ctx(t)); err != nil {
			t.Fatal(err)
		}
		ev = e.auditEvent(t, audit.Filter{EventName: "DeleteKey", EventSource: audit.SourceKMS})
		// CloudTrail's DeleteKey records name the key ARN in responseElements.keyId (since
		// December 2022), which tooling reads to know which key is gone.
		if ev.EventType != "AwsServiceEvent" || ev.UserIdentity.InvokedBy != "AWS Internal" || len(ev.Resources) != 1 || ev.Resources[0].ARN != *sk.KeyId ||
			ev.ResponseElements["keyId"] != *sk.KeyId {
			t.Errorf("DeleteKey: %s", recordJSON(ev))
		}
	})

	alice, user := e.newUser(t, rootCreds, "alice")
	t.Run("IAM CreateAccessKey", func(t *testing.T) {
		ev := e.auditEvent(t, audit.Filter{EventName: "CreateAccessKey", EventSource: audit.SourceIAM})
		ak, _ := ev.ResponseElements["accessKey"].(map[string]any)
		if ak["accessKeyId"] != alice.AccessKey || ak["status"] != "Active" || ak["userName"] != "alice" || ak["createDate"] == nil || len(ak) != 4 {
			t.Errorf("responseElements: %s", recordJSON(ev))
		}
		if param(ev, "userName") != "alice" || ev.AWSRegion != "us-east-1" || ev.ReadOnly || strings.Contains(recordJSON(ev), alice.Secret) {
			t.Errorf("record: %s", recordJSON(ev))
		}
		cu := e.auditEvent(t, audit.Filter{EventName: "CreateUser", EventSource: audit.SourceIAM})
		if u, _ := cu.ResponseElements["user"].(map[string]any); u["userId"] != *user.UserId {
			t.Errorf("CreateUser: %s", recordJSON(cu))
		}
	})
	t.Run("IAM failure", func(t *testing.T) {
		_, err := e.iamAs(rootCreds).GetUser(ctx(t), &iam.GetUserInput{UserName: aws.String("nobody")})
		wantAPIError(t, err, "NoSuchEntity", 404)
		ev := e.auditEvent(t, audit.Filter{EventName: "GetUser", EventSource: audit.SourceIAM})
		if ev.ErrorCode != "NoSuchEntity" || !ev.ReadOnly || param(ev, "userName") != "nobody" {
			t.Errorf("record: %s", recordJSON(ev))
		}
	})

	e.putUserPolicy(t, rootCreds, "alice", "all", allowAll)
	roleARN := e.createRole(t, rootCreds, "App", trustPolicy(account))
	session, _, err := e.assumeRole(t, alice, roleARN, "job", func(in *sts.AssumeRoleInput) { in.DurationSeconds = aws.Int32(900) })
	if err != nil {
		t.Fatal(err)
	}
	t.Run("STS AssumeRole", func(t *testing.T) {
		ev := e.auditEvent(t, audit.Filter{EventName: "AssumeRole", EventSource: audit.SourceSTS})
		c, _ := ev.ResponseElements["credentials"].(map[string]any)
		if c["accessKeyId"] != session.AccessKey || c["expiration"] == nil || c["secretAccessKey"] != nil || c["sessionToken"] != nil {
			t.Errorf("responseElements: %s", recordJSON(ev))
		}
		js := recordJSON(ev)
		if strings.Contains(js, session.Secret) || strings.Contains(js, session.Token) {
			t.Errorf("record holds the session's secrets: %s", js)
		}
		if param(ev, "roleArn") != roleARN || param(ev, "roleSessionName") != "job" || ev.RequestParameters["durationSeconds"] != float64(900) {
			t.Errorf("requestParameters: %s", js)
		}
		if ev.UserIdentity.Type != "IAMUser" || ev.UserIdentity.UserName != "alice" || ev.UserIdentity.PrincipalID != *user.UserId {
			t.Errorf("userIdentity: %s", js)
		}
		if len(ev.Resources) != 1 || ev.Resources[0].ARN != roleARN {
			t.Errorf("resources: %s", js)
		}
	})
	t.Run("a role session's identity, denied", func(t *testing.T) {
		// The role has no permissions: the denied call is recorded, in the caller's account.
		_, err := e.kmsAs(session).DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: &keyID})
		wantAPIError(t, err, "AccessDeniedException", 400)
		ev := e.auditEvent(t, audit.Filter{EventName: "DescribeKey", EventSource: audit.SourceKMS})
		if ev.ErrorCode != "AccessDeniedException" || ev.RecipientAccountID != account || len(ev.Resources) != 1 {
			t.Errorf("record: %s", recordJSON(ev))
		}
		u := ev.UserIdentity
		sc := u.SessionContext
		if u.Type != "AssumedRole" || u.ARN != "arn:aws:sts::"+account+":assumed-role/App/job" || u.AccessKeyID != session.AccessKey ||
			!strings.HasPrefix(u.PrincipalID, "AROA") || !strings.HasSuffix(u.PrincipalID, ":job") || sc == nil || sc.SessionIssuer == nil ||
			sc.SessionIssuer.Type != "Role" || sc.SessionIssuer.ARN != roleARN || sc.SessionIssuer.UserName != "App" ||
			sc.SessionIssuer.PrincipalID+":job" != u.PrincipalID || sc.Attributes.MFAAuthenticated != "false" {
			t.Errorf("userIdentity: %s", recordJSON(ev))
		}
		if !ev.ReadOnly || ev.RequestParameters == nil {
			t.Errorf("record: %s", recordJSON(ev))
		}
	})

	s3c := e.s3As(alice)
	bucket := "audited"
	must[*s3.CreateBucketOutput](t)(s3c.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: &bucket}))
	t.Run("S3 management events", func(t *testing.T) {
		must[*s3.PutBucketEncryptionOutput](t)(s3c.PutBucketEncryption(ctx(t), &s3.PutBucketEncryptionInput{Bucket: &bucket,
			ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}}}}))
		_, err := s3c.GetBucketPolicy(ctx(t), &s3.GetBucketPolicyInput{Bucket: &bucket})
		wantAPIError(t, err, "NoSuchBucketPolicy", 404)
		bucketARN := "arn:aws:s3:::" + bucket
		for _, tc := range []struct{ name, code string }{{"CreateBucket", ""}, {"PutBucketEncryption", ""}, {"GetBucketPolicy", "NoSuchBucketPolicy"}} {
			t.Run(tc.name, func(t *testing.T) {
				ev := e.auditEvent(t, audit.Filter{EventName: tc.name, EventSource: audit.SourceS3})
				if ev.ErrorCode != tc.code || !ev.ManagementEvent || ev.EventCategory != "Management" || ev.UserIdentity.UserName != "alice" ||
					param(ev, "bucketName") != bucket || param(ev, "Host") == "" || ev.RecipientAccountID != account {
					t.Errorf("record: %s", recordJSON(ev))
				}
				if len(ev.Resources) != 1 || ev.Resources[0].ARN != bucketARN || ev.Resources[0].Type != "AWS::S3::Bucket" || ev.Resources[0].AccountID != account {
					t.Errorf("resources: %s", recordJSON(ev))
				}
				if ev.AdditionalEventData["SignatureVersion"] != "SigV4" || ev.AdditionalEventData["AuthenticationMethod"] != "AuthHeader" {
					t.Errorf("additionalEventData: %s", recordJSON(ev))
				}
			})
		}
		if _, ok := e.auditEvent(t, audit.Filter{EventName: "PutBucketEncryption"}).RequestParameters["encryption"]; !ok {
			t.Errorf("the sub-resource is not among the requestParameters")
		}
	})
	t.Run("S3 data events only when selected", func(t *testing.T) {
		sel := &selectAll{}
		e.srv.AuditLog().SetDataSelector(sel)
		put := func(key string) {
			must[*s3.PutObjectOutput](t)(s3c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(key), Body: bytes.NewReader([]byte("data"))}))
		}
		put("unselected")
		sel.on.Store(true)
		put("selected")
		must[*s3.GetObjectOutput](t)(s3c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("selected")})).Body.Close()
		puts := e.auditEvents(t, audit.Filter{EventName: "PutObject", EventSource: audit.SourceS3})
		if len(puts) != 1 || param(puts[0], "key") != "selected" {
			t.Fatalf("PutObject records: %d (want only the selected one)", len(puts))
		}
		ev := puts[0]
		if ev.ManagementEvent || ev.EventCategory != "Data" || ev.ReadOnly || ev.ResponseElements["x-amz-server-side-encryption"] != "AES256" ||
			ev.AdditionalEventData["bytesTransferredIn"] != float64(4) {
			t.Errorf("record: %s", recordJSON(ev))
		}
		if len(ev.Resources) != 2 || ev.Resources[0].Type != "AWS::S3::Object" || ev.Resources[0].ARN != "arn:aws:s3:::audited/selected" ||
			ev.Resources[1].Type != "AWS::S3::Bucket" {
			t.Errorf("resources: %s", recordJSON(ev))
		}
		get := e.auditEvent(t, audit.Filter{EventName: "GetObject", EventSource: audit.SourceS3})
		if !get.ReadOnly || get.EventCategory != "Data" || get.AdditionalEventData["bytesTransferredOut"] != float64(4) {
			t.Errorf("GetObject: %s", recordJSON(get))
		}
	})
	t.Run("SSE-KMS PUT GenerateDataKey invoked by S3", func(t *testing.T) {
		key := "secret/report.txt"
		must[*s3.PutObjectOutput](t)(s3c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader([]byte("kms data")),
			ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: &keyID}))
		ev := e.auditEvent(t, audit.Filter{EventName: "GenerateDataKey", EventSource: audit.SourceKMS})
		u := ev.UserIdentity
		if u.Type != "IAMUser" || u.UserName != "alice" || u.AccessKeyID != alice.AccessKey || u.InvokedBy != "s3.amazonaws.com" ||
			ev.SourceIPAddress != "s3.amazonaws.com" || ev.UserAgent != "s3.amazonaws.com" {
			t.Errorf("who: %s", recordJSON(ev))
		}
		ec, _ := ev.RequestParameters["encryptionContext"].(map[string]any)
		if ec["aws:s3:arn"] != "arn:aws:s3:::audited/"+key || param(ev, "keyId") != keyID || param(ev, "keySpec") != "AES_256" {
			t.Errorf("requestParameters: %s", recordJSON(ev))
		}
		if len(ev.Resources) != 1 || ev.Resources[0].ARN != keyARN || ev.ErrorCode != "" || ev.ResponseElements != nil {
			t.Errorf("record: %s", recordJSON(ev))
		}
		must[*s3.GetObjectOutput](t)(s3c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: &bucket, Key: &key})).Body.Close()
		dec := e.auditEvent(t, audit.Filter{EventName: "Decrypt", EventSource: audit.SourceKMS})
		if dec.UserIdentity.InvokedBy != "s3.amazonaws.com" || dec.ErrorCode != "" {
			t.Errorf("Decrypt: %s", recordJSON(dec))
		}
	})
	t.Run("S3 AccessDenied of a known caller", func(t *testing.T) {
		bob, _ := e.newUser(t, rootCreds, "bob")
		_, err := e.s3As(bob).GetBucketEncryption(ctx(t), &s3.GetBucketEncryptionInput{Bucket: &bucket})
		wantAPIError(t, err, "AccessDenied", 403)
		ev := e.auditEvent(t, audit.Filter{EventName: "GetBucketEncryption", EventSource: audit.SourceS3})
		if ev.ErrorCode != "AccessDenied" || ev.UserIdentity.UserName != "bob" {
			t.Errorf("record: %s", recordJSON(ev))
		}
	})
}
