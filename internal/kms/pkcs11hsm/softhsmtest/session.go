//go:build cgo

package softhsmtest

import (
	"errors"
	"testing"

	"github.com/coffer/coffer/internal/kms/pkcs11hsm"
	"github.com/miekg/pkcs11"
)

// Session logs in to cfg's token as the crypto user on a session of the test's own, for what
// an HSM administrator would do behind Coffer's back. The module is loaded once per process:
// when Coffer has it initialised, Session shares it and leaves it initialised.
func Session(t testing.TB, cfg pkcs11hsm.Config) (*pkcs11.Ctx, pkcs11.SessionHandle) {
	t.Helper()
	p := pkcs11.New(cfg.Module)
	err := p.Initialize()
	ours := err == nil
	var code pkcs11.Error
	if err != nil && !(errors.As(err, &code) && code == pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		t.Fatal(err)
	}
	sess, err := p.OpenSession(Slot(t, p), pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Login(sess, pkcs11.CKU_USER, PIN); err != nil && !(errors.As(err, &code) && code == pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.CloseSession(sess)
		if ours {
			p.Finalize()
		}
		p.Destroy()
	})
	return p, sess
}

// Slot is the slot of the one token Token initialised.
func Slot(t testing.TB, p *pkcs11.Ctx) uint {
	t.Helper()
	slots, err := p.GetSlotList(true)
	if err != nil || len(slots) == 0 {
		t.Fatalf("slots: %v (%d)", err, len(slots))
	}
	return slots[0]
}

// Reset closes every session the process has on cfg's token, as a token reset does; the
// logins of those sessions end with them.
func Reset(t testing.TB, cfg pkcs11hsm.Config) {
	t.Helper()
	p, _ := Session(t, cfg)
	if err := p.CloseAllSessions(Slot(t, p)); err != nil {
		t.Fatal(err)
	}
}

// DestroyKey destroys the key labelled label on cfg's token.
func DestroyKey(t testing.TB, cfg pkcs11hsm.Config, label string) {
	t.Helper()
	p, sess := Session(t, cfg)
	if err := p.FindObjectsInit(sess, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, label)}); err != nil {
		t.Fatal(err)
	}
	found, _, err := p.FindObjects(sess, 1)
	p.FindObjectsFinal(sess)
	if err != nil || len(found) != 1 {
		t.Fatalf("the key labelled %s: %v, %d found", label, err, len(found))
	}
	if err := p.DestroyObject(sess, found[0]); err != nil {
		t.Fatal(err)
	}
}
