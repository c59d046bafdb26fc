//go:build cgo

package pkcs11hsm

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/coffer/coffer/internal/kms"
	"github.com/miekg/pkcs11"
)

// gcmTagBits is the AES-GCM tag length of every seal.
const gcmTagBits = 128

// token is a logged-in connection to one HSM token with a bounded pool of sessions: a PKCS#11
// session runs one operation at a time, so operations run in parallel on as many sessions as
// the pool allows. A login is per application and token, so sessions opened after the first
// share its login. When the token resets (its sessions are closed under us, or the login is
// lost), the pool drops every session and opens a new one, logging in again with the PIN read
// then; an operation that failed so is retried once.
type token struct {
	cfg     Config
	p       *pkcs11.Ctx
	slot    uint
	release func()

	permits chan struct{}             // one per session in use: the pool's bound
	idle    chan pkcs11.SessionHandle // open sessions not in use (capacity: the bound)

	mu      sync.Mutex                     // guards handles and closed
	handles map[string]pkcs11.ObjectHandle // key label → object, found once
	closed  bool
}

var _ kms.HSMToken = (*token)(nil)

// openToken finds the token c names, opens a first session on it and logs in with the
// crypto-user PIN read now (a changed PIN file takes effect at the next login).
func openToken(p *pkcs11.Ctx, c Config) (*token, error) {
	slot, err := findSlot(p, c)
	if err != nil {
		return nil, fmt.Errorf("pkcs11hsm: %s: %w", c.Name, err)
	}
	n := c.Sessions
	if n == 0 {
		n = DefaultSessions
	}
	t := &token{cfg: c, p: p, slot: slot, permits: make(chan struct{}, n), idle: make(chan pkcs11.SessionHandle, n),
		handles: make(map[string]pkcs11.ObjectHandle)}
	sess, err := t.openSession()
	if err != nil {
		return nil, err
	}
	t.idle <- sess
	return t, nil
}

func findSlot(p *pkcs11.Ctx, c Config) (uint, error) {
	slots, err := p.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("listing slots: %w: %w", kms.ErrHSMUnreachable, err)
	}
	for _, s := range slots {
		if c.BySlot && s == c.Slot {
			return s, nil
		}
		if ti, err := p.GetTokenInfo(s); !c.BySlot && err == nil && ti.Label == c.Token {
			return s, nil
		}
	}
	return 0, fmt.Errorf("no token %s on module %s: %w", c.tokenName(), c.Module, kms.ErrHSMNotFound)
}

// openSession opens a session and makes sure the crypto user is logged in on the token.
func (t *token) openSession() (pkcs11.SessionHandle, error) {
	sess, err := t.p.OpenSession(t.slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return 0, fmt.Errorf("pkcs11hsm: %s: opening a session on the token %s: %w: %w", t.cfg.Name, t.cfg.tokenName(), kms.ErrHSMUnreachable, err)
	}
	if info, err := t.p.GetSessionInfo(sess); err == nil && info.State == pkcs11.CKS_RW_USER_FUNCTIONS {
		return sess, nil // the login of another session of ours
	}
	if err := t.login(sess); err != nil {
		t.p.CloseSession(sess)
		return 0, err
	}
	return sess, nil
}

func (t *token) login(sess pkcs11.SessionHandle) error {
	pin, err := t.cfg.pin()
	if err != nil {
		return fmt.Errorf("%w: %w", kms.ErrHSMCredentials, err)
	}
	err = t.p.Login(sess, pkcs11.CKU_USER, pin)
	if err == nil || isCode(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
		return nil
	}
	class := kms.ErrHSMUnreachable
	switch {
	case isCode(err, pkcs11.CKR_PIN_INCORRECT), isCode(err, pkcs11.CKR_PIN_INVALID), isCode(err, pkcs11.CKR_PIN_LEN_RANGE):
		class = kms.ErrHSMCredentials
	case isCode(err, pkcs11.CKR_PIN_LOCKED):
		class = kms.ErrHSMLockedOut
	}
	return fmt.Errorf("pkcs11hsm: %s: logging in to the token %s: %w: %w", t.cfg.Name, t.cfg.tokenName(), class, err)
}

