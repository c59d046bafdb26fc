package kms

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
)

// TestConcurrentUse encrypts and decrypts from many goroutines while the key is rotated,
// disabled and re-enabled; run with -race it checks the cache and the write path.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	root, err := OpenFileRootKey(filepath.Join(t.TempDir(), "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Store: newMemStore(), Root: root, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	c := Caller{Account: "111122223333", ARN: "arn:aws:iam::111122223333:root"}
	m, err := s.CreateKey(ctx, c, CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				pt := []byte{byte(g), byte(i)}
				enc, err := s.Encrypt(ctx, c, EncryptInput{KeyId: m.KeyId, Plaintext: pt})
				if errors.Is(err, ErrDisabled) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				dec, err := s.Decrypt(ctx, c, DecryptInput{CiphertextBlob: enc.CiphertextBlob})
				if errors.Is(err, ErrDisabled) {
					continue
				}
				if err != nil || !bytes.Equal(dec.Plaintext, pt) {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 10; i++ {
			if _, err := s.RotateKeyOnDemand(ctx, c, m.KeyId); err != nil {
				errs <- err
				return
			}
			if err := s.DisableKey(ctx, c, m.KeyId); err != nil {
				errs <- err
				return
			}
			if err := s.EnableKey(ctx, c, m.KeyId); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	k, _ := s.load(ctx, m.KeyId)
	if len(k.key.Versions) != 11 {
		t.Fatalf("%d versions after 10 rotations", len(k.key.Versions))
	}
}
