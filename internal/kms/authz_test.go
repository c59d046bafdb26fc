package kms_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/policy"
)

const (
	acct1 = "111111111111"
	acct2 = "222222222222"
)

var (
	root1 = kms.Caller{Account: acct1, ARN: "arn:aws:iam::" + acct1 + ":root"}
	root2 = kms.Caller{Account: acct2, ARN: "arn:aws:iam::" + acct2 + ":root"}
)

// user returns an IAM user of account with the identity policies docs.
func user(t *testing.T, account, name string, docs ...string) kms.Caller {
	t.Helper()
	c := kms.Caller{Account: account, ARN: "arn:aws:iam::" + account + ":user/" + name}
	for _, d := range docs {
		c.Policies = append(c.Policies, mustParse(t, d, policy.IdentityKind))
	}
	return c
}

// session returns a session of role name in account, with the role's identity policies docs.
func session(t *testing.T, account, role, sess string, docs ...string) kms.Caller {
	t.Helper()
	c := user(t, account, "x", docs...)
	c.ARN = "arn:aws:sts::" + account + ":assumed-role/" + role + "/" + sess
	c.RoleARN = "arn:aws:iam::" + account + ":role/" + role
	return c
}

func mustParse(t *testing.T, doc string, kind policy.Kind) *policy.Policy {
	t.Helper()
	p, err := policy.Parse(doc, kind)
	if err != nil {
		t.Fatalf("policy %s: %v", doc, err)
	}
	return p
}

// allowIdentity is an identity policy allowing actions on every resource.
func allowIdentity(actions ...string) string {
	b, _ := json.Marshal(actions)
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":` + string(b) + `,"Resource":"*"}]}`
}

// keyPolicy is a key policy of statements (JSON objects) that also keeps the account root's
// full access, so the test can manage the key.
func keyPolicy(account string, statements ...string) string {
	all := append([]string{`{"Sid":"root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"kms:*","Resource":"*"}`}, statements...)
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(all, ",") + `]}`
}

// wantDenied checks err is AccessDeniedException whose message contains msg ("" for none).
func wantDenied(t *testing.T, err error, msg string) {
	t.Helper()
	if !errors.Is(err, kms.ErrAccessDenied) {
		t.Fatalf("err = %v, want AccessDeniedException", err)
	}
	if msg != "" && !strings.Contains(err.Error(), msg) {
		t.Fatalf("err = %q, want it to contain %q", err, msg)
	}
	if strings.Contains(err.Error(), "Statement") || strings.Contains(err.Error(), "Sid") {
		t.Fatalf("the message shows policy text: %v", err)
	}
}

// decision is one authorization case: call's error must be nil (want "") or an
// AccessDeniedException whose message contains want.
type decision struct {
	name string
	call func() error
	want string
}

func runDecisions(t *testing.T, tests []decision) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.want == "" {
				wantOK(t, err)
				return
			}
			wantDenied(t, err, tc.want)
		})
	}
}

func wantOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("err = %v, want success", err)
	}
}

type authzEnv struct {
	s   *kms.Service
	ctx context.Context
}

func newAuthzEnv(t *testing.T) *authzEnv {
	s, db := newSvc(t, t.TempDir(), nil)
	t.Cleanup(func() { db.Close() })
	return &authzEnv{s: s, ctx: context.Background()}
}

