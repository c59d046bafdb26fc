package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsbolt"
)

// kmsRootPaths are where a data directory's KMS root key may be: plain is the plaintext file
// (--kms-root-key-file, or DIR/kms/root.key), wrapped the file an HSM wraps.
type kmsRootPaths struct {
	plain, wrapped string
}

func rootPaths(cfg Config) kmsRootPaths {
	p := kmsRootPaths{plain: cfg.KMSRootKeyFile, wrapped: filepath.Join(cfg.Dir, "kms", kms.WrappedRootKeyName)}
	if p.plain == "" {
		p.plain = filepath.Join(cfg.Dir, "kms", "root.key")
	}
	return p
}

// openKMSRoot opens the KMS root key: unwrapped by the HSM of cfg.KMSRootHSM, or read from its
// file, either made on a first start. It refuses a start where both could apply, and a new
// wrapped root key over a store whose keys were sealed under another (its canary says so), so
// that a root key is never made beside the one the stored keys need.
func openKMSRoot(ctx context.Context, cfg Config, store kms.Store) (*kms.FileRootKey, error) {
	p := rootPaths(cfg)
	if err := checkRootUnambiguous(cfg, p); err != nil {
		return nil, err
	}
	if cfg.KMSRootKeyFile == "" {
		if err := os.MkdirAll(filepath.Dir(p.plain), 0o700); err != nil {
			return nil, fmt.Errorf("kms: %w", err)
		}
		if err := syncDir(cfg.Dir); err != nil { // the new kms/ entry outlives a crash
			return nil, fmt.Errorf("kms: %w", err)
		}
	}
	if cfg.KMSRootHSM != nil {
		canary, err := store.Canary(ctx)
		if err != nil {
			return nil, fmt.Errorf("kms: reading the root-key canary: %w", err)
		}
		// A store from before root-key canaries has keys but no canary: its keys, too, need
		// the root key they were sealed under, never a new one.
		sealed := canary != nil
		if !sealed {
			if sealed, err = holdsKeys(ctx, store); err != nil {
				return nil, err
			}
		}
		if sealed && !rootFileExists(p.wrapped) {
			return nil, fmt.Errorf("kms: the stored keys are sealed under a root key, but %s, where the HSM keeps it wrapped, is missing: restore it (or, if the root key is a file, start without --kms-root-pkcs11, or move it into the HSM with `coffer admin kms-root wrap`)", p.wrapped)
		}
		return kms.OpenWrappedRootKey(ctx, *cfg.KMSRootHSM, p.wrapped, !sealed)
	}
	return kms.OpenFileRootKey(p.plain)
}

// holdsKeys reports whether store holds any key record. Records that cannot be read, and
// nothing else, make it an error: they, too, were written under a root key.
func holdsKeys(ctx context.Context, store kms.Store) (bool, error) {
	found := false
	err := store.ScanKeys(ctx, func(*kms.Key) bool {
		found = true
		return false
	})
	if err != nil && !found {
		return false, fmt.Errorf("kms: reading the stored keys, to tell whether a new root key may be made: %w", err)
	}
	return found, nil
}

func checkRootUnambiguous(cfg Config, p kmsRootPaths) error {
	switch {
	case cfg.KMSRootHSM != nil && cfg.KMSRootKeyFile != "":
		return errors.New("kms: give --kms-root-key-file or --kms-root-pkcs11, not both")
	case cfg.KMSRootHSM != nil && rootFileExists(p.plain):
		return fmt.Errorf("kms: %s holds a plaintext root key: move it into the HSM with `coffer admin kms-root wrap`, or start without --kms-root-pkcs11", p.plain)
	case cfg.KMSRootHSM != nil && rootFileExists(p.plain+kms.ShreddingSuffix):
		return fmt.Errorf("kms: an interrupted `coffer admin kms-root wrap` left %s, which may still hold the plaintext root key: run `coffer admin kms-root wrap` again to remove it",
			p.plain+kms.ShreddingSuffix)
	case cfg.KMSRootHSM == nil && rootFileExists(p.wrapped):
		return fmt.Errorf("kms: the root key of %s is wrapped by an HSM (%s): start with --kms-root-pkcs11, or take it out with `coffer admin kms-root unwrap`: %w",
			cfg.Dir, p.wrapped, kms.ErrRootKeyWrapped)
	}
	return nil
}

