package kms_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/coffer/coffer/internal/kms"
)

// TestGrantsAuthorize: a grant lets its grantee use the key for its operations while the
// request's encryption context satisfies its constraints, until it is retired or revoked.
func TestGrantsAuthorize(t *testing.T) {
	e := newAuthzEnv(t)
	m := e.key(t, "")
	alice, bob := user(t, acct1, "alice"), user(t, acct1, "bob")
	orders := map[string]string{"App": "orders"}
	more := map[string]string{"App": "orders", "Env": "prod"}
	blob, blobMore := e.blob(t, m.KeyId, orders), e.blob(t, m.KeyId, more)
	grant := func(grantee string, c *kms.GrantConstraints, ops ...string) (token, id string) {
		t.Helper()
		token, id, err := e.s.CreateGrant(e.ctx, root1, kms.CreateGrantInput{KeyId: m.KeyId, GranteePrincipal: grantee,
			RetiringPrincipal: bob.ARN, Operations: ops, Constraints: c})
		wantOK(t, err)
		return token, id
	}
	decrypt := func(c kms.Caller, b []byte, ec map[string]string) error {
		_, err := e.s.Decrypt(e.ctx, c, kms.DecryptInput{CiphertextBlob: b, EncryptionContext: ec})
		return err
	}
	wantDenied(t, decrypt(alice, blob, orders), "kms:Decrypt")

	token, equalsID := grant(alice.ARN, &kms.GrantConstraints{EncryptionContextEquals: orders}, "Decrypt")
	grant("arn:aws:iam::"+acct1+":role/worker", &kms.GrantConstraints{EncryptionContextSubset: orders}, "Decrypt", "CreateGrant")
	worker := session(t, acct1, "worker", "job-1")
	subGrant := func(c kms.Caller, gc *kms.GrantConstraints, ops ...string) error {
		_, _, err := e.s.CreateGrant(e.ctx, c, kms.CreateGrantInput{KeyId: m.KeyId, GranteePrincipal: bob.ARN, Operations: ops, Constraints: gc})
		return err
	}
	tests := []decision{
		{"equals: the same context", func() error { return decrypt(alice, blob, orders) }, ""},
		{"equals: a larger context", func() error { return decrypt(alice, blobMore, more) }, "kms:Decrypt"},
		{"the grant does not give Encrypt", func() error {
			_, err := e.s.Encrypt(e.ctx, alice, kms.EncryptInput{KeyId: m.KeyId, Plaintext: []byte("x"), EncryptionContext: orders})
			return err
		}, "kms:Encrypt"},
		{"the grant token is accepted", func() error {
			_, err := e.s.Decrypt(e.ctx, alice, kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: orders, GrantTokens: []string{token}})
			return err
		}, ""},
		{"subset: a role's session, larger context", func() error { return decrypt(worker, blobMore, more) }, ""},
		{"subset: context without the pair", func() error {
			return decrypt(worker, e.blob(t, m.KeyId, map[string]string{"App": "billing"}), map[string]string{"App": "billing"})
		}, "kms:Decrypt"},
		{"a grantee with CreateGrant grants a subset of its operations under its constraint", func() error {
			return subGrant(worker, &kms.GrantConstraints{EncryptionContextSubset: orders}, "Decrypt")
		}, ""},
		{"or a stricter one", func() error {
			return subGrant(worker, &kms.GrantConstraints{EncryptionContextEquals: more}, "Decrypt")
		}, ""},
		{"but not more operations than it has", func() error {
			return subGrant(worker, &kms.GrantConstraints{EncryptionContextSubset: orders}, "Decrypt", "Encrypt")
		}, "kms:CreateGrant"},
		{"nor without its constraint", func() error { return subGrant(worker, nil, "Decrypt") }, "kms:CreateGrant"},
		{"nor under a looser one", func() error {
			return subGrant(worker, &kms.GrantConstraints{EncryptionContextSubset: map[string]string{"Env": "prod"}}, "Decrypt")
		}, "kms:CreateGrant"},
		{"the grantee may not retire a grant without RetireGrant", func() error {
			return e.s.RetireGrant(e.ctx, alice, token, "", "", false)
		}, "kms:RetireGrant"},
		{"nor revoke it", func() error { return e.s.RevokeGrant(e.ctx, alice, m.KeyId, equalsID, false) }, "kms:RevokeGrant"},
	}
	runDecisions(t, tests)
	t.Run("an unknown grant token", func(t *testing.T) {
		_, err := e.s.Decrypt(e.ctx, alice, kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: orders, GrantTokens: []string{"not-a-token"}})
		if !errors.Is(err, kms.ErrInvalidGrantToken) {
			t.Fatalf("err = %v, want InvalidGrantTokenException", err)
		}
	})
	t.Run("the retiring principal retires it", func(t *testing.T) {
		wantOK(t, e.s.RetireGrant(e.ctx, bob, token, "", "", false))
		wantDenied(t, decrypt(alice, blob, orders), "kms:Decrypt")
	})
	t.Run("revoked by the key's account", func(t *testing.T) {
		_, id := grant(alice.ARN, nil, "Decrypt")
		wantOK(t, decrypt(alice, blob, orders))
		wantOK(t, e.s.RevokeGrant(e.ctx, root1, m.KeyId, id, false))
		wantDenied(t, decrypt(alice, blob, orders), "kms:Decrypt")
	})
	t.Run("a grantee holding RetireGrant retires its own grant, no other", func(t *testing.T) {
		token, _ := grant(alice.ARN, nil, "Decrypt", "RetireGrant")
		otherToken, _ := grant("arn:aws:iam::"+acct1+":user/carol", nil, "Decrypt")
		wantDenied(t, e.s.RetireGrant(e.ctx, alice, otherToken, "", "", false), "kms:RetireGrant")
		wantOK(t, e.s.RetireGrant(e.ctx, alice, token, "", "", false))
	})
}

