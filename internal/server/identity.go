package server

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
)

// Identity is the default account and its root access key.
type Identity struct {
	AccountID string `json:"account_id"`
	// DisplayName is the account's display name in S3 Owner elements (DefaultDisplayName if
	// credentials.json gives none).
	DisplayName string `json:"display_name,omitempty"`
	AccessKey   string `json:"access_key"`
	SecretKey   string `json:"secret_key"`
	// Generated is true when the key was made on this start and should be shown once.
	Generated bool `json:"-"`
}

// LoadIdentity returns the root identity kept in DIR/credentials.json, creating it on first
// start. accessKey/secretKey, when both set (from the environment), replace the stored key
// for this run without being written to disk.
func LoadIdentity(dir, accessKey, secretKey string) (Identity, error) {
	if (accessKey == "") != (secretKey == "") {
		return Identity{}, errors.New("set both COFFER_ACCESS_KEY and COFFER_SECRET_KEY, or neither")
	}
	path := filepath.Join(dir, "credentials.json")
	var id Identity
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &id); err != nil || id.AccountID == "" {
			return Identity{}, fmt.Errorf("%s is corrupt", path)
		}
	case errors.Is(err, os.ErrNotExist):
		id = Identity{AccountID: randomDigits(12)}
		if accessKey == "" {
			id.AccessKey, id.SecretKey, id.Generated = "AK"+randomFrom(upperAlnum, 18), randomFrom(base62, 40), true
		}
		out, _ := json.MarshalIndent(id, "", "  ")
		if err := writeFileAtomic(path, append(out, '\n'), 0o600); err != nil {
			return Identity{}, fmt.Errorf("write %s: %w", path, err)
		}
	default:
		return Identity{}, err
	}
	if accessKey != "" {
		id.AccessKey, id.SecretKey, id.Generated = accessKey, secretKey, false
	}
	if id.AccessKey == "" {
		return Identity{}, fmt.Errorf("%s holds no access key and COFFER_ACCESS_KEY is unset", path)
	}
	if id.DisplayName == "" {
		id.DisplayName = DefaultDisplayName
	}
	return id, nil
}

// DefaultDisplayName is the account's display name when credentials.json names none.
const DefaultDisplayName = "coffer"

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	base62     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

func randomFrom(alphabet string, n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		v, _ := rand.Int(rand.Reader, max)
		b[i] = alphabet[v.Int64()]
	}
	return string(b)
}

func randomDigits(n int) string {
	s := randomFrom("0123456789", n)
	if s[0] == '0' {
		s = "1" + s[1:]
	}
	return s
}

// readIdentity returns the default account of an existing data directory, whether or not
// credentials.json holds its root key.
func readIdentity(dir string) (Identity, error) {
	path := filepath.Join(dir, "credentials.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return Identity{}, fmt.Errorf("%w (start the server on this directory once first)", err)
	}
	var id Identity
	if err := json.Unmarshal(data, &id); err != nil || id.AccountID == "" {
		return Identity{}, fmt.Errorf("%s is corrupt", path)
	}
	if id.DisplayName == "" {
		id.DisplayName = DefaultDisplayName
	}
	return id, nil
}