func rootFileExists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// WrapKMSRoot moves the KMS root key of a stopped server's data directory into the HSM of
// cfg.KMSRootHSM: the plaintext file (cfg.KMSRootKeyFile, or DIR/kms/root.key) is checked to
// open the stored keys, written wrapped to DIR/kms/root.key.wrapped, then overwritten and
// removed.
func WrapKMSRoot(ctx context.Context, cfg Config) error {
	h := cfg.KMSRootHSM
	if h == nil {
		return errors.New("kms: --kms-root-pkcs11 is required")
	}
	p := rootPaths(cfg)
	if !rootFileExists(p.plain) && rootFileExists(p.wrapped) {
		// An interrupted run may have left the plaintext file to finish removing.
		if resumed, err := kms.ResumeShred(p.plain); err != nil || resumed {
			return err
		}
	}
	if !rootFileExists(p.plain) {
		if rootFileExists(p.wrapped) {
			return fmt.Errorf("kms: the root key is already wrapped (%s), and %s does not exist", p.wrapped, p.plain)
		}
		return fmt.Errorf("kms: no root key file %s to wrap", p.plain)
	}
	// Proven also when the wrapped file exists (an interrupted run, or a file copied in):
	// WrapRootKeyFile then only checks that both hold one key, not that it is the store's.
	root, err := kms.OpenFileRootKey(p.plain)
	if err != nil {
		return err
	}
	if err := provenRoot(ctx, cfg, root); err != nil {
		return err
	}
	return kms.WrapRootKeyFile(ctx, *h, p.plain, p.wrapped)
}

// UnwrapKMSRoot takes the KMS root key of a stopped server's data directory out of the HSM of
// cfg.KMSRootHSM: the wrapped key is checked to open the stored keys, written to the
// plaintext file (cfg.KMSRootKeyFile, or DIR/kms/root.key), and the wrapped file removed.
func UnwrapKMSRoot(ctx context.Context, cfg Config) error {
	h := cfg.KMSRootHSM
	if h == nil {
		return errors.New("kms: --kms-root-pkcs11 is required")
	}
	p := rootPaths(cfg)
	if !rootFileExists(p.wrapped) {
		return fmt.Errorf("kms: no wrapped root key %s to unwrap", p.wrapped)
	}
	if !rootFileExists(p.plain) {
		c := cfg
		c.KMSRootKeyFile = ""
		if err := checkRootUnambiguous(c, rootPaths(c)); err != nil { // an interrupted wrap's leftover
			return err
		}
		root, err := kms.OpenWrappedRootKey(ctx, *h, p.wrapped, false)
		if err != nil {
			return err
		}
		if err := provenRoot(ctx, cfg, root); err != nil {
			return err
		}
	}
	return kms.UnwrapRootKeyFile(ctx, *h, p.wrapped, p.plain)
}

// provenRoot checks that root opens the stored keys of a stopped server's data directory
// (the root-key canary, SPEC.md §2.1; a store without one gets one, as at a start).
func provenRoot(ctx context.Context, cfg Config, root kms.RootKey) error {
	db, err := boltfile.Open(filepath.Join(cfg.Dir, "meta.db"), TopBuckets())
	if err != nil {
		return fmt.Errorf("metadata store (is the server still running?): %w", err)
	}
	defer db.Close()
	store, err := kmsbolt.New(db)
	if err != nil {
		return fmt.Errorf("kms store: %w", err)
	}
	svc, err := kms.New(kms.Config{Store: store, Root: root, Region: cmp.Or(cfg.Region, "us-east-1"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	return svc.CheckRoot(ctx)
}
