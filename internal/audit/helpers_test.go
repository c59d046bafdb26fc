package audit

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// loadKey reads an RSA test key from testdata.
func loadKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testSigner is the fixed test key as a Signer, published under dir/keys.
func testSigner(t testing.TB, dir, name string) Signer {
	t.Helper()
	s := NewRSASigner(loadKey(t, name), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err := publishKey(filepath.Join(dir, keysDir), s.PublicKey()); err != nil {
		t.Fatal(err)
	}
	return s
}

// openTest opens a Writer on dir with the test key and clk.
func openTest(t testing.TB, dir string, clk *clock, mod ...func(*Config)) *Writer {
	t.Helper()
	cfg := Config{Dir: dir, Region: "us-east-1", AccountID: "111122223333", Signer: testSigner(t, dir, "test-key.pem"), Now: clk.Now}
	for _, m := range mod {
		m(&cfg)
	}
	w, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// sampleEvent is a KMS Decrypt record of user alice.
func sampleEvent(i int) *Event {
	return &Event{
		UserIdentity:       UserIdentity{Type: "IAMUser", UserName: "alice", AccountID: "111122223333", AccessKeyID: "AKIAALICE"},
		EventSource:        SourceKMS,
		EventName:          "Decrypt",
		AWSRegion:          "us-east-1",
		SourceIPAddress:    "127.0.0.1",
		UserAgent:          "test",
		RequestParameters:  map[string]any{"keyId": "key-1", "n": float64(i)},
		RequestID:          "req",
		ReadOnly:           true,
		Resources:          []Resource{{AccountID: "111122223333", Type: "AWS::KMS::Key", ARN: "arn:aws:kms:us-east-1:111122223333:key/key-1"}},
		EventType:          TypeAPICall,
		ManagementEvent:    true,
		RecipientAccountID: "111122223333",
		EventCategory:      CategoryManagement,
	}
}

// record writes n sample events numbered from first.
func record(t testing.TB, w *Writer, first, n int) {
	t.Helper()
	for i := first; i < first+n; i++ {
		if err := w.Record(context.Background(), sampleEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
}

// eventNumbers returns the "n" request parameter of the records w.Events gives, newest first.
func eventNumbers(t testing.TB, w *Writer) []int {
	t.Helper()
	var out []int
	if err := w.Events(context.Background(), Filter{}, func(e *Event) bool {
		out = append(out, int(e.RequestParameters["n"].(float64)))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// numbers returns the "n" request parameter of the records f selects in dir, newest first.
func numbers(t testing.TB, dir string) []int {
	t.Helper()
	var out []int
	err := Query(dir, Filter{}, func(e *Event) bool {
		out = append(out, int(e.RequestParameters["n"].(float64)))
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