// do runs fn on a session of the pool. A session lost to a token reset is dropped with every
// idle one (a reset closes them all) and fn runs once more on a new session; fn's other
// errors are returned as they are, for the caller to classify.
func (t *token) do(ctx context.Context, what string, fn func(pkcs11.SessionHandle) error) error {
	for attempt := 0; ; attempt++ {
		sess, err := t.acquire(ctx)
		if err != nil {
			return err
		}
		err = fn(sess)
		lost := sessionLost(err)
		t.put(sess, lost)
		if !lost {
			return err
		}
		t.dropIdle()
		if attempt > 0 {
			return t.fail(what, err)
		}
	}
}

// acquire takes a pool permit and an idle session, or opens one.
func (t *token) acquire(ctx context.Context) (pkcs11.SessionHandle, error) {
	select {
	case t.permits <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	if t.isClosed() {
		<-t.permits
		return 0, kms.ErrHSMDisconnected
	}
	select {
	case sess := <-t.idle:
		return sess, nil
	default:
	}
	sess, err := t.openSession()
	if err != nil {
		<-t.permits
		return 0, err
	}
	return sess, nil
}

// put gives back a session taken by acquire, closing it when it was lost.
func (t *token) put(sess pkcs11.SessionHandle, lost bool) {
	if lost {
		t.p.CloseSession(sess)
	} else {
		t.idle <- sess // never blocks: at most one session per permit
	}
	<-t.permits
}

// dropIdle closes the idle sessions and forgets the key handles, after a token reset.
func (t *token) dropIdle() {
	for {
		select {
		case sess := <-t.idle:
			t.p.CloseSession(sess)
		default:
			t.mu.Lock()
			clear(t.handles)
			t.mu.Unlock()
			return
		}
	}
}

func (t *token) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// sessionLost reports whether err says the session, or the login it ran under, is gone.
func sessionLost(err error) bool {
	for _, code := range []uint{pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_SESSION_CLOSED, pkcs11.CKR_USER_NOT_LOGGED_IN,
		pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_DEVICE_ERROR} {
		if isCode(err, code) {
			return true
		}
	}
	return false
}

// GenerateKey makes a token AES-256 key labelled label that can encrypt and decrypt but
// never leaves the token: sensitive, not extractable.
func (t *token) GenerateKey(ctx context.Context, label string) error {
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
	var h pkcs11.ObjectHandle
	err := t.do(ctx, "generating a key", func(sess pkcs11.SessionHandle) (err error) {
		h, err = t.p.GenerateKey(sess, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, attrs)
		return err
	})
	if err != nil {
		return t.fail("generating a key", err)
	}
	t.mu.Lock()
	t.handles[label] = h
	t.mu.Unlock()
	return nil
}

// Seal encrypts plaintext with AES-GCM under the key labelled label; it returns the
// ciphertext followed by the 16-byte tag.
func (t *token) Seal(ctx context.Context, label string, iv, aad, plaintext []byte) ([]byte, error) {
	return t.gcm(ctx, label, iv, aad, plaintext, true)
}

// Open decrypts what Seal made; a wrong tag is kms.ErrHSMDecrypt.
func (t *token) Open(ctx context.Context, label string, iv, aad, ciphertext []byte) ([]byte, error) {
	return t.gcm(ctx, label, iv, aad, ciphertext, false)
}

func (t *token) gcm(ctx context.Context, label string, iv, aad, in []byte, encrypt bool) ([]byte, error) {
	var out []byte
	err := t.do(ctx, "AES-GCM", func(sess pkcs11.SessionHandle) error {
		for attempt := 0; ; attempt++ {
			h, err := t.find(sess, label)
			if err != nil {
				return err
			}
			out, err = t.gcmWith(sess, h, iv, aad, in, encrypt)
			if err != nil && attempt == 0 && (isCode(err, pkcs11.CKR_KEY_HANDLE_INVALID) || isCode(err, pkcs11.CKR_OBJECT_HANDLE_INVALID)) {
				t.forget(label) // destroyed or replaced since it was found: look again
				continue
			}
			return err
		}
	})
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

func (t *token) gcmWith(sess pkcs11.SessionHandle, h pkcs11.ObjectHandle, iv, aad, in []byte, encrypt bool) ([]byte, error) {
	params := pkcs11.NewGCMParams(iv, aad, gcmTagBits)
	defer params.Free()
	mech := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, params)}
	if encrypt {
		if err := t.p.EncryptInit(sess, mech, h); err != nil {
			return nil, err
		}
		return t.p.Encrypt(sess, in)
	}
	if err := t.p.DecryptInit(sess, mech, h); err != nil {
		return nil, err
	}
	return t.p.Decrypt(sess, in)
}

