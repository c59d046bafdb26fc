package kmsapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/audit/audittest"
	"github.com/coffer/coffer/internal/kms/kmstest"
)

// lastRecord returns the last record of rec, and its JSON.
func lastRecord(t *testing.T, rec *audittest.Recorder) (audit.Event, string) {
	t.Helper()
	evs := rec.Events()
	if len(evs) == 0 {
		t.Fatal("no record")
	}
	e := evs[len(evs)-1]
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return e, string(b)
}

func newAuditedEnv(t *testing.T) (*env, *audittest.Recorder) {
	rec := &audittest.Recorder{}
	return newRecordedEnv(t, rec), rec
}

// newRecordedEnv starts a KMS whose calls rec records.
func newRecordedEnv(tb testing.TB, rec audit.Recorder) *env {
	e := &env{dir: tb.TempDir(), rec: rec, clock: kmstest.NewClock(time.Now().UTC())}
	e.open(tb)
	tb.Cleanup(e.close)
	return e
}

// benchGenerateDataKeys runs BenchmarkGenerateDataKey's load on a KMS whose calls rec records.
func benchGenerateDataKeys(b *testing.B, rec audit.Recorder) {
	e := newRecordedEnv(b, rec)
	c := benchClient(e)
	id := e.createKey(b, nil)
	b.ResetTimer()
	generateDataKeys(b, c, id)
}

func TestAuditRecordShapes(t *testing.T) {
	e, rec := newAuditedEnv(t)
	id := e.createKey(t, &awskms.CreateKeyInput{Description: aws.String("audited")})
	arn := "arn:aws:kms:us-east-1:" + testAccount + ":key/" + id
	plaintext := []byte("the known plaintext 0123456789")

	t.Run("CreateKey", func(t *testing.T) {
		ev, js := lastRecord(t, rec)
		km, _ := ev.ResponseElements["keyMetadata"].(map[string]any)
		if ev.EventName != "CreateKey" || km["keyId"] != id || km["arn"] != arn || km["aWSAccountId"] != testAccount || ev.ReadOnly {
			t.Errorf("record: %s", js)
		}
		if len(ev.Resources) != 1 || ev.Resources[0].ARN != arn || ev.Resources[0].Type != "AWS::KMS::Key" || ev.Resources[0].AccountID != testAccount {
			t.Errorf("resources: %s", js)
		}
		if _, ok := km["creationDate"].(string); !ok {
			t.Errorf("creationDate not a CloudTrail date: %s", js)
		}
	})
	t.Run("Encrypt", func(t *testing.T) {
		out, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &id, Plaintext: plaintext, EncryptionContext: map[string]string{"app": "demo"}})
		if err != nil {
			t.Fatal(err)
		}
		ev, js := lastRecord(t, rec)
		p := ev.RequestParameters
		if ev.EventName != "Encrypt" || ev.EventSource != "kms.amazonaws.com" || !ev.ReadOnly || ev.ResponseElements != nil || ev.ErrorCode != "" {
			t.Errorf("record: %s", js)
		}
		if string(p["keyId"].(json.RawMessage)) != `"`+id+`"` || p["encryptionAlgorithm"] != "SYMMETRIC_DEFAULT" || string(p["encryptionContext"].(json.RawMessage)) != `{"app":"demo"}` {
			t.Errorf("requestParameters: %s", js)
		}
		if len(ev.Resources) != 1 || ev.Resources[0].ARN != arn {
			t.Errorf("resources: %s", js)
		}
		if ev.UserIdentity.Type != "Root" || ev.UserIdentity.AccessKeyID != testAccess || ev.RequestID == "" || ev.TLSDetails == nil {
			t.Errorf("identity: %s", js)
		}
		for _, s := range []string{string(plaintext), base64.StdEncoding.EncodeToString(plaintext), base64.StdEncoding.EncodeToString(out.CiphertextBlob)} {
			if strings.Contains(js, s) {
				t.Errorf("record holds a secret %q: %s", s, js)
			}
		}
	})
	t.Run("GenerateDataKey", func(t *testing.T) {
		out, err := e.client.GenerateDataKey(ctx(), &awskms.GenerateDataKeyInput{KeyId: aws.String(arn), NumberOfBytes: aws.Int32(32)})
		if err != nil {
			t.Fatal(err)
		}
		ev, js := lastRecord(t, rec)
		if ev.EventName != "GenerateDataKey" || string(ev.RequestParameters["numberOfBytes"].(json.RawMessage)) != "32" || ev.ResponseElements != nil {
			t.Errorf("record: %s", js)
		}
		for _, b := range [][]byte{out.Plaintext, out.CiphertextBlob} {
			if strings.Contains(js, base64.StdEncoding.EncodeToString(b)) {
				t.Errorf("record holds the data key: %s", js)
			}
		}
	})
	t.Run("secret members in any case", func(t *testing.T) {
		params := requestParameters([]byte(`{"KeyId":"k","plaintext":"c2VjcmV0","CIPHERTEXTBLOB":"eA==","ImportToken":"eA==","EncryptedKeyMaterial":"eA==","Message":"eA==","Signature":"eA==","Mac":"eA=="}`))
		if len(params) != 1 || params["keyId"] == nil {
			t.Errorf("params = %v", params)
		}
	})
	t.Run("failure", func(t *testing.T) {
		if _, err := e.client.DisableKey(ctx(), &awskms.DisableKeyInput{KeyId: &id}); err != nil {
			t.Fatal(err)
		}
		_, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &id, Plaintext: plaintext})
		wantCode(t, err, "DisabledException")
		ev, js := lastRecord(t, rec)
		if ev.ErrorCode != "DisabledException" || ev.ErrorMessage == "" || len(ev.Resources) != 1 || ev.Resources[0].ARN != arn {
			t.Errorf("record: %s", js)
		}
	})
	t.Run("ScheduleKeyDeletion", func(t *testing.T) {
		if _, err := e.client.ScheduleKeyDeletion(ctx(), &awskms.ScheduleKeyDeletionInput{KeyId: &id, PendingWindowInDays: aws.Int32(7)}); err != nil {
			t.Fatal(err)
		}
		ev, js := lastRecord(t, rec)
		r := ev.ResponseElements
		if r["keyId"] != arn || r["keyState"] != "PendingDeletion" || r["pendingWindowInDays"] != float64(7) || r["deletionDate"] == nil || ev.ReadOnly {
			t.Errorf("record: %s", js)
		}
		if string(ev.RequestParameters["pendingWindowInDays"].(json.RawMessage)) != "7" {
			t.Errorf("requestParameters: %s", js)
		}
	})
}