// key creates a key of root1 with policy (the default policy when "").
func (e *authzEnv) key(t *testing.T, policy string) kms.KeyMetadata {
	t.Helper()
	m, err := e.s.CreateKey(e.ctx, root1, kms.CreateKeyInput{Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (e *authzEnv) blob(t *testing.T, keyID string, ec map[string]string) []byte {
	t.Helper()
	out, err := e.s.Encrypt(e.ctx, root1, kms.EncryptInput{KeyId: keyID, Plaintext: []byte("secret"), EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	return out.CiphertextBlob
}

// TestKeyPolicyDecides covers the key policy as the authority: principals it names directly,
// delegation to the account's identity policies, explicit denies, encryption-context
// conditions and their AWS error texts.
func TestKeyPolicyDecides(t *testing.T) {
	e := newAuthzEnv(t)
	ec := map[string]string{"App": "orders"}
	m := e.key(t, keyPolicy(acct1,
		`{"Sid":"alice encrypts","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct1+`:user/alice"},"Action":"kms:Encrypt","Resource":"*"}`,
		`{"Sid":"alice decrypts orders","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct1+`:user/alice"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:app":"orders"}}}`,
		`{"Sid":"never mallory","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::`+acct1+`:user/mallory"},"Action":"kms:*","Resource":"*"}`,
		`{"Sid":"role","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct1+`:role/app"},"Action":["kms:Decrypt","kms:DescribeKey"],"Resource":"*"}`,
	))
	blob := e.blob(t, m.KeyId, ec)
	other := e.blob(t, m.KeyId, map[string]string{"App": "billing"})
	decrypt := func(c kms.Caller, b []byte, ctx map[string]string) error {
		_, err := e.s.Decrypt(e.ctx, c, kms.DecryptInput{CiphertextBlob: b, EncryptionContext: ctx})
		return err
	}
	encrypt := func(c kms.Caller) error {
		_, err := e.s.Encrypt(e.ctx, c, kms.EncryptInput{KeyId: m.KeyId, Plaintext: []byte("x")})
		return err
	}
	alice := user(t, acct1, "alice")
	carol := user(t, acct1, "carol", allowIdentity("kms:Decrypt", "kms:Encrypt"))
	mallory := user(t, acct1, "mallory", allowIdentity("kms:*"))
	dave := user(t, acct1, "dave")
	denyIdentity := user(t, acct1, "erin", allowIdentity("kms:*"),
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]}`)
	tests := []decision{
		{"alice encrypts: named in the key policy", func() error { return encrypt(alice) }, ""},
		{"alice decrypts with the required context", func() error { return decrypt(alice, blob, ec) }, ""},
		{"alice may not decrypt another context", func() error { return decrypt(alice, other, map[string]string{"App": "billing"}) },
			// The root statement delegates to the account: what is missing is an identity policy.
			"User: arn:aws:iam::" + acct1 + ":user/alice is not authorized to perform: kms:Decrypt on resource: " + m.Arn + " because no identity-based policy allows the kms:Decrypt action"},
		{"alice may not describe", func() error { _, err := e.s.DescribeKey(e.ctx, alice, m.KeyId); return err },
			"kms:DescribeKey on resource: " + m.Arn},
		{"carol: the root statement delegates to her identity policy", func() error { return decrypt(carol, other, map[string]string{"App": "billing"}) }, ""},
		{"dave: no identity policy", func() error { return encrypt(dave) },
			"because no identity-based policy allows the kms:Encrypt action"},
		{"mallory: explicit deny in the key policy beats her identity policy", func() error { return encrypt(mallory) },
			"is not authorized to perform: kms:Encrypt on resource: " + m.Arn + " with an explicit deny in a resource-based policy"},
		{"erin: explicit deny in an identity policy", func() error { return decrypt(denyIdentity, blob, ec) },
			"with an explicit deny in an identity-based policy"},
		{"a session of role app: the role is named", func() error { return decrypt(session(t, acct1, "app", "s1"), blob, ec) }, ""},
		{"a session of another role", func() error { return decrypt(session(t, acct1, "other", "s1"), blob, ec) }, "kms:Decrypt"},
		{"the root of the account", func() error { return decrypt(root1, blob, ec) }, ""},
	}
	runDecisions(t, tests)
}

// TestKeyPolicyWithoutRoot: a key policy that does not name the account leaves identity
// policies without effect, even the root's.
func TestKeyPolicyWithoutRoot(t *testing.T) {
	e := newAuthzEnv(t)
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct1 + `:user/admin"},"Action":"kms:*","Resource":"*"}]}`
	m, err := e.s.CreateKey(e.ctx, root1, kms.CreateKeyInput{Policy: doc, BypassPolicyLockoutSafetyCheck: true})
	wantOK(t, err)
	tests := []struct {
		name   string
		caller kms.Caller
		want   string
	}{
		{"admin", user(t, acct1, "admin"), ""},
		{"root", root1, "because no resource-based policy allows the kms:DescribeKey action"},
		{"user with kms:* in IAM", user(t, acct1, "ops", allowIdentity("kms:*")), "because no resource-based policy allows"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.s.DescribeKey(e.ctx, tc.caller, m.KeyId)
			if tc.want == "" {
				wantOK(t, err)
			} else {
				wantDenied(t, err, tc.want)
			}
		})
	}
}

