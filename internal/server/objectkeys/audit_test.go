package objectkeys_test

import (
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/audit/audittest"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/secret"
	"github.com/coffer/coffer/internal/server/objectkeys"
)

// TestKMSCallsS3MakesAreRecorded shows each KMS call S3 makes for a requester recorded as
// CloudTrail shows it: the requester's identity invoked by s3.amazonaws.com, the object's
// aws:s3:arn context, the key as resource, nothing secret; and a failed record failing the call.
func TestKMSCallsS3MakesAreRecorded(t *testing.T) {
	svc := newKMS(t, kms.Config{})
	rec := &audittest.Recorder{}
	keys := objectkeys.New(svc, rec)
	p := iam.Principal{Type: iam.PrincipalUser, AccountID: "111122223333", ARN: "arn:aws:iam::111122223333:user/alice", UserName: "alice", UserID: "AIDAALICE", AccessKey: "AKIAALICE"}
	req := &iam.Request{Principal: p, SourceIP: netip.MustParseAddr("192.0.2.1"), Time: time.Now(), Region: "us-east-1", RequestID: "rid", UserAgent: "aws-cli"}
	ctx := iam.WithRequest(context.Background(), req)
	c := object.Caller{Account: p.AccountID, ARN: p.ARN}
	ec := map[string]string{"aws:s3:arn": "arn:aws:s3:::bucket/object"}

	dk, err := keys.DataKey(ctx, c, "", ec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Unwrap(ctx, c, dk.KeyARN, dk.Wrapped, ec); err != nil {
		t.Fatal(err)
	}
	sk := secret.Generate()
	sealed, err := keys.SealServiceKey(ctx, sk, ec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.UnsealServiceKey(ctx, sealed, ec); err != nil {
		t.Fatal(err)
	}
	want := []string{"GenerateDataKey", "Decrypt", "Encrypt", "Decrypt"}
	if len(rec.Events()) != len(want) {
		t.Fatalf("%d records, want %d", len(rec.Events()), len(want))
	}
	for i, e := range rec.Events() {
		t.Run(want[i]+"-"+string(rune('0'+i)), func(t *testing.T) {
			b, _ := json.Marshal(e)
			js := string(b)
			u := e.UserIdentity
			if e.EventName != want[i] || u.Type != "IAMUser" || u.UserName != "alice" || u.InvokedBy != "s3.amazonaws.com" ||
				e.SourceIPAddress != "s3.amazonaws.com" || e.UserAgent != "s3.amazonaws.com" || e.EventSource != "kms.amazonaws.com" {
				t.Errorf("record: %s", js)
			}
			if got := e.RequestParameters["encryptionContext"].(map[string]string)["aws:s3:arn"]; got != "arn:aws:s3:::bucket/object" {
				t.Errorf("encryption context: %s", js)
			}
			if len(e.Resources) != 1 || !strings.HasPrefix(e.Resources[0].ARN, "arn:aws:kms:us-east-1:") || e.Resources[0].Type != "AWS::KMS::Key" {
				t.Errorf("resources: %s", js)
			}
			if i == 0 && (e.RequestParameters["keySpec"] != "AES_256" || e.Resources[0].ARN != dk.KeyARN) {
				t.Errorf("GenerateDataKey: %s", js)
			}
		})
	}
	t.Run("record failure fails the call", func(t *testing.T) {
		rec.Fail(true)
		if _, err := keys.DataKey(ctx, c, "", ec); err == nil {
			t.Fatal("a data key was handed out without its record")
		}
		if _, err := keys.SealServiceKey(ctx, secret.Generate(), ec); err == nil {
			t.Fatal("an SSE-S3 key was sealed without its record")
		}
	})
}
