package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/blob/fsblob"
	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsbolt"
	"github.com/coffer/coffer/internal/meta/boltmeta"
	"github.com/coffer/coffer/internal/sse"
)

// CheckReport is what Check found.
type CheckReport struct {
	Findings []string // one line each: something damaged or missing
	Notes    []string // worth knowing, not damage (a write intent the next start will sweep)
	Records  int      // blob references read
	Blobs    int      // blob files seen
}

// Check inspects the data directory of a stopped server without changing it: meta.db whole
// (pages, format record, every record), every blob a record names (present, of the recorded
// size), blobs that nothing names, the credentials, and every KMS key against the root key
// (rootKeyFile; "" means DIR/kms/root.key). A damaged file yields findings, never a crash.
func Check(ctx context.Context, dir, rootKeyFile string) (CheckReport, error) {
	return check(ctx, dir, rootKeyFile, nil)
}

// CheckHSMRoot is Check of a data directory whose KMS root key the HSM of h wraps
// (--kms-root-pkcs11).
func CheckHSMRoot(ctx context.Context, dir string, h *kms.RootHSM) (CheckReport, error) {
	return check(ctx, dir, "", h)
}

func check(ctx context.Context, dir, rootKeyFile string, rootHSM *kms.RootHSM) (CheckReport, error) {
	var r CheckReport
	find := func(s string) { r.Findings = append(r.Findings, s) }
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return r, fmt.Errorf("data directory %s: not a directory", dir)
	}
	checkCredentials(dir, &r)
	dbPath := filepath.Join(dir, "meta.db")
	db, err := boltfile.OpenReadOnly(dbPath)
	if err != nil {
		find(fmt.Sprintf("meta.db: %v", err))
		return r, nil
	}
	defer db.Close()
	if pages := boltfile.Verify(db, TopBuckets()); len(pages) > 0 {
		for _, p := range pages {
			find("meta.db: " + p)
		}
		return r, nil // records read from damaged pages would only repeat the damage
	}
	refs := map[string]boltmeta.BlobRef{}
	err = boltfile.Safely(func() error {
		return boltmeta.Check(db, find, func(ref boltmeta.BlobRef) {
			if old, ok := refs[ref.Blob]; ok && !old.Intent && !ref.Intent {
				find(fmt.Sprintf("blob %s is named by both %s and %s", ref.Blob, old.Where, ref.Where))
			}
			if !ref.Intent || refs[ref.Blob].Where == "" {
				refs[ref.Blob] = ref
			}
		})
	})
	if err != nil {
		find(fmt.Sprintf("meta.db: %v", err))
	}
	r.Records = len(refs)
	checkBlobs(ctx, dir, refs, &r)
	if err := boltfile.Safely(func() error { return checkKMS(ctx, db, dir, rootKeyFile, rootHSM, find) }); err != nil {
		find(fmt.Sprintf("kms: %v", err))
	}
	return r, nil
}

func checkCredentials(dir string, r *CheckReport) {
	f, found, err := readCredentials(dir)
	switch {
	case !found && err == nil:
		return // the environment may give the credentials
	case err != nil:
		r.Findings = append(r.Findings, err.Error())
	case f.SecretKey != "":
		r.Notes = append(r.Notes, credentialsName+" holds the root secret key in plaintext (written by an older Coffer); the next start stores it sealed and removes it from the file")
	}
}

// checkBlobs checks that every named blob is there with its recorded size, and reports blobs
// nothing names: never deleted by the server, they are left for the operator.
func checkBlobs(ctx context.Context, dir string, refs map[string]boltmeta.BlobRef, r *CheckReport) {
	blobs, err := fsblob.Inspect(filepath.Join(dir, "blobs"))
	if err != nil {
		if len(refs) > 0 {
			r.Findings = append(r.Findings, fmt.Sprintf("blobs: %v", err))
		}
		return
	}
	seen := map[string]bool{}
	var unnamed []string
	for _, prefix := range []string{"o/", "p/"} {
		err := blobs.List(ctx, prefix, func(name string, size int64) error {
			seen[name] = true
			ref, ok := refs[name]
			switch {
			case !ok:
				unnamed = append(unnamed, name)
			case ref.Intent:
				r.Notes = append(r.Notes, fmt.Sprintf("blob %s: an interrupted write; the next start deletes it", name))
			case size != storedSize(ref):
				r.Findings = append(r.Findings, fmt.Sprintf("blob %s of %s: %d bytes, the record says %d", name, ref.Where, size, storedSize(ref)))
			}
			return nil
		})
		if err != nil {
			r.Findings = append(r.Findings, fmt.Sprintf("blobs: %v", err))
		}
	}
	r.Blobs = len(seen)
	var missing []string
	for name, ref := range refs {
		if !seen[name] && !ref.Intent {
			missing = append(missing, fmt.Sprintf("blob %s of %s is missing", name, ref.Where))
		}
	}
	sort.Strings(missing)
	sort.Strings(unnamed)
	r.Findings = append(r.Findings, missing...)
	for _, name := range unnamed {
		r.Findings = append(r.Findings, fmt.Sprintf("blob %s: no record or intent names it (its metadata is lost or a delete failed); kept", name))
	}
}

// checkKMS reads every KMS record and unseals every key version with the root key.
func checkKMS(ctx context.Context, db *bolt.DB, dir, rootKeyFile string, rootHSM *kms.RootHSM, find func(string)) error {
	if err := kmsbolt.Check(db, find); err != nil {
		return err
	}
	if rootKeyFile == "" {
		rootKeyFile = filepath.Join(dir, "kms", "root.key")
	}
	store, err := kmsbolt.New(db)
	if err != nil {
		return err
	}
	wrapped := filepath.Join(dir, "kms", kms.WrappedRootKeyName)
	var root *kms.FileRootKey
	switch _, err := os.Stat(rootKeyFile); {
	case rootHSM != nil:
		root, err = kms.OpenWrappedRootKey(ctx, *rootHSM, wrapped, false)
		if err != nil {
			return err
		}
	case err != nil && rootFileExists(wrapped):
		return fmt.Errorf("the root key is wrapped by an HSM (%s): check with --kms-root-pkcs11", wrapped)
	case err != nil:
		// Never OpenFileRootKey a missing file: it would generate a new key.
		return fmt.Errorf("root key: %w (without it no stored key can be checked or used)", err)
	default:
		if root, err = kms.OpenFileRootKey(rootKeyFile); err != nil {
			return err
		}
	}
	cfg := kms.Config{Store: store, Root: root, Region: "us-east-1"}
	// Never OpenFileShredder a missing file either: it would create one. Without it, every
	// shredded key version is a finding.
	slotsFile := filepath.Join(dir, "kms", "shred.slots")
	if _, err := os.Stat(slotsFile); err == nil {
		sh, err := kms.OpenFileShredder(slotsFile, root) // read, never written, by the check
		if err != nil {
			find(err.Error())
		} else {
			defer sh.Close()
			cfg.Shredder = sh
		}
	}
	svc, err := kms.New(cfg)
	if err != nil {
		return err
	}
	return svc.CheckKeys(ctx, find)
}

// storedSize is the size a referenced blob must have: an encrypted blob holds the ciphertext
// of the plaintext size its record gives.
func storedSize(ref boltmeta.BlobRef) int64 {
	if !ref.Encrypted {
		return ref.Size
	}
	n, err := sse.CiphertextSize(ref.Size)
	if err != nil {
		return -1
	}
	return n
}