// find returns the key labelled label, searching the token with sess the first time.
func (t *token) find(sess pkcs11.SessionHandle, label string) (pkcs11.ObjectHandle, error) {
	t.mu.Lock()
	h, ok := t.handles[label]
	t.mu.Unlock()
	if ok {
		return h, nil
	}
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	}
	if err := t.p.FindObjectsInit(sess, tmpl); err != nil {
		return 0, err
	}
	found, _, err := t.p.FindObjects(sess, 2)
	if ferr := t.p.FindObjectsFinal(sess); err == nil {
		err = ferr
	}
	switch {
	case err != nil:
		return 0, err
	case len(found) == 0:
		return 0, fmt.Errorf("pkcs11hsm: %s: no key labelled %s: %w", t.cfg.Name, label, kms.ErrHSMKeyNotFound)
	case len(found) > 1:
		return 0, fmt.Errorf("pkcs11hsm: %s: more than one key labelled %s", t.cfg.Name, label)
	}
	t.mu.Lock()
	t.handles[label] = found[0]
	t.mu.Unlock()
	return found[0], nil
}

func (t *token) forget(label string) {
	t.mu.Lock()
	delete(t.handles, label)
	t.mu.Unlock()
}

// Random returns n bytes of the token's random number generator.
func (t *token) Random(ctx context.Context, n int) ([]byte, error) {
	var b []byte
	err := t.do(ctx, "generating random bytes", func(sess pkcs11.SessionHandle) (err error) {
		b, err = t.p.GenerateRandom(sess, n)
		return err
	})
	if err != nil {
		return nil, t.fail("generating random bytes", err)
	}
	return b, nil
}

// DestroyKey destroys the key labelled label; one already gone is kms.ErrHSMKeyNotFound.
func (t *token) DestroyKey(ctx context.Context, label string) error {
	err := t.do(ctx, "destroying a key", func(sess pkcs11.SessionHandle) error {
		h, err := t.find(sess, label)
		if err != nil {
			return err
		}
		t.forget(label)
		return t.p.DestroyObject(sess, h)
	})
	if err != nil {
		return t.fail("destroying a key", err)
	}
	return nil
}

// Check asks the token for its information and the session for its state: a cheap call that
// fails when the token is gone or the session was lost (do then logs in again on a new one).
func (t *token) Check(ctx context.Context) error {
	err := t.do(ctx, "checking the token", func(sess pkcs11.SessionHandle) error {
		if _, err := t.p.GetTokenInfo(t.slot); err != nil {
			return err
		}
		_, err := t.p.GetSessionInfo(sess)
		return err
	})
	if err != nil {
		return t.fail("checking the token", err)
	}
	return nil
}

// Close waits for the operations in flight and closes every session. It does not call
// C_Logout, which would log out every session of this process on the token (a login is per
// application and token); closing the last session ends the login.
func (t *token) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	for range cap(t.permits) {
		t.permits <- struct{}{}
	}
	var err error
	for len(t.idle) > 0 {
		err = errors.Join(err, t.p.CloseSession(<-t.idle))
	}
	for range cap(t.permits) {
		<-t.permits
	}
	t.release()
	return err
}

// fail classifies a PKCS#11 failure: a session or token that went away is
// kms.ErrHSMUnreachable, an error already classified is returned as it is, anything else is
// the HSM's own error.
func (t *token) fail(what string, err error) error {
	for _, class := range []error{kms.ErrHSMUnreachable, kms.ErrHSMCredentials, kms.ErrHSMLockedOut, kms.ErrHSMNotFound,
		kms.ErrHSMKeyNotFound, kms.ErrHSMDisconnected, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, class) {
			return err
		}
	}
	if sessionLost(err) {
		return fmt.Errorf("pkcs11hsm: %s: %s: %w: %w", t.cfg.Name, what, kms.ErrHSMUnreachable, err)
	}
	return fmt.Errorf("pkcs11hsm: %s: %s: %w", t.cfg.Name, what, err)
}
