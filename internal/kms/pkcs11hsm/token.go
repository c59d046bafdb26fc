//go:build cgo

package pkcs11hsm

import (
	"context"
	"fmt"
	"sync"

	"github.com/coffer/coffer/internal/kms"
	"github.com/miekg/pkcs11"
)

// gcmTagBits is the AES-GCM tag length of every seal.
const gcmTagBits = 128

// token is a logged-in session on one HSM token. A PKCS#11 session runs one operation at a
// time, so mu serialises them.
type token struct {
	name    string
	p       *pkcs11.Ctx
	release func()

	mu      sync.Mutex // guards sess, handles and closed
	sess    pkcs11.SessionHandle
	handles map[string]pkcs11.ObjectHandle // key label → object, found once
	closed  bool
}

var _ kms.HSMToken = (*token)(nil)

// openToken finds the token labelled c.Token, opens a session on it and logs in with the
// crypto-user PIN read now (a changed PIN file takes effect at the next connection).
func openToken(p *pkcs11.Ctx, c Config) (*token, error) {
	slot, err := findSlot(p, c.Token)
	if err != nil {
		return nil, fmt.Errorf("pkcs11hsm: %s: %w", c.Name, err)
	}
	pin, err := c.pin()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", kms.ErrHSMCredentials, err)
	}
	sess, err := p.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return nil, fmt.Errorf("pkcs11hsm: %s: opening a session: %w: %w", c.Name, kms.ErrHSMUnreachable, err)
	}
	if err := p.Login(sess, pkcs11.CKU_USER, pin); err != nil && !isCode(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
		p.CloseSession(sess)
		class := kms.ErrHSMUnreachable
		switch {
		case isCode(err, pkcs11.CKR_PIN_INCORRECT), isCode(err, pkcs11.CKR_PIN_INVALID), isCode(err, pkcs11.CKR_PIN_LEN_RANGE):
			class = kms.ErrHSMCredentials
		case isCode(err, pkcs11.CKR_PIN_LOCKED):
			class = kms.ErrHSMLockedOut
		}
		return nil, fmt.Errorf("pkcs11hsm: %s: logging in to token %q: %w: %w", c.Name, c.Token, class, err)
	}
	return &token{name: c.Name, p: p, sess: sess, handles: make(map[string]pkcs11.ObjectHandle)}, nil
}

func findSlot(p *pkcs11.Ctx, label string) (uint, error) {
	slots, err := p.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("listing slots: %w: %w", kms.ErrHSMUnreachable, err)
	}
	for _, s := range slots {
		ti, err := p.GetTokenInfo(s)
		if err == nil && ti.Label == label {
			return s, nil
		}
	}
	return 0, fmt.Errorf("no token labelled %q: %w", label, kms.ErrHSMNotFound)
}

// GenerateKey makes a token AES-256 key labelled label that can encrypt and decrypt but
// never leaves the token: sensitive, not extractable.
func (t *token) GenerateKey(_ context.Context, label string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return kms.ErrHSMDisconnected
	}
	attrs := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_ID, []byte(label)),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
	}
	h, err := t.p.GenerateKey(t.sess, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, attrs)
	if err != nil {
		return t.fail("generating a key", err)
	}
	t.handles[label] = h
	return nil
}

// Seal encrypts plaintext with AES-GCM under the key labelled label; it returns the
// ciphertext followed by the 16-byte tag.
func (t *token) Seal(_ context.Context, label string, iv, aad, plaintext []byte) ([]byte, error) {
	return t.gcm(label, iv, aad, plaintext, true)
}

// Open decrypts what Seal made; a wrong tag is kms.ErrHSMDecrypt.
func (t *token) Open(_ context.Context, label string, iv, aad, ciphertext []byte) ([]byte, error) {
	return t.gcm(label, iv, aad, ciphertext, false)
}