// TestAuditRecordFailureAnswers500 shows that a call whose record cannot be kept is not
// answered with its result: the client gets KMSInternalException, never the data key.
func TestAuditRecordFailureAnswers500(t *testing.T) {
	e, rec := newAuditedEnv(t)
	id := e.createKey(t, nil)
	rec.Fail(true)
	out, err := e.client.GenerateDataKey(ctx(), &awskms.GenerateDataKeyInput{KeyId: &id, NumberOfBytes: aws.Int32(32)})
	wantCode(t, err, "KMSInternalException")
	if out != nil {
		t.Errorf("answered a data key without its record")
	}
}

// countRecorder keeps nothing but marshals each record once, as a Writer does: the cost a
// record adds to a call, without the disk.
type countRecorder struct{}

func (countRecorder) Record(_ context.Context, e *audit.Event) error {
	_, err := json.Marshal(e)
	return err
}

func (countRecorder) WantsData(string, string, bool) bool { return false }

// BenchmarkGenerateDataKeyAudited is BenchmarkGenerateDataKey with every call's record made
// and marshalled (compare the two for the cost of building records).
func BenchmarkGenerateDataKeyAudited(b *testing.B) { benchGenerateDataKeys(b, countRecorder{}) }

// BenchmarkGenerateDataKeyWriter is BenchmarkGenerateDataKey with every call recorded by a
// real Writer (fsynced group commits) on the test's disk: the cost of auditing a call.
func BenchmarkGenerateDataKeyWriter(b *testing.B) {
	dir := b.TempDir()
	signer, err := audit.OpenSigner(ctx(), filepath.Join(dir, "audit"), audittest.NewSealer())
	if err != nil {
		b.Fatal(err)
	}
	w, err := audit.Open(ctx(), audit.Config{Dir: filepath.Join(dir, "audit"), Region: testRegion, AccountID: testAccount, Signer: signer})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close(ctx()) })
	benchGenerateDataKeys(b, w)
}
