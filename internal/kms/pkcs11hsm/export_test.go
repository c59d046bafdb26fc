//go:build cgo

package pkcs11hsm

import "github.com/coffer/coffer/internal/kms"

// OpenSessions is the number of sessions tok's pool holds open and idle.
func OpenSessions(tok kms.HSMToken) int { return len(tok.(*token).idle) }
