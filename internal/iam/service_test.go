package iam_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/iam/boltiam"
	"github.com/coffer/coffer/internal/secret"
)

// gcmSealer seals with AES-GCM under a random key, the context as additional data: the
// contract the server's KMS adapter keeps, without a KMS.
type gcmSealer struct{ aead cipher.AEAD }

func newSealer(t *testing.T) *gcmSealer {
	b, err := aes.NewCipher(secret.Generate().RevealBytes())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := cipher.NewGCM(b)
	return &gcmSealer{aead: a}
}

func aad(c map[string]string) []byte {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var s strings.Builder
	for _, k := range keys {
		s.WriteString(k + "\x00" + c[k] + "\x00")
	}
	return []byte(s.String())
}

func (g *gcmSealer) Seal(_ context.Context, pt []byte, c map[string]string) ([]byte, error) {
	nonce := make([]byte, g.aead.NonceSize())
	rand.Read(nonce)
	return g.aead.Seal(nonce, nonce, pt, aad(c)), nil
}

func (g *gcmSealer) Open(_ context.Context, sealed []byte, c map[string]string) (secret.Bytes, error) {
	n := g.aead.NonceSize()
	if len(sealed) < n {
		return secret.Bytes{}, errors.New("short")
	}
	pt, err := g.aead.Open(nil, sealed[:n], sealed[n:], aad(c))
	if err != nil {
		return secret.Bytes{}, err
	}
	return secret.TakeBytes(pt), nil
}

const (
	defaultAccount = "111122223333"
	rootKey        = "AKIAROOTROOTROOTROOT"
	rootSecret     = "root-secret-0123456789"
)

type fixture struct {
	svc    *iam.Service
	store  iam.Store
	sealer *gcmSealer
	ahead  atomic.Int64
}

