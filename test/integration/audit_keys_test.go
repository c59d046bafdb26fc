package integration

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/coffer/coffer/internal/audit"
)

// TestListPublicKeysPublishesOnlyOwnKeys: whoever can write under DIR/audit/keys but cannot
// seal with the server's KMS plants a signing key of their own there (an older validFrom, so
// the server goes on signing with its key; a sealed file of garbage, or none). Digests they
// sign with it would pass `aws cloudtrail validate-logs` if ListPublicKeys published it:
// ListPublicKeys publishes only the keys whose private half the KMS holds sealed.
func TestListPublicKeysPublishesOnlyOwnKeys(t *testing.T) {
	e := startServer(t)
	ct := e.cloudtrailAs(rootCreds)
	kd := filepath.Join(e.srv.AuditDir(), "keys")
	own, err := audit.PublicKeys(e.srv.AuditDir())
	if err != nil || len(own) != 1 {
		t.Fatalf("PublicKeys = %v, %v; want the server's key", own, err)
	}
	for _, plant := range []struct {
		name   string
		sealed []byte // nil: no sealed file
	}{{"garbage sealed file", []byte("not sealed by the KMS")}, {"no sealed file", nil}} {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		der := x509.MarshalPKCS1PublicKey(&k.PublicKey)
		fp := audit.Fingerprint(der)
		meta, _ := json.Marshal(map[string]any{"fingerprint": fp, "validFrom": time.Now().Add(-time.Hour).UTC()})
		files := map[string][]byte{fp + ".pub.der": der, fp + ".json": meta}
		if plant.sealed != nil {
			files[fp+".key.sealed"] = plant.sealed
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(kd, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	out := must[*cloudtrail.ListPublicKeysOutput](t)(ct.ListPublicKeys(ctx(t), &cloudtrail.ListPublicKeysInput{
		StartTime: aws.Time(time.Now().Add(-48 * time.Hour)), EndTime: aws.Time(time.Now())}))
	if len(out.PublicKeyList) != 1 || aws.ToString(out.PublicKeyList[0].Fingerprint) != own[0].Fingerprint {
		var fps []string
		for _, k := range out.PublicKeyList {
			fps = append(fps, aws.ToString(k.Fingerprint))
		}
		t.Fatalf("ListPublicKeys = %v, want only the server's own key %s", fps, own[0].Fingerprint)
	}
	if out.PublicKeyList[0].ValidityEndTime != nil {
		t.Errorf("the server's key ends at %v: a planted key cut its validity", out.PublicKeyList[0].ValidityEndTime)
	}
}
