package kms_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsbolt"
	bolt "go.etcd.io/bbolt"
)

// pausingStore pauses the first GetKey of id after it has read the record.
type pausingStore struct {
	*kmsbolt.Store
	mu      sync.Mutex
	armed   bool
	read    chan struct{}
	release chan struct{}
}

func (p *pausingStore) GetKey(ctx context.Context, id string) (*kms.Key, error) {
	k, err := p.Store.GetKey(ctx, id)
	p.mu.Lock()
	armed := p.armed
	p.armed = false
	p.mu.Unlock()
	if armed {
		close(p.read)
		<-p.release
	}
	return k, err
}

// A key destroyed by the scheduler while a request is loading it stays in the cache for ever.
func TestReviewGhostKeyAfterDestroy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var mu sync.Mutex
	now := time.Now().UTC()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bs, _ := kmsbolt.New(db)
	root, _ := kms.OpenFileRootKey(filepath.Join(dir, "root.key"))
	ps := &pausingStore{Store: bs, read: make(chan struct{}), release: make(chan struct{})}
	s, _ := kms.New(kms.Config{Store: ps, Root: root, Region: "us-east-1", Now: clock})
	m, err := s.CreateKey(ctx, alice, kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	// Use a fresh service over the same store so the key is not cached yet.
	s2, _ := kms.New(kms.Config{Store: ps, Root: root, Region: "us-east-1", Now: clock})
	if _, err := s2.ScheduleKeyDeletion(ctx, alice, m.KeyId, 7); err != nil {
		t.Fatal(err)
	}
	s3, _ := kms.New(kms.Config{Store: ps, Root: root, Region: "us-east-1", Now: clock})
	mu.Lock()
	now = now.Add(8 * 24 * time.Hour)
	mu.Unlock()
	ps.mu.Lock()
	ps.armed = true
	ps.mu.Unlock()
	done := make(chan error)
	go func() { _, err := s3.DescribeKey(ctx, alice, m.KeyId); done <- err }()
	<-ps.read
	go func() { <-time.After(0) }()
	tickErr := make(chan error)
	go func() { tickErr <- s3.Tick(ctx) }()
	if err := <-tickErr; err != nil {
		t.Fatal(err)
	}
	close(ps.release)
	<-done
	if _, err := bs.GetKey(ctx, m.KeyId); err == nil {
		t.Fatal("key not destroyed")
	}
	md, err := s3.DescribeKey(ctx, alice, m.KeyId)
	if err == nil {
		t.Fatalf("destroyed key still described from cache: state %s", md.KeyState)
	}
}

// A missing required algorithm is a ValidationException, as in AWS, before the key is looked at.
func TestMissingAlgorithmIsValidation(t *testing.T) {
	ctx := context.Background()
	s, db := newSvc(t, t.TempDir(), nil)
	defer db.Close()
	for name, call := range map[string]func() error{
		"Sign": func() error {
			_, err := s.Sign(ctx, alice, kms.SignInput{KeyId: "alias/none", Message: []byte("m")})
			return err
		},
		"GenerateMac": func() error {
			_, err := s.GenerateMac(ctx, alice, kms.MacInput{KeyId: "alias/none", Message: []byte("m")})
			return err
		},
	} {
		if err := call(); !errors.Is(err, kms.ErrValidation) {
			t.Errorf("%s without an algorithm: %v, want ValidationException", name, err)
		}
	}
}
