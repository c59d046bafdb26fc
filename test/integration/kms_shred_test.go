package integration

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	ikms "github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/server"
)

// TestKMSShreddedAfterDeletion deletes a key through a real server and the SDK, then reads
// meta.db byte by byte with the root key: the deleted key's sealed material is still in the
// file's free pages and its root-key layer opens, but its shred slot (kms/shred.slots) is
// destroyed (internal/kms/SPEC.md §8). After a restart on the same directory the other key
// still decrypts.
func TestKMSShreddedAfterDeletion(t *testing.T) {
	dir := t.TempDir()
	var ahead atomic.Int64 // how far the KMS clock runs ahead of real time
	cfg := server.Config{Dir: dir, KMSNow: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }}
	e := startServerWith(t, cfg)
	c, kc := ctx(t), e.kms()
	doomed, _ := newKMSKey(t, e, "")
	kept, _ := newKMSKey(t, e, "")
	blob := must[*kms.EncryptOutput](t)(kc.Encrypt(c, &kms.EncryptInput{KeyId: aws.String(kept), Plaintext: []byte("kept")})).CiphertextBlob
	must[*kms.EncryptOutput](t)(kc.Encrypt(c, &kms.EncryptInput{KeyId: aws.String(doomed), Plaintext: []byte("doomed")}))
	must[*kms.UpdateKeyDescriptionOutput](t)(kc.UpdateKeyDescription(c, &kms.UpdateKeyDescriptionInput{KeyId: aws.String(doomed), Description: aws.String("a copy")}))
	must[*kms.ScheduleKeyDeletionOutput](t)(kc.ScheduleKeyDeletion(c, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(doomed), PendingWindowInDays: aws.Int32(7)}))
	ahead.Store(int64(7*24*time.Hour + time.Hour))
	if err := e.srv.RunKMSJobs(c); err != nil {
		t.Fatalf("KMS jobs: %v", err)
	}
	_, err := kc.DescribeKey(c, &kms.DescribeKeyInput{KeyId: aws.String(doomed)})
	wantAPIError(t, err, "NotFoundException", 400)

	copies := shreddedCopies(t, dir, doomed)
	if len(copies) == 0 {
		t.Fatal("no copy of the deleted key's material in meta.db: the test proves nothing")
	}
	for _, err := range copies {
		if !errors.Is(err, ikms.ErrShredded) {
			t.Fatalf("a copy of the deleted key's material: shred slot %v, want ErrShredded", err)
		}
	}

	sc, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(sc); err != nil {
		t.Fatal(err)
	}
	e = startServerWith(t, cfg)
	out := must[*kms.DecryptOutput](t)(e.kms().Decrypt(ctx(t), &kms.DecryptInput{CiphertextBlob: blob}))
	if string(out.Plaintext) != "kept" {
		t.Fatalf("after a restart the kept key decrypts to %q", out.Plaintext)
	}
}

// shreddedCopies finds the sealed values in meta.db's bytes whose root-key layer opens as
// version 1 of key id (SPEC.md §2's AAD) and returns, for each, what its shred slot gives:
// nil when the slot still holds a key.
func shreddedCopies(t *testing.T, dir, id string) []error {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := ikms.OpenFileRootKey(filepath.Join(dir, "kms", "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	slots, err := ikms.OpenFileShredder(filepath.Join(dir, "kms", "shred.slots"), root)
	if err != nil {
		t.Fatal(err)
	}
	defer slots.Close()
	aad := binary.BigEndian.AppendUint32([]byte("coffer kms sealed v2\x00"), uint32(len(id)))
	aad = binary.BigEndian.AppendUint32(append(aad, id...), 1)
	var out []error
	for _, m := range regexp.MustCompile(`"Sealed":"([A-Za-z0-9+/=]+)"`).FindAllSubmatch(raw, -1) {
		sealed, err := base64.StdEncoding.DecodeString(string(m[1]))
		if err != nil {
			continue
		}
		inner, err := root.Open(context.Background(), sealed, aad)
		if err != nil {
			continue // another key's
		}
		if string(inner[:4]) != "CSH1" {
			t.Fatalf("material of the key sealed by the root key alone: %x", inner[:4])
		}
		key, err := slots.Key(context.Background(), binary.BigEndian.Uint32(inner[4:8]))
		clear(key)
		out = append(out, err)
	}
	return out
}
