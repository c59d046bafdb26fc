package main

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
)

// maxSecretFileSize bounds a secret file: it holds one key.
const maxSecretFileSize = 4096

// readSecretFile reads a secret from path, as systemd's LoadCredential= or an operator writes
// it: one value, a trailing newline dropped. A file that group or others may read is refused,
// for its secret is no longer ours alone. Errors never hold the file's content.
func readSecretFile(path string) (string, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("%s may be read by group or others (mode %04o): chmod 600 it", path, perm)
	}
	data, err := io.ReadAll(io.LimitReader(file, maxSecretFileSize+1))
	if err != nil {
		return "", err
	}
	defer clear(data) // best effort: the string returned is a copy the GC may keep
	if len(data) > maxSecretFileSize {
		return "", fmt.Errorf("%s is larger than %d bytes: not a key", path, maxSecretFileSize)
	}
	v := bytes.TrimSuffix(data, []byte("\n"))
	v = bytes.TrimSuffix(v, []byte("\r"))
	if len(v) == 0 {
		return "", fmt.Errorf("%s is empty", path)
	}
	return string(v), nil
}

// holdsSecret reports whether a setting's value carries a secret: a URL with a password, or a
// password=/pin= field of a key=value list (separated by spaces or commas).
func holdsSecret(v string) bool {
	return redactSecret(v) != v
}

// redactSecret returns v with the secret it carries, if any, replaced by REDACTED.
func redactSecret(v string) string {
	if u, err := url.Parse(v); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "REDACTED")
			return u.String()
		}
	}
	// The key=value fields whose value is a secret: a PostgreSQL connection string's
	// password=, an HSM's pin=.
	secretFieldNames := []string{"password=", "pin="}
	fields := strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' })
	for _, f := range fields {
		for _, name := range secretFieldNames {
			if len(f) > len(name) && strings.EqualFold(f[:len(name)], name) {
				v = strings.Replace(v, f, f[:len(name)]+"REDACTED", 1)
			}
		}
	}
	return v
}