func (t *token) gcm(label string, iv, aad, in []byte, encrypt bool) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, kms.ErrHSMDisconnected
	}
	for attempt := 0; ; attempt++ {
		h, err := t.find(label)
		if err != nil {
			return nil, err
		}
		out, err := t.gcmWith(h, iv, aad, in, encrypt)
		if err != nil && attempt == 0 && (isCode(err, pkcs11.CKR_KEY_HANDLE_INVALID) || isCode(err, pkcs11.CKR_OBJECT_HANDLE_INVALID)) {
			delete(t.handles, label) // destroyed or replaced since it was found: look again
			continue
		}
		// A tag that does not verify is CKR_ENCRYPTED_DATA_INVALID in PKCS#11 v3, and
		// CKR_GENERAL_ERROR in SoftHSM 2.6 (and CKR_FUNCTION_FAILED in some HSMs): a decryption
		// that fails so is an unauthenticated ciphertext, never an internal error.
		if err != nil && !encrypt && (isCode(err, pkcs11.CKR_ENCRYPTED_DATA_INVALID) || isCode(err, pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE) ||
			isCode(err, pkcs11.CKR_GENERAL_ERROR) || isCode(err, pkcs11.CKR_FUNCTION_FAILED)) {
			return nil, kms.ErrHSMDecrypt
		}
		if err != nil {
			return nil, t.fail("AES-GCM", err)
		}
		return out, nil
	}
}

func (t *token) gcmWith(h pkcs11.ObjectHandle, iv, aad, in []byte, encrypt bool) ([]byte, error) {
	params := pkcs11.NewGCMParams(iv, aad, gcmTagBits)
	defer params.Free()
	mech := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, params)}
	if encrypt {
		if err := t.p.EncryptInit(t.sess, mech, h); err != nil {
			return nil, err
		}
		return t.p.Encrypt(t.sess, in)
	}
	if err := t.p.DecryptInit(t.sess, mech, h); err != nil {
		return nil, err
	}
	return t.p.Decrypt(t.sess, in)
}

// find returns the key labelled label; t.mu is held.
func (t *token) find(label string) (pkcs11.ObjectHandle, error) {
	if h, ok := t.handles[label]; ok {
		return h, nil
	}
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	}
	if err := t.p.FindObjectsInit(t.sess, tmpl); err != nil {
		return 0, t.fail("finding a key", err)
	}
	found, _, err := t.p.FindObjects(t.sess, 2)
	if ferr := t.p.FindObjectsFinal(t.sess); err == nil {
		err = ferr
	}
	switch {
	case err != nil:
		return 0, t.fail("finding a key", err)
	case len(found) == 0:
		return 0, fmt.Errorf("pkcs11hsm: %s: no key labelled %s: %w", t.name, label, kms.ErrHSMKeyNotFound)
	case len(found) > 1:
		return 0, fmt.Errorf("pkcs11hsm: %s: more than one key labelled %s", t.name, label)
	}
	t.handles[label] = found[0]
	return found[0], nil
}

// Random returns n bytes of the token's random number generator.
func (t *token) Random(_ context.Context, n int) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, kms.ErrHSMDisconnected
	}
	b, err := t.p.GenerateRandom(t.sess, n)
	if err != nil {
		return nil, t.fail("generating random bytes", err)
	}
	return b, nil
}

// DestroyKey destroys the key labelled label; one already gone is kms.ErrHSMKeyNotFound.
func (t *token) DestroyKey(_ context.Context, label string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return kms.ErrHSMDisconnected
	}
	h, err := t.find(label)
	if err != nil {
		return err
	}
	delete(t.handles, label)
	if err := t.p.DestroyObject(t.sess, h); err != nil {
		return t.fail("destroying a key", err)
	}
	return nil
}

// Close closes the session. It does not call C_Logout, which would log out every session of
// this process on the token (a login is per application and token); closing the last
// session ends the login.
func (t *token) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	err := t.p.CloseSession(t.sess)
	t.release()
	return err
}

// fail classifies a PKCS#11 failure: a session or token that went away is
// kms.ErrHSMUnreachable, anything else is the HSM's own error.
func (t *token) fail(what string, err error) error {
	for _, code := range []uint{pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_SESSION_CLOSED, pkcs11.CKR_DEVICE_REMOVED,
		pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_DEVICE_ERROR, pkcs11.CKR_USER_NOT_LOGGED_IN} {
		if isCode(err, code) {
			return fmt.Errorf("pkcs11hsm: %s: %s: %w: %w", t.name, what, kms.ErrHSMUnreachable, err)
		}
	}
	return fmt.Errorf("pkcs11hsm: %s: %s: %w", t.name, what, err)
}