func newService(t *testing.T, ttl time.Duration) *fixture {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"), 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store, err := boltiam.New(db)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: store, sealer: newSealer(t)}
	f.svc, err = iam.New(context.Background(), iam.Config{Store: store, Sealer: f.sealer, CacheTTL: ttl,
		Default: iam.Account{ID: defaultAccount, DisplayName: "main"}, DefaultKey: rootKey, DefaultSecret: rootSecret,
		Now: func() time.Time { return time.Now().Add(time.Duration(f.ahead.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var bg = context.Background()

// assumer returns a user of the default account whose identity policy allows sts:AssumeRole
// (the root may not assume roles).
func assumer(t *testing.T, f *fixture) iam.Principal {
	t.Helper()
	if _, err := f.svc.CreateUser(bg, defaultAccount, "assumer", "", nil); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.PutInlinePolicy(bg, iam.Entity{Kind: iam.KindUser, Account: defaultAccount, Name: "assumer"}, "p",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	k, err := f.svc.CreateAccessKey(bg, defaultAccount, "assumer")
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.Lookup(bg, k.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	return c.Principal
}

func root(t *testing.T, f *fixture) iam.Principal {
	t.Helper()
	c, err := f.svc.Lookup(bg, rootKey, "")
	if err != nil {
		t.Fatal(err)
	}
	return c.Principal
}

// TestLookup covers the credential lookup of every request: root, user keys and their status,
// sealed secrets, parsed policies and the cache.
func TestLookup(t *testing.T) {
	f := newService(t, time.Hour) // a long TTL: changes through the Service must still show at once
	r := root(t, f)
	if !r.Root || r.Type != iam.PrincipalAccount || r.ARN != "arn:aws:iam::111122223333:root" || r.DisplayName != "main" {
		t.Fatalf("root = %+v", r)
	}
	if _, err := f.svc.Lookup(bg, rootKey, "token"); !errors.Is(err, iam.ErrInvalidToken) {
		t.Errorf("root key with a token: %v", err)
	}
	if _, err := f.svc.CreateUser(bg, defaultAccount, "alice", "/team/", nil); err != nil {
		t.Fatal(err)
	}
	k, err := f.svc.CreateAccessKey(bg, defaultAccount, "alice")
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := f.store.GetAccessKey(bg, k.ID)
	if strings.Contains(string(stored.SealedSecret), k.Secret) {
		t.Fatal("the secret is stored in plaintext")
	}
	c, err := f.svc.Lookup(bg, k.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	p := c.Principal
	if string(c.Secret.RevealBytes()) != k.Secret || p.Type != iam.PrincipalUser || p.UserName != "alice" ||
		p.ARN != "arn:aws:iam::111122223333:user/team/alice" || !strings.HasPrefix(p.UserID, "AIDA") || p.Root || len(p.Policies) != 0 {
		t.Fatalf("user = %+v", p)
	}
	if err := f.svc.PutInlinePolicy(bg, iam.Entity{Kind: iam.KindUser, Account: defaultAccount, Name: "alice"}, "p",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	mp, err := f.svc.CreatePolicy(bg, defaultAccount, "mp", "/", "", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.AttachPolicy(bg, iam.Entity{Kind: iam.KindUser, Account: defaultAccount, Name: "alice"}, mp.ARN()); err != nil {
		t.Fatal(err)
	}
	if c, _ = f.svc.Lookup(bg, k.ID, ""); len(c.Principal.Policies) != 2 {
		t.Errorf("policies after put and attach: %d, want 2", len(c.Principal.Policies))
	}
	if _, err := f.svc.Lookup(bg, k.ID, "token"); !errors.Is(err, iam.ErrInvalidToken) {
		t.Errorf("user key with a token: %v", err)
	}
	if err := f.svc.UpdateAccessKey(bg, defaultAccount, "alice", k.ID, iam.StatusInactive); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Lookup(bg, k.ID, ""); !errors.Is(err, iam.ErrUnknownAccessKey) {
		t.Errorf("inactive key: %v", err)
	}
	if _, err := f.svc.Lookup(bg, "AKIANOSUCHKEY0000000", ""); !errors.Is(err, iam.ErrUnknownAccessKey) {
		t.Errorf("unknown key: %v", err)
	}
}

// TestLookupStaleness: a change made by another node (straight in the shared store) is seen
// once the cache entry is older than the TTL, never later.
func TestLookupStaleness(t *testing.T) {
	f := newService(t, 5*time.Second)
	if _, err := f.svc.CreateUser(bg, defaultAccount, "bob", "", nil); err != nil {
		t.Fatal(err)
	}
	k, err := f.svc.CreateAccessKey(bg, defaultAccount, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Lookup(bg, k.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetAccessKeyStatus(bg, defaultAccount, "bob", k.ID, iam.StatusInactive); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Lookup(bg, k.ID, ""); err != nil {
		t.Errorf("within the TTL the cached key serves: %v", err)
	}
	f.ahead.Store(int64(5 * time.Second))
	if _, err := f.svc.Lookup(bg, k.ID, ""); !errors.Is(err, iam.ErrUnknownAccessKey) {
		t.Errorf("after the TTL: %v, want the key refused", err)
	}
}

// TestSessions: AssumeRole's credentials need their exact token until they expire.
func TestSessions(t *testing.T) {
	f := newService(t, 0)
	role, err := f.svc.CreateRole(bg, iam.Role{Account: defaultAccount, Name: "R", MaxSessionDuration: 7200,
		TrustPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AssumeRole(bg, root(t, f), iam.AssumeRoleInput{RoleARN: role.ARN(), SessionName: "s1"}); !errors.Is(err, iam.ErrAccessDenied) {
		t.Fatalf("the root assumed a role: %v", err)
	}
	tc, err := f.svc.AssumeRole(bg, assumer(t, f), iam.AssumeRoleInput{RoleARN: role.ARN(), SessionName: "s1", DurationSeconds: 900,
		Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	ss, _ := f.store.GetSession(bg, tc.AccessKeyID)
	if strings.Contains(string(ss.TokenHash), tc.SessionToken) || strings.Contains(string(ss.SealedSecret), tc.SecretAccessKey) {
		t.Fatal("the session's token or secret is stored in plaintext")
	}
	c, err := f.svc.Lookup(bg, tc.AccessKeyID, tc.SessionToken)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Principal
	if p.Type != iam.PrincipalAssumedRole || p.RoleARN != role.ARN() || p.SessionName != "s1" || p.UserID != role.ID+":s1" ||
		p.ARN != "arn:aws:sts::111122223333:assumed-role/R/s1" || len(p.SessionPolicies) != 1 {
		t.Fatalf("session principal = %+v", p)
	}
	cases := []struct {
		name  string
		token string
		ahead time.Duration
		want  error
	}{
		{"no token", "", 0, iam.ErrInvalidToken},
		{"other token", tc.SessionToken + "x", 0, iam.ErrInvalidToken},
		{"right token", tc.SessionToken, 0, nil},
		{"just before expiry", tc.SessionToken, 899 * time.Second, nil},
		{"expired", tc.SessionToken, 901 * time.Second, iam.ErrExpiredToken},
		{"expired, wrong token", "x", 901 * time.Second, iam.ErrInvalidToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.ahead.Store(int64(c.ahead))
			_, err := f.svc.Lookup(bg, tc.AccessKeyID, c.token)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	f.ahead.Store(int64(time.Hour))
	if n, err := f.svc.DeleteExpiredSessions(bg); err != nil || n != 1 {
		t.Errorf("DeleteExpiredSessions = %d, %v", n, err)
	}
	if _, err := f.svc.Lookup(bg, tc.AccessKeyID, tc.SessionToken); !errors.Is(err, iam.ErrUnknownAccessKey) {
		t.Errorf("deleted session: %v", err)
	}
}

// TestSessionPolicyARNs: PolicyArns name managed policies of the role's account, whose default
// versions become session policies beside Policy.
func TestSessionPolicyARNs(t *testing.T) {
	f := newService(t, 0)
	role, err := f.svc.CreateRole(bg, iam.Role{Account: defaultAccount, Name: "R",
		TrustPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	mp, err := f.svc.CreatePolicy(bg, defaultAccount, "limit", "/", "", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		arns []string
		want int // session policies, or -1 for NoSuchEntity
	}{
		{"none", nil, 0},
		{"one", []string{mp.ARN()}, 1},
		{"unknown", []string{"arn:aws:iam::111122223333:policy/nope"}, -1},
		{"another account's", []string{"arn:aws:iam::444455556666:policy/limit"}, -1},
	}
	caller := assumer(t, f)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			creds, err := f.svc.AssumeRole(bg, caller, iam.AssumeRoleInput{RoleARN: role.ARN(), SessionName: "s1", PolicyARNs: tc.arns})
			if tc.want < 0 {
				if !errors.Is(err, iam.ErrNoSuchEntity) {
					t.Fatalf("err = %v, want NoSuchEntity", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, err := f.svc.Lookup(bg, creds.AccessKeyID, creds.SessionToken)
			if err != nil || len(c.Principal.SessionPolicies) != tc.want {
				t.Fatalf("session policies = %d (%v), want %d", len(c.Principal.SessionPolicies), err, tc.want)
			}
		})
	}
}

// TestSessionOfRecreatedRole: a role session ends with its role. A new role of the same name
// (another id, perhaps another trust policy and more permissions) does not revive it.
func TestSessionOfRecreatedRole(t *testing.T) {
	f := newService(t, 0)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}`
	role, err := f.svc.CreateRole(bg, iam.Role{Account: defaultAccount, Name: "R", TrustPolicy: trust})
	if err != nil {
		t.Fatal(err)
	}
	tc, err := f.svc.AssumeRole(bg, assumer(t, f), iam.AssumeRoleInput{RoleARN: role.ARN(), SessionName: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteRole(bg, defaultAccount, "R"); err != nil {
		t.Fatal(err)
	}
	again, err := f.svc.CreateRole(bg, iam.Role{Account: defaultAccount, Name: "R", TrustPolicy: trust})
	if err != nil {
		t.Fatal(err)
	}
	if again.ID == role.ID {
		t.Fatalf("the new role has the old one's id %s", role.ID)
	}
	if _, err := f.svc.Lookup(bg, tc.AccessKeyID, tc.SessionToken); !errors.Is(err, iam.ErrInvalidToken) {
		t.Fatalf("a session of the deleted role works for its namesake: err = %v, want ErrInvalidToken", err)
	}
}

// TestDamagedIdentityPolicy: a stored identity policy that no longer parses (a stricter
// parser, a damaged record) may have denied something: it denies everything rather than
// being dropped, which would lift its denies.
func TestDamagedIdentityPolicy(t *testing.T) {
	f := newService(t, 0)
	if _, err := f.svc.CreateUser(bg, defaultAccount, "alice", "", nil); err != nil {
		t.Fatal(err)
	}
	e := iam.Entity{Kind: iam.KindUser, Account: defaultAccount, Name: "alice"}
	if err := f.svc.PutInlinePolicy(bg, e, "all", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	// Written past the service's validation, as an older parser or a damaged page leaves it.
	damaged := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"NoSuchOperator":{"aws:username":"alice"}}}]}`
	if err := f.store.PutInlinePolicy(bg, e, iam.InlinePolicy{Name: "deny-s3", Document: damaged}); err != nil {
		t.Fatal(err)
	}
	k, err := f.svc.CreateAccessKey(bg, defaultAccount, "alice")
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.Lookup(bg, k.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"s3:GetObject", "kms:Decrypt"} {
		t.Run(action, func(t *testing.T) {
			err := iam.Authorize(c.Principal, defaultAccount, action, "*", nil)
			if !errors.Is(err, iam.ErrAccessDenied) {
				t.Fatalf("%s allowed with a damaged (deny) policy in force: %v", action, err)
			}
			want := "with an explicit deny in an identity-based policy"
			if ie := (*iam.Error)(nil); !errors.As(err, &ie) || !strings.HasSuffix(ie.Message, want) {
				t.Errorf("message %v, want one ending %q", err, want)
			}
		})
	}
}

// TestAssumeRoleDuration: DurationSeconds out of STS's bounds is refused with the bound it
// breaks, beyond the role's maximum with the role's message.
func TestAssumeRoleDuration(t *testing.T) {
	f := newService(t, 0)
	role, err := f.svc.CreateRole(bg, iam.Role{Account: defaultAccount, Name: "R", MaxSessionDuration: 7200,
		TrustPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	caller := assumer(t, f)
	cases := []struct {
		seconds int
		want    string // "" for success
	}{
		{899, "Member must have value greater than or equal to 900"},
		{900, ""},
		{7200, ""},
		{7201, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
		{43201, "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"},
	}
	for _, c := range cases {
		t.Run(strconv.Itoa(c.seconds), func(t *testing.T) {
			_, err := f.svc.AssumeRole(bg, caller, iam.AssumeRoleInput{RoleARN: role.ARN(), SessionName: "s1", DurationSeconds: c.seconds})
			if c.want == "" && err != nil || c.want != "" && (!errors.Is(err, iam.ErrValidation) || !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}