// TestCreateGrantConditions: kms:GrantOperations and kms:GranteePrincipal in a key policy.
func TestCreateGrantConditions(t *testing.T) {
	e := newAuthzEnv(t)
	m := e.key(t, keyPolicy(acct1,
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct1+`:user/ops"},"Action":"kms:CreateGrant","Resource":"*","Condition":{"ForAllValues:StringEquals":{"kms:GrantOperations":["Decrypt","Encrypt"]},"StringLike":{"kms:GranteePrincipal":"arn:aws:iam::`+acct1+`:role/app-*"}}}`))
	ops := user(t, acct1, "ops")
	tests := []struct {
		name    string
		grantee string
		ops     []string
		ok      bool
	}{
		{"allowed operations and grantee", "arn:aws:iam::" + acct1 + ":role/app-1", []string{"Decrypt"}, true},
		{"an operation outside the set", "arn:aws:iam::" + acct1 + ":role/app-1", []string{"Decrypt", "Sign"}, false},
		{"another grantee", "arn:aws:iam::" + acct1 + ":role/admin", []string{"Decrypt"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := e.s.CreateGrant(e.ctx, ops, kms.CreateGrantInput{KeyId: m.KeyId, GranteePrincipal: tc.grantee, Operations: tc.ops})
			if tc.ok {
				wantOK(t, err)
			} else {
				wantDenied(t, err, "kms:CreateGrant")
			}
		})
	}
}

// TestLockoutSafetyCheck: CreateKey and PutKeyPolicy refuse a policy that would not let the
// caller (with its identity policies where the policy delegates to the account) call
// PutKeyPolicy again, unless BypassPolicyLockoutSafetyCheck is set.
func TestLockoutSafetyCheck(t *testing.T) {
	e := newAuthzEnv(t)
	admin := user(t, acct1, "admin", allowIdentity("kms:*"))
	creator := user(t, acct1, "creator", allowIdentity("kms:CreateKey"))
	rootOnly := keyPolicy(acct1)
	otherUser := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct1 + `:user/someone"},"Action":"kms:*","Resource":"*"}]}`
	noBypass := keyPolicy(acct1, `{"Effect":"Deny","Principal":"*","Action":["kms:PutKeyPolicy","kms:CreateKey"],"Resource":"*","Condition":{"Bool":{"kms:BypassPolicyLockoutSafetyCheck":"true"}}}`)
	const lockout = "The new key policy will not allow you to update the key policy in the future."
	tests := []struct {
		name   string
		call   func() error
		class  error
		reason string
	}{
		{"admin keeps access through the account", func() error {
			return e.s.PutKeyPolicy(e.ctx, admin, e.key(t, "").KeyId, "", rootOnly, false)
		}, nil, ""},
		{"a policy naming someone else", func() error {
			return e.s.PutKeyPolicy(e.ctx, admin, e.key(t, "").KeyId, "", otherUser, false)
		}, kms.ErrMalformedPolicy, lockout},
		{"bypassed", func() error {
			return e.s.PutKeyPolicy(e.ctx, admin, e.key(t, "").KeyId, "", otherUser, true)
		}, nil, ""},
		{"bypass denied by kms:BypassPolicyLockoutSafetyCheck", func() error {
			return e.s.PutKeyPolicy(e.ctx, admin, e.key(t, noBypass).KeyId, "", otherUser, true)
		}, kms.ErrAccessDenied, "explicit deny"},
		{"CreateKey: the creator may not PutKeyPolicy through IAM", func() error {
			_, err := e.s.CreateKey(e.ctx, creator, kms.CreateKeyInput{Policy: rootOnly})
			return err
		}, kms.ErrMalformedPolicy, lockout},
		{"CreateKey: the root", func() error {
			_, err := e.s.CreateKey(e.ctx, root1, kms.CreateKeyInput{Policy: rootOnly})
			return err
		}, nil, ""},
		{"a policy that does not parse", func() error {
			_, err := e.s.CreateKey(e.ctx, root1, kms.CreateKeyInput{Policy: `{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`})
			return err
		}, kms.ErrMalformedPolicy, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.class == nil {
				wantOK(t, err)
				return
			}
			var ke *kms.Error
			if !errors.Is(err, tc.class) || !errors.As(err, &ke) || (tc.reason != "" && !strings.Contains(ke.Message, tc.reason)) {
				t.Fatalf("err = %v, want %v %q", err, tc.class, tc.reason)
			}
		})
	}
}
