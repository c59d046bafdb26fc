//go:build cgo

package pkcs11hsm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/pkcs11hsm"
	"github.com/coffer/coffer/internal/kms/pkcs11hsm/softhsmtest"
)

// login connects to cfg's token, until the test ends.
func login(t testing.TB, cfg pkcs11hsm.Config) kms.HSMToken {
	t.Helper()
	hsms, err := pkcs11hsm.New([]pkcs11hsm.Config{cfg})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := hsms.Connect(context.Background(), cfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tok.Close() })
	return tok
}

// connect logs in to cfg's token and makes an AES key labelled "k" on it.
func connect(t testing.TB, cfg pkcs11hsm.Config) kms.HSMToken {
	t.Helper()
	tok := login(t, cfg)
	if err := tok.GenerateKey(context.Background(), "k"); err != nil {
		t.Fatal(err)
	}
	return tok
}

// roundTrip seals and opens one message under "k".
func roundTrip(ctx context.Context, tok kms.HSMToken, i int) error {
	iv := make([]byte, 12)
	iv[0] = byte(i)
	msg := []byte(fmt.Sprintf("message %d", i))
	sealed, err := tok.Seal(ctx, "k", iv, []byte("aad"), msg)
	if err != nil {
		return err
	}
	pt, err := tok.Open(ctx, "k", iv, []byte("aad"), sealed)
	if err != nil {
		return err
	}
	if !bytes.Equal(pt, msg) {
		return fmt.Errorf("opened %q, sealed %q", pt, msg)
	}
	return nil
}

// TestTokenSessionPool runs many operations at once on one token: each must succeed, and the
// pool must have opened more than one session (one session would serialise them) but never
// more than its bound.
func TestTokenSessionPool(t *testing.T) {
	cfg := softhsmtest.Token(t, "cluster-poolpoolpool", "pool")
	cfg.Sessions = 4
	tok := connect(t, cfg)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if err := roundTrip(context.Background(), tok, i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := pkcs11hsm.OpenSessions(tok); n < 2 || n > cfg.Sessions {
		t.Fatalf("the pool holds %d sessions after parallel use; want 2 to %d", n, cfg.Sessions)
	}
}

// TestTokenReset closes every session of the process on the token behind the pool's back, as
// a token reset does: the next operation must log in again on a new session and succeed; when
// the login is then refused, operations fail as kms.ErrHSMCredentials, and a closed token as
// kms.ErrHSMDisconnected.
func TestTokenReset(t *testing.T) {
	cfg := softhsmtest.Token(t, "cluster-resetresetre", "reset")
	tok := connect(t, cfg)
	ctx := context.Background()
	if err := roundTrip(ctx, tok, 1); err != nil {
		t.Fatal(err)
	}
	t.Run("reset", func(t *testing.T) {
		softhsmtest.Reset(t, cfg)
		if err := roundTrip(ctx, tok, 2); err != nil {
			t.Fatalf("after a reset: %v", err)
		}
	})
	t.Run("reset, then the PIN refused", func(t *testing.T) {
		if err := os.WriteFile(cfg.PINFile, []byte("not-the-pin\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		softhsmtest.Reset(t, cfg)
		if err := roundTrip(ctx, tok, 3); !errors.Is(err, kms.ErrHSMCredentials) {
			t.Fatalf("err = %v, want ErrHSMCredentials", err)
		}
		if err := os.WriteFile(cfg.PINFile, []byte(softhsmtest.PIN+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := roundTrip(ctx, tok, 4); err != nil {
			t.Fatalf("with the PIN right again: %v", err)
		}
	})
	t.Run("closed", func(t *testing.T) {
		tok.Close()
		if err := roundTrip(ctx, tok, 5); !errors.Is(err, kms.ErrHSMDisconnected) {
			t.Fatalf("err = %v, want ErrHSMDisconnected", err)
		}
	})
}

// BenchmarkTokenSeal measures Seal and Open on one token from parallel goroutines, with a pool
// of one session (what a store had before the pool) and of DefaultSessions.
func BenchmarkTokenSeal(b *testing.B) {
	for _, n := range []int{1, pkcs11hsm.DefaultSessions} {
		b.Run(fmt.Sprintf("sessions-%d", n), func(b *testing.B) {
			cfg := softhsmtest.Token(b, "cluster-benchbenchbe", "bench")
			cfg.Sessions = n
			tok := connect(b, cfg)
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					if err := roundTrip(context.Background(), tok, i); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
