package kms

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// RootHSM says where the root key's wrapping key lives (`coffer server --kms-root-pkcs11`):
// a non-extractable AES-256 key on an HSM that unwraps the root key at start (SPEC.md §7).
type RootHSM struct {
	HSMs HSMs
	// Name is the HSM of HSMs that holds the wrapping key.
	Name string
	// KeyLabel labels the wrapping key; "" means the label the wrapped file names, or
	// DefaultRootWrapLabel for a new one.
	KeyLabel string
}

// DefaultRootWrapLabel is the label of the root key's wrapping key when none is given.
const DefaultRootWrapLabel = "coffer-kms-root"

// WrappedRootKeyName is the file name, in DIR/kms, of the root key wrapped by an HSM.
const WrappedRootKeyName = "root.key.wrapped"

// ErrRootKeyWrapped says that a root key exists only wrapped, where a plaintext file was
// expected, or the reverse.
var ErrRootKeyWrapped = errors.New("kms: the root key is wrapped by an HSM")

const wrappedVersion = 0x01

var wrappedMagic = [4]byte{'c', 'k', 'r', 'w'}

// OpenWrappedRootKey unwraps the root key of the file at path in the HSM. When there is no
// such file and create is true, it makes a new root key (and a wrapping key, when the token
// has none of that label) and writes it wrapped to path; the plaintext root key only ever
// lives in memory.
func OpenWrappedRootKey(ctx context.Context, h RootHSM, path string, create bool) (*FileRootKey, error) {
	tok, err := h.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer tok.Close()
	var key []byte
	if create && missingOrTorn(path) {
		key = make([]byte, 32)
		rand.Read(key)
		if err := h.writeWrapped(ctx, tok, path, key); err != nil {
			return nil, err
		}
	} else if key, err = h.unwrapFile(ctx, tok, path); err != nil {
		return nil, err
	}
	defer clear(key) // best effort: the AES key schedule keeps its own copy
	return newFileRootKey(key)
}

// WrapRootKeyFile moves the plaintext root key of plainPath under the HSM: it writes it
// wrapped to wrappedPath, checks that it unwraps to the same key, then overwrites plainPath,
// removes it and syncs its directory. It may be run again after an interruption.
func WrapRootKeyFile(ctx context.Context, h RootHSM, plainPath, wrappedPath string) error {
	key, err := readRootKeyFile(plainPath)
	if err != nil {
		return err
	}
	defer clear(key)
	tok, err := h.connect(ctx)
	if err != nil {
		return err
	}
	defer tok.Close()
	if missingOrTorn(wrappedPath) {
		if err := h.writeWrapped(ctx, tok, wrappedPath, key); err != nil {
			return err
		}
	}
	got, err := h.unwrapFile(ctx, tok, wrappedPath)
	if err != nil {
		return err
	}
	defer clear(got)
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return fmt.Errorf("kms: %s wraps another root key than %s: remove neither, and find out which the stored keys need (coffer admin check)", wrappedPath, plainPath)
	}
	return shredFile(plainPath)
}

// UnwrapRootKeyFile takes the root key out of the HSM: it writes the key that wrappedPath
// wraps to plainPath (mode 0600), then removes wrappedPath. The wrapping key stays on the
// token. It may be run again after an interruption.
func UnwrapRootKeyFile(ctx context.Context, h RootHSM, wrappedPath, plainPath string) error {
	tok, err := h.connect(ctx)
	if err != nil {
		return err
	}
	defer tok.Close()
	key, err := h.unwrapFile(ctx, tok, wrappedPath)
	if err != nil {
		return err
	}
	defer clear(key)
	old, err := readRootKeyFile(plainPath)
	switch {
	case err == nil:
		same := subtle.ConstantTimeCompare(old, key) == 1
		clear(old)
		if !same {
			return fmt.Errorf("kms: %s exists and holds another root key than %s wraps", plainPath, wrappedPath)
		}
	case tornRootKeyFile(plainPath):
		// An interrupted run's partial write: no root key, so nothing to keep.
		if err := overwriteRemove(plainPath); err != nil {
			return err
		}
		fallthrough
	case errors.Is(err, fs.ErrNotExist):
		if err := writeNewFile(plainPath, key); err != nil {
			return fmt.Errorf("kms: writing the root key to %s: %w", plainPath, err)
		}
	default:
		return err
	}
	if err := os.Remove(wrappedPath); err != nil {
		return fmt.Errorf("kms: %w", err)
	}
	return syncParent(wrappedPath)
}

