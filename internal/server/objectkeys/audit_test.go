package objectkeys_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsbolt"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/secret"
	"github.com/coffer/coffer/internal/server/objectkeys"
	bolt "go.etcd.io/bbolt"
)

// recorder collects records in memory, failing every Record while fail is set.
type recorder struct {
	mu     sync.Mutex
	events []audit.Event
	fail   bool
}

func (r *recorder) Record(_ context.Context, e *audit.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("disk full")
	}
	r.events = append(r.events, *e)
	return nil
}

func (r *recorder) WantsData(string, string, bool) bool { return false }

func newKMS(t *testing.T) *kms.Service {
	t.Helper()
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := kmsbolt.New(db)
	if err != nil {
		t.Fatal(err)
	}
	root, err := kms.OpenFileRootKey(filepath.Join(dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := kms.New(kms.Config{Store: st, Root: root, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestKMSCallsS3MakesAreRecorded shows each KMS call S3 makes for a requester recorded as
// CloudTrail shows it: the requester's identity invoked by s3.amazonaws.com, the object's
// aws:s3:arn context, the key as resource, nothing secret; and a failed record failing the call.
func TestKMSCallsS3MakesAreRecorded(t *testing.T) {
	svc := newKMS(t)
	rec := &recorder{}
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
	if len(rec.events) != len(want) {
		t.Fatalf("%d records, want %d", len(rec.events), len(want))
	}
	for i, e := range rec.events {
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
		rec.mu.Lock()
		rec.fail = true
		rec.mu.Unlock()
		if _, err := keys.DataKey(ctx, c, "", ec); err == nil {
			t.Fatal("a data key was handed out without its record")
		}
		if _, err := keys.SealServiceKey(ctx, secret.Generate(), ec); err == nil {
			t.Fatal("an SSE-S3 key was sealed without its record")
		}
	})
}
