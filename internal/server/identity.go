package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/coffer/coffer/internal/secret"
)

// Identity is the default account and the root access key requests may sign with on this run.
type Identity struct {
	AccountID string
	// DisplayName is the account's display name in S3 Owner elements (DefaultDisplayName if
	// credentials.json gives none).
	DisplayName string
	// AccessKey is the root access key of this run: COFFER_ACCESS_KEY when set, else the key
	// credentials.json names; "" when that key is no longer stored (deleted through IAM).
	AccessKey string
	// GeneratedSecret is the secret of a root key generated on this start, to be shown once;
	// zero otherwise. Only its sealed form is stored.
	GeneratedSecret secret.Bytes
}

// DefaultDisplayName is the account's display name when credentials.json names none.
const DefaultDisplayName = "coffer"

// credentialsName is the file in the data directory that names the default account.
const credentialsName = "credentials.json"

// credentialsFile is DIR/credentials.json: the default account and the id of the root access
// key made for it on first start. The secret itself is only in the IAM store, sealed.
// SecretKey is read from files written before secrets were sealed, to migrate them (see
// settleRootKey), and is never written.
type credentialsFile struct {
	AccountID   string `json:"account_id"`
	DisplayName string `json:"display_name,omitempty"`
	AccessKey   string `json:"access_key,omitempty"`
	SecretKey   string `json:"secret_key,omitempty"`
}

// readCredentials reads DIR/credentials.json; found is false when there is none.
func readCredentials(dir string) (f credentialsFile, found bool, err error) {
	path := filepath.Join(dir, credentialsName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return credentialsFile{}, false, nil
	}
	if err != nil {
		return credentialsFile{}, false, err
	}
	defer clear(data) // it may hold an old plaintext secret (best effort: the string copy stays)
	if err := json.Unmarshal(data, &f); err != nil || f.AccountID == "" {
		return credentialsFile{}, false, fmt.Errorf("%s is corrupt", path)
	}
	return f, true, nil
}

// writeCredentials replaces DIR/credentials.json atomically (mode 0600), never with a secret.
func writeCredentials(dir string, f credentialsFile) error {
	f.SecretKey = ""
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, credentialsName)
	if err := writeFileAtomic(path, append(out, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// displayName is the default account's display name.
func (f credentialsFile) displayName() string {
	if f.DisplayName == "" {
		return DefaultDisplayName
	}
	return f.DisplayName
}

// readIdentity returns the default account of an existing data directory, for tools that
// serve no requests.
func readIdentity(dir string) (credentialsFile, error) {
	f, found, err := readCredentials(dir)
	if err == nil && !found {
		err = fmt.Errorf("%s: %w", filepath.Join(dir, credentialsName), fs.ErrNotExist)
	}
	if err != nil {
		return credentialsFile{}, fmt.Errorf("%w (start the server on this directory once first)", err)
	}
	return f, nil
}