func (h RootHSM) connect(ctx context.Context) (HSMToken, error) {
	if h.HSMs == nil {
		return nil, errors.New("kms: no HSM is configured for the root key")
	}
	tok, err := h.HSMs.Connect(ctx, h.Name)
	if err != nil {
		return nil, fmt.Errorf("kms: the HSM of the root key: %s: %w", rootHSMProblem(err), err)
	}
	return tok, nil
}

// rootHSMProblem names, for an operator, why the root key's HSM cannot be used.
func rootHSMProblem(err error) string {
	switch {
	case errors.Is(err, ErrHSMCredentials):
		return "the token refused the PIN (check pin-file= or pin-env=)"
	case errors.Is(err, ErrHSMLockedOut):
		return "the token's crypto user is locked out"
	case errors.Is(err, ErrHSMNotFound):
		return "the token is missing (check token= or slot=, and the module)"
	case errors.Is(err, ErrHSMUnreachable):
		return "the HSM cannot be reached"
	}
	return "the HSM failed"
}

func (h RootHSM) label() string {
	if h.KeyLabel == "" {
		return DefaultRootWrapLabel
	}
	return h.KeyLabel
}

// missingOrTorn reports whether there is no wrapped root key file at path, removing one that a
// crash cut short while writeWrapped wrote it (a prefix of the format, shorter than its header
// declares): it holds no key, and writeWrapped makes a new file.
func missingOrTorn(path string) bool {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	head := append(wrappedMagic[:], wrappedVersion)
	switch {
	case err != nil, len(b) < len(head) && !bytes.HasPrefix(head, b), len(b) >= len(head) && !bytes.HasPrefix(b, head):
		return false // unreadable, or not this format: unwrapFile says so
	case len(b) > len(head) && len(b) >= 6+int(b[5])+12+32+16:
		return false // whole
	}
	return os.Remove(path) == nil
}

// writeWrapped seals key under the wrapping key, which it generates when the token has none,
// and writes the wrapped form to a new file at path (SPEC.md §7).
func (h RootHSM) writeWrapped(ctx context.Context, tok HSMToken, path string, key []byte) error {
	label := h.label()
	if len(label) > 255 {
		return fmt.Errorf("kms: the root wrapping key label is longer than 255 bytes")
	}
	head := append(wrappedMagic[:], wrappedVersion, byte(len(label)))
	head = append(head, label...)
	nonce := make([]byte, 12)
	rand.Read(nonce)
	sealed, err := tok.Seal(ctx, label, nonce, head, key)
	if errors.Is(err, ErrHSMKeyNotFound) {
		if err = tok.GenerateKey(ctx, label); err == nil {
			sealed, err = tok.Seal(ctx, label, nonce, head, key)
		}
	}
	if err != nil {
		return fmt.Errorf("kms: wrapping the root key in the HSM: %w", err)
	}
	out := append(append(head, nonce...), sealed...)
	if err := writeNewFile(path, out); err != nil {
		return fmt.Errorf("kms: writing the wrapped root key %s: %w", path, err)
	}
	return nil
}