// TestCrossAccountKey: a key of account 1 whose policy allows account 2 is usable by
// account 2's root and by its users whose identity policy allows it too; management
// operations are never cross-account.
func TestCrossAccountKey(t *testing.T) {
	e := newAuthzEnv(t)
	m := e.key(t, keyPolicy(acct1,
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct2+`:root"},"Action":["kms:Encrypt","kms:Decrypt","kms:DescribeKey","kms:PutKeyPolicy"],"Resource":"*"}`))
	blob := e.blob(t, m.KeyId, nil)
	withIAM := user(t, acct2, "app", fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":%q}]}`, m.Arn))
	tests := []decision{
		{"root of account 2 decrypts", func() error {
			_, err := e.s.Decrypt(e.ctx, root2, kms.DecryptInput{CiphertextBlob: blob})
			return err
		}, ""},
		{"a user of account 2 with an identity policy", func() error {
			_, err := e.s.Decrypt(e.ctx, withIAM, kms.DecryptInput{CiphertextBlob: blob, KeyId: m.Arn})
			return err
		}, ""},
		{"a user of account 2 without one", func() error {
			_, err := e.s.Decrypt(e.ctx, user(t, acct2, "other"), kms.DecryptInput{CiphertextBlob: blob})
			return err
		}, "because no identity-based policy allows the kms:Decrypt action"},
		{"the user's identity policy does not cover Encrypt", func() error {
			_, err := e.s.Encrypt(e.ctx, withIAM, kms.EncryptInput{KeyId: m.Arn, Plaintext: []byte("x")})
			return err
		}, "kms:Encrypt"},
		{"PutKeyPolicy is never cross-account", func() error {
			return e.s.PutKeyPolicy(e.ctx, root2, m.Arn, "", keyPolicy(acct2), false)
		}, "kms:PutKeyPolicy"},
		{"a key id alone names a key of the caller's account", func() error {
			_, err := e.s.DescribeKey(e.ctx, root2, m.KeyId)
			if errors.Is(err, kms.ErrNotFound) {
				return nil
			}
			return fmt.Errorf("want NotFound: %w", err)
		}, ""},
	}
	runDecisions(t, tests)
}

// TestIdentityOnlyOperations: operations on no key are decided by identity policies alone.
func TestIdentityOnlyOperations(t *testing.T) {
	e := newAuthzEnv(t)
	none := user(t, acct1, "none")
	admin := user(t, acct1, "admin", allowIdentity("kms:CreateKey", "kms:ListKeys", "kms:ListAliases", "kms:GenerateRandom"))
	rsaOnly := user(t, acct1, "rsa", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:CreateKey","Resource":"*","Condition":{"StringEquals":{"kms:KeySpec":"RSA_2048"}}}]}`)
	tests := []decision{
		{"CreateKey without permission", func() error { _, err := e.s.CreateKey(e.ctx, none, kms.CreateKeyInput{}); return err },
			"User: arn:aws:iam::" + acct1 + ":user/none is not authorized to perform: kms:CreateKey on resource: * because no identity-based policy allows the kms:CreateKey action"},
		{"CreateKey allowed", func() error { _, err := e.s.CreateKey(e.ctx, admin, kms.CreateKeyInput{}); return err }, ""},
		{"ListKeys", func() error { _, _, err := e.s.ListKeys(e.ctx, none, kms.Page{}); return err }, "kms:ListKeys"},
		{"ListKeys allowed", func() error { _, _, err := e.s.ListKeys(e.ctx, admin, kms.Page{}); return err }, ""},
		{"ListAliases", func() error { _, _, err := e.s.ListAliases(e.ctx, none, "", kms.Page{}); return err }, "kms:ListAliases"},
		{"GenerateRandom", func() error { _, err := e.s.GenerateRandom(e.ctx, none, 8, ""); return err }, "kms:GenerateRandom"},
		{"GenerateRandom allowed", func() error { _, err := e.s.GenerateRandom(e.ctx, admin, 8, ""); return err }, ""},
		{"kms:KeySpec condition refuses a symmetric key", func() error { _, err := e.s.CreateKey(e.ctx, rsaOnly, kms.CreateKeyInput{}); return err }, "kms:CreateKey"},
		{"kms:KeySpec condition allows RSA_2048", func() error {
			_, err := e.s.CreateKey(e.ctx, rsaOnly, kms.CreateKeyInput{KeySpec: "RSA_2048", KeyUsage: kms.UsageSignVerify})
			return err
		}, ""},
		{"ListRetirableGrants", func() error {
			_, _, err := e.s.ListRetirableGrants(e.ctx, none, none.ARN, kms.Page{})
			return err
		}, "kms:ListRetirableGrants"},
	}
	runDecisions(t, tests)
}

// TestAliasNeedsAliasAndKey: Create/Update/DeleteAlias need permission on the alias (identity
// policy) and on the key (key policy).
func TestAliasNeedsAliasAndKey(t *testing.T) {
	e := newAuthzEnv(t)
	m := e.key(t, keyPolicy(acct1,
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct1+`:user/keyonly"},"Action":"kms:CreateAlias","Resource":"*"}`))
	keyOnly := user(t, acct1, "keyonly")
	aliasOnly := user(t, acct1, "aliasonly", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:CreateAlias","Resource":"arn:aws:kms:us-east-1:`+acct1+`:alias/app-*"}]}`)
	both := user(t, acct1, "both", allowIdentity("kms:CreateAlias"))
	tests := []struct {
		name   string
		caller kms.Caller
		alias  string
		want   string
	}{
		{"key policy only", keyOnly, "alias/k1", "kms:CreateAlias on resource: arn:aws:kms:us-east-1:" + acct1 + ":alias/k1 because no identity-based policy"},
		{"alias permission only (the key policy delegates)", aliasOnly, "alias/app-1", "because no identity-based policy allows the kms:CreateAlias action"},
		{"alias outside the identity policy's pattern", aliasOnly, "alias/other", "alias/other"},
		{"both", both, "alias/both", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.s.CreateAlias(e.ctx, tc.caller, tc.alias, m.KeyId)
			if tc.want == "" {
				wantOK(t, err)
			} else {
				wantDenied(t, err, tc.want)
			}
		})
	}
}

// TestViaService: a key policy allowing a user only through S3.
func TestViaService(t *testing.T) {
	e := newAuthzEnv(t)
	m := e.key(t, keyPolicy(acct1,
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct1+`:user/app"},"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com","kms:CallerAccount":"`+acct1+`"}}}`))
	direct := user(t, acct1, "app")
	viaS3 := direct
	viaS3.ViaService = "s3.us-east-1.amazonaws.com"
	viaOther := direct
	viaOther.ViaService = "ebs.us-east-1.amazonaws.com"
	for _, tc := range []struct {
		name   string
		caller kms.Caller
		ok     bool
	}{{"direct", direct, false}, {"through S3", viaS3, true}, {"through another service", viaOther, false}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.s.GenerateDataKey(e.ctx, tc.caller, kms.GenerateDataKeyInput{KeyId: m.KeyId, KeySpec: "AES_256"})
			if tc.ok {
				wantOK(t, err)
			} else {
				wantDenied(t, err, "kms:GenerateDataKey")
			}
		})
	}
}
