// Package audittest builds a real local audit chain and tampers with copies of it, for the
// tests of audit.Verify and of `coffer audit verify`: one table of tamper cases that both
// must detect.
package audittest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/audit"
)

// Sealer is an in-memory audit.Sealer for tests (AES-GCM under a random key, binding the
// encryption context); the server seals with its KMS.
type Sealer struct{ aead cipher.AEAD }

// NewSealer makes a Sealer with a fresh random key.
func NewSealer() *Sealer {
	k := make([]byte, 32)
	rand.Read(k)
	b, _ := aes.NewCipher(k)
	a, _ := cipher.NewGCM(b)
	return &Sealer{a}
}

// Seal implements audit.Sealer.
func (s *Sealer) Seal(_ context.Context, pt []byte, ec map[string]string) ([]byte, error) {
	aad, _ := json.Marshal(ec)
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, pt, aad), nil
}

// Open implements audit.Sealer.
func (s *Sealer) Open(_ context.Context, sealed []byte, ec map[string]string) ([]byte, error) {
	aad, _ := json.Marshal(ec)
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed key too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], aad)
}

// Clock is a test clock that moves only when told.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at 2026-12-02T10:00:00Z.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Event is a KMS Decrypt record of IAM user alice, numbered n in its request parameters.
func Event(n int) *audit.Event {
	return &audit.Event{
		UserIdentity:       audit.UserIdentity{Type: "IAMUser", UserName: "alice", AccountID: "111122223333", AccessKeyID: "AKIAALICE"},
		EventSource:        audit.SourceKMS,
		EventName:          "Decrypt",
		AWSRegion:          "us-east-1",
		SourceIPAddress:    "127.0.0.1",
		UserAgent:          "audittest",
		RequestParameters:  map[string]any{"keyId": "key-1", "n": float64(n)},
		RequestID:          fmt.Sprintf("req-%d", n),
		ReadOnly:           true,
		Resources:          []audit.Resource{{AccountID: "111122223333", Type: "AWS::KMS::Key", ARN: "arn:aws:kms:us-east-1:111122223333:key/key-1"}},
		EventType:          audit.TypeAPICall,
		ManagementEvent:    true,
		RecipientAccountID: "111122223333",
		EventCategory:      audit.CategoryManagement,
	}
}

// Record writes records numbered [first, first+n).
func Record(t testing.TB, w *audit.Writer, first, n int) {
	t.Helper()
	for i := first; i < first+n; i++ {
		if err := w.Record(context.Background(), Event(i)); err != nil {
			t.Fatal(err)
		}
	}
}

// BuildChain writes a clean chain into the audit directory dir across a restart: two Writers
// one after the other on the same signing key, 5 log files and 4 digests (two hourly ones and
// the final digest of each Close).
func BuildChain(t testing.TB, dir string) {
	t.Helper()
	ctx := context.Background()
	sl, clk := NewSealer(), NewClock()
	open := func() *audit.Writer {
		s, err := audit.OpenSigner(ctx, dir, sl)
		if err != nil {
			t.Fatal(err)
		}
		w, err := audit.Open(ctx, audit.Config{Dir: dir, Region: "us-east-1", AccountID: "111122223333", Signer: s, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	step := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		clk.Add(10 * time.Minute)
	}
	w := open()
	Record(t, w, 0, 5)
	step(w.Roll(ctx))
	Record(t, w, 5, 2)
	step(w.Digest(ctx))
	Record(t, w, 7, 3)
	step(w.Close(ctx))
	w = open()
	Record(t, w, 10, 3)
	step(w.Digest(ctx))
	Record(t, w, 13, 1)
	step(w.Close(ctx))
}

// Files lists the files under dir/sub (slash paths relative to dir) whose names end in
// suffix, sorted.
func Files(t testing.TB, dir, sub, suffix string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(dir, sub), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, suffix) {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// CopyDir copies the directory tree src to dst.
func CopyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Gunzip reads a gzip file.
func Gunzip(t testing.TB, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// WriteGzip writes b gzipped to path.
func WriteGzip(t testing.TB, path string, b []byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// otherKey is an RSA key that is not the chain's, made once.
var otherKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})