// unwrapFile reads the wrapped root key at path and unwraps it in the HSM.
func (h RootHSM) unwrapFile(ctx context.Context, tok HSMToken, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kms: the wrapped root key: %w", err)
	}
	if len(b) < 6 || [4]byte(b[0:4]) != wrappedMagic || b[4] != wrappedVersion || len(b) != 6+int(b[5])+12+32+16 {
		return nil, fmt.Errorf("kms: %s is not a wrapped root key of version %d", path, wrappedVersion)
	}
	n := int(b[5])
	label := string(b[6 : 6+n])
	if h.KeyLabel != "" && h.KeyLabel != label {
		return nil, fmt.Errorf("kms: %s is wrapped by the HSM key labelled %q, not key-label=%s", path, label, h.KeyLabel)
	}
	key, err := tok.Open(ctx, label, b[6+n:18+n], b[:6+n], b[18+n:])
	switch {
	case errors.Is(err, ErrHSMKeyNotFound):
		return nil, fmt.Errorf("kms: the HSM has no key labelled %q, which wraps the root key in %s (is this the right token?): %w", label, path, err)
	case errors.Is(err, ErrHSMDecrypt):
		return nil, fmt.Errorf("kms: the HSM key labelled %q does not unwrap %s (replaced key, or damaged file): %w", label, path, ErrSealedCorrupt)
	case err != nil:
		return nil, fmt.Errorf("kms: unwrapping the root key in the HSM: %w", err)
	}
	if len(key) != 32 {
		clear(key)
		return nil, fmt.Errorf("kms: %s wraps %d bytes, not a root key", path, len(key))
	}
	return key, nil
}

// readRootKeyFile reads an existing plaintext root key file, which must be a regular file of
// mode 0600 or stricter holding 32 bytes.
func readRootKeyFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("kms: root key: %w", err)
	}
	if !st.Mode().IsRegular() || st.Size() != 32 {
		return nil, fmt.Errorf("kms: root key %s is not a regular file of 32 bytes", path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("kms: root key %s is accessible to others (mode %04o); chmod 600 it", path, st.Mode().Perm())
	}
	key, err := os.ReadFile(path)
	if err != nil || len(key) != 32 {
		clear(key)
		return nil, fmt.Errorf("kms: root key %s: unreadable or not 32 bytes: %v", path, err)
	}
	return key, nil
}

// ShreddingSuffix is added to a plaintext root key file's name while WrapRootKeyFile
// overwrites and removes it: a crash then leaves the file under that name, never a
// half-overwritten root key under its own, and ResumeShred finishes the removal.
const ShreddingSuffix = ".shredding"

// tornRootKeyFile reports whether path is a regular file shorter than a root key: what a crash
// during writeNewFile leaves.
func tornRootKeyFile(path string) bool {
	st, err := os.Lstat(path)
	return err == nil && st.Mode().IsRegular() && st.Size() < 32
}

// shredFile takes path's name away (renaming it to path+ShreddingSuffix, and syncing the
// directory), then overwrites the file with random bytes, syncs it, removes it and syncs the
// directory. Best effort: a copy-on-write or journalling file system, or a flash device, may
// keep the old blocks.
func shredFile(path string) error {
	doomed := path + ShreddingSuffix
	if err := os.Rename(path, doomed); err != nil {
		return fmt.Errorf("kms: removing %s: %w", path, err)
	}
	if err := syncParent(path); err != nil {
		return fmt.Errorf("kms: removing %s: %w", path, err)
	}
	return overwriteRemove(doomed)
}

// ResumeShred finishes the removal of the plaintext root key file path that an interrupted
// WrapRootKeyFile left as path+ShreddingSuffix, if there is one, and reports whether there was.
func ResumeShred(path string) (bool, error) {
	doomed := path + ShreddingSuffix
	if _, err := os.Lstat(doomed); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return true, overwriteRemove(doomed)
}

// overwriteRemove overwrites a file with random bytes, syncs it, removes it and syncs its
// directory.
func overwriteRemove(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("kms: removing %s: %w", path, err)
	}
	st, err := f.Stat()
	if err == nil {
		noise := make([]byte, st.Size())
		rand.Read(noise)
		_, err = f.WriteAt(noise, 0)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Remove(path)
	}
	if err != nil {
		return fmt.Errorf("kms: removing %s: %w", path, err)
	}
	return syncParent(path)
}
