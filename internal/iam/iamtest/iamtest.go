// Package iamtest is the conformance suite every iam.Store must pass.
//
// A backend's test calls Run with a function that returns a fresh, empty store for each subtest:
//
//	func TestConformance(t *testing.T) {
//		iamtest.Run(t, func(t *testing.T) iam.Store { return newStore(t) })
//	}
package iamtest

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/iam"
)

// Run runs the whole suite. open must return a new empty store on each call and arrange its
// cleanup with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) iam.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s iam.Store)
	}{
		{"Accounts", testAccounts},
		{"Users", testUsers},
		{"AccessKeys", testAccessKeys},
		{"AccessKeyLimitConcurrent", testAccessKeyLimitConcurrent},
		{"Roles", testRoles},
		{"InlinePolicies", testInlinePolicies},
		{"ManagedPolicies", testManagedPolicies},
		{"DeleteConflicts", testDeleteConflicts},
		{"UpdateUserAndRole", testUpdateUserAndRole},
		{"PolicyTags", testPolicyTags},
		{"PolicyEntities", testPolicyEntities},
		{"Sessions", testSessions},
		{"AccountsAreSeparate", testAccountsAreSeparate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

const (
	acctA = "111122223333"
	acctB = "444455556666"
)

var t0 = time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)

func ctx() context.Context { return context.Background() }

// wantErr fails unless err is of class want (nil for success).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

// seed creates the two accounts.
func seed(t *testing.T, s iam.Store) {
	t.Helper()
	for _, id := range []string{acctA, acctB} {
		wantErr(t, "CreateAccount", s.CreateAccount(ctx(), iam.Account{ID: id, DisplayName: "name-" + id}), nil)
	}
}

func testAccounts(t *testing.T, s iam.Store) {
	_, err := s.GetAccount(ctx(), acctA)
	wantErr(t, "GetAccount before", err, iam.ErrNoSuchEntity)
	seed(t, s)
	wantErr(t, "CreateAccount again", s.CreateAccount(ctx(), iam.Account{ID: acctA}), iam.ErrEntityExists)
	a, err := s.GetAccount(ctx(), acctA)
	wantErr(t, "GetAccount", err, nil)
	if a.DisplayName != "name-"+acctA {
		t.Errorf("DisplayName = %q", a.DisplayName)
	}
	all, err := s.ListAccounts(ctx())
	wantErr(t, "ListAccounts", err, nil)
	if len(all) != 2 || all[0].ID != acctA || all[1].ID != acctB {
		t.Errorf("ListAccounts = %+v", all)
	}
}

func testUsers(t *testing.T, s iam.Store) {
	wantErr(t, "CreateUser without account", s.CreateUser(ctx(), iam.User{Account: acctA, Name: "alice", Path: "/"}), iam.ErrNoSuchEntity)
	seed(t, s)
	alice := iam.User{Account: acctA, Name: "Alice", Path: "/eng/", ID: "AIDAALICE", Created: t0}
	wantErr(t, "CreateUser", s.CreateUser(ctx(), alice), nil)
	wantErr(t, "CreateUser same name other case", s.CreateUser(ctx(), iam.User{Account: acctA, Name: "alice", Path: "/"}), iam.ErrEntityExists)
	wantErr(t, "CreateUser bob", s.CreateUser(ctx(), iam.User{Account: acctA, Name: "bob", Path: "/"}), nil)
	got, err := s.GetUser(ctx(), acctA, "ALICE")
	wantErr(t, "GetUser", err, nil)
	if !reflect.DeepEqual(got, alice) {
		t.Errorf("GetUser = %+v, want %+v", got, alice)
	}
	if got.ARN() != "arn:aws:iam::111122223333:user/eng/Alice" {
		t.Errorf("ARN = %s", got.ARN())
	}
	us, err := s.ListUsers(ctx(), acctA)
	wantErr(t, "ListUsers", err, nil)
	if len(us) != 2 || us[0].Name != "Alice" || us[1].Name != "bob" {
		t.Errorf("ListUsers = %+v", us)
	}
	wantErr(t, "DeleteUser", s.DeleteUser(ctx(), acctA, "bob"), nil)
	wantErr(t, "DeleteUser again", s.DeleteUser(ctx(), acctA, "bob"), iam.ErrNoSuchEntity)
	_, err = s.GetUser(ctx(), acctA, "bob")
	wantErr(t, "GetUser deleted", err, iam.ErrNoSuchEntity)
}

func testAccessKeys(t *testing.T, s iam.Store) {
	seed(t, s)
	wantErr(t, "CreateUser", s.CreateUser(ctx(), iam.User{Account: acctA, Name: "alice", Path: "/"}), nil)
	k := iam.AccessKey{ID: "AKIA1", Account: acctA, UserName: "ALICE", Status: iam.StatusActive, Created: t0, SealedSecret: []byte("sealed")}
	wantErr(t, "CreateAccessKey", s.CreateAccessKey(ctx(), k, 2), nil)
	wantErr(t, "CreateAccessKey same id", s.CreateAccessKey(ctx(), k, 2), iam.ErrEntityExists)
	wantErr(t, "CreateAccessKey no user", s.CreateAccessKey(ctx(), iam.AccessKey{ID: "AKIA9", Account: acctA, UserName: "nobody"}, 2), iam.ErrNoSuchEntity)
	wantErr(t, "CreateAccessKey 2", s.CreateAccessKey(ctx(), iam.AccessKey{ID: "AKIA2", Account: acctA, UserName: "alice", Status: iam.StatusActive}, 2), nil)
	wantErr(t, "CreateAccessKey 3", s.CreateAccessKey(ctx(), iam.AccessKey{ID: "AKIA3", Account: acctA, UserName: "alice"}, 2), iam.ErrLimitExceeded)
	wantErr(t, "CreateAccessKey root", s.CreateAccessKey(ctx(), iam.AccessKey{ID: "AKIAROOT", Account: acctA, Status: iam.StatusActive}, 2), nil)
	got, err := s.GetAccessKey(ctx(), "AKIA1")
	wantErr(t, "GetAccessKey", err, nil)
	if got.UserName != "alice" || !bytes.Equal(got.SealedSecret, []byte("sealed")) || !got.Created.Equal(t0) {
		t.Errorf("GetAccessKey = %+v (user name takes the stored spelling)", got)
	}
	ks, err := s.ListAccessKeys(ctx(), acctA, "alice")
	wantErr(t, "ListAccessKeys", err, nil)
	if len(ks) != 2 || ks[0].ID != "AKIA1" || ks[1].ID != "AKIA2" {
		t.Errorf("ListAccessKeys = %+v", ks)
	}
	roots, err := s.ListAccessKeys(ctx(), acctA, "")
	wantErr(t, "ListAccessKeys root", err, nil)
	if len(roots) != 1 || roots[0].ID != "AKIAROOT" {
		t.Errorf("root keys = %+v", roots)
	}
	_, err = s.ListAccessKeys(ctx(), acctA, "nobody")
	wantErr(t, "ListAccessKeys no user", err, iam.ErrNoSuchEntity)
	wantErr(t, "SetAccessKeyStatus other user", s.SetAccessKeyStatus(ctx(), acctA, "", "AKIA1", iam.StatusInactive), iam.ErrNoSuchEntity)
	wantErr(t, "SetAccessKeyStatus", s.SetAccessKeyStatus(ctx(), acctA, "alice", "AKIA1", iam.StatusInactive), nil)
	if got, _ := s.GetAccessKey(ctx(), "AKIA1"); got.Status != iam.StatusInactive {
		t.Errorf("status = %s", got.Status)
	}
	wantErr(t, "DeleteAccessKey other account", s.DeleteAccessKey(ctx(), acctB, "alice", "AKIA1"), iam.ErrNoSuchEntity)
	wantErr(t, "DeleteAccessKey", s.DeleteAccessKey(ctx(), acctA, "alice", "AKIA1"), nil)
	_, err = s.GetAccessKey(ctx(), "AKIA1")
	wantErr(t, "GetAccessKey deleted", err, iam.ErrNoSuchEntity)
	wantErr(t, "CreateAccessKey after delete", s.CreateAccessKey(ctx(), iam.AccessKey{ID: "AKIA3", Account: acctA, UserName: "alice"}, 2), nil)
}

func testAccessKeyLimitConcurrent(t *testing.T, s iam.Store) {
	seed(t, s)
	wantErr(t, "CreateUser", s.CreateUser(ctx(), iam.User{Account: acctA, Name: "alice", Path: "/"}), nil)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			errs[i] = s.CreateAccessKey(ctx(), iam.AccessKey{ID: "AKIAC" + string(rune('A'+i)), Account: acctA, UserName: "alice"}, 2)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !errors.Is(err, iam.ErrLimitExceeded) {
			t.Errorf("err = %v", err)
		}
	}
	if ok != 2 {
		t.Errorf("%d keys made concurrently, want 2", ok)
	}
}

func testRoles(t *testing.T, s iam.Store) {
	seed(t, s)
	r := iam.Role{Account: acctA, Name: "Reader", Path: "/", ID: "AROA1", TrustPolicy: `{"x":1}`, MaxSessionDuration: 7200, Created: t0}
	wantErr(t, "CreateRole", s.CreateRole(ctx(), r), nil)
	wantErr(t, "CreateRole again", s.CreateRole(ctx(), iam.Role{Account: acctA, Name: "reader"}), iam.ErrEntityExists)
	wantErr(t, "CreateRole other account", s.CreateRole(ctx(), iam.Role{Account: acctB, Name: "reader"}), nil)
	got, err := s.GetRole(ctx(), acctA, "READER")
	wantErr(t, "GetRole", err, nil)
	if !reflect.DeepEqual(got, r) || got.ARN() != "arn:aws:iam::111122223333:role/Reader" {
		t.Errorf("GetRole = %+v", got)
	}
	rs, err := s.ListRoles(ctx(), acctA)
	wantErr(t, "ListRoles", err, nil)
	if len(rs) != 1 {
		t.Errorf("ListRoles = %+v", rs)
	}
	wantErr(t, "DeleteRole", s.DeleteRole(ctx(), acctA, "reader"), nil)
	wantErr(t, "DeleteRole again", s.DeleteRole(ctx(), acctA, "reader"), iam.ErrNoSuchEntity)
}

func testInlinePolicies(t *testing.T, s iam.Store) {
	seed(t, s)
	for _, e := range []iam.Entity{{Kind: iam.KindUser, Account: acctA, Name: "alice"}, {Kind: iam.KindRole, Account: acctA, Name: "r"}} {
		t.Run(string(e.Kind), func(t *testing.T) {
			wantErr(t, "Put without entity", s.PutInlinePolicy(ctx(), e, iam.InlinePolicy{Name: "p", Document: "d"}), iam.ErrNoSuchEntity)
			_, err := s.ListInlinePolicies(ctx(), e)
			wantErr(t, "List without entity", err, iam.ErrNoSuchEntity)
			if e.Kind == iam.KindUser {
				wantErr(t, "CreateUser", s.CreateUser(ctx(), iam.User{Account: acctA, Name: e.Name, Path: "/"}), nil)
			} else {
				wantErr(t, "CreateRole", s.CreateRole(ctx(), iam.Role{Account: acctA, Name: e.Name, Path: "/"}), nil)
			}
			wantErr(t, "Put b", s.PutInlinePolicy(ctx(), e, iam.InlinePolicy{Name: "b", Document: "1"}), nil)
			wantErr(t, "Put a", s.PutInlinePolicy(ctx(), e, iam.InlinePolicy{Name: "a", Document: "2"}), nil)
			wantErr(t, "Put b again", s.PutInlinePolicy(ctx(), e, iam.InlinePolicy{Name: "b", Document: "3"}), nil)
			p, err := s.GetInlinePolicy(ctx(), e, "b")
			wantErr(t, "Get", err, nil)
			if p.Document != "3" {
				t.Errorf("Get = %+v", p)
			}
			ps, err := s.ListInlinePolicies(ctx(), e)
			wantErr(t, "List", err, nil)
			if len(ps) != 2 || ps[0].Name != "a" || ps[1].Name != "b" {
				t.Errorf("List = %+v", ps)
			}
			wantErr(t, "Delete", s.DeleteInlinePolicy(ctx(), e, "a"), nil)
			wantErr(t, "Delete again", s.DeleteInlinePolicy(ctx(), e, "a"), iam.ErrNoSuchEntity)
			_, err = s.GetInlinePolicy(ctx(), e, "a")
			wantErr(t, "Get deleted", err, iam.ErrNoSuchEntity)
		})
	}
}

func testManagedPolicies(t *testing.T, s iam.Store) {
	seed(t, s)
	p := iam.ManagedPolicy{Account: acctA, Name: "ReadAll", Path: "/", ID: "ANPA1", DefaultVersion: "v1",
		Versions: []iam.PolicyVersion{{ID: "v1", Document: "d1", Created: t0}}, NextVersion: 2, Created: t0, Updated: t0}
	wantErr(t, "CreatePolicy", s.CreatePolicy(ctx(), p), nil)
	wantErr(t, "CreatePolicy again", s.CreatePolicy(ctx(), iam.ManagedPolicy{Account: acctA, Name: "readall"}), iam.ErrEntityExists)
	got, err := s.UpdatePolicy(ctx(), acctA, "readall", func(p *iam.ManagedPolicy) error {
		p.Versions = append(p.Versions, iam.PolicyVersion{ID: "v2", Document: "d2"})
		p.DefaultVersion, p.NextVersion = "v2", 3
		return nil
	})
	wantErr(t, "UpdatePolicy", err, nil)
	if got.DefaultVersion != "v2" || len(got.Versions) != 2 {
		t.Errorf("UpdatePolicy = %+v", got)
	}
	boom := errors.New("boom")
	_, err = s.UpdatePolicy(ctx(), acctA, "ReadAll", func(p *iam.ManagedPolicy) error { p.DefaultVersion = "v9"; return boom })
	wantErr(t, "UpdatePolicy failing", err, boom)
	got, err = s.GetPolicy(ctx(), acctA, "ReadAll")
	wantErr(t, "GetPolicy", err, nil)
	if v, ok := got.Version("v2"); !ok || v.Document != "d2" || got.DefaultVersion != "v2" || got.Attachments != 0 {
		t.Errorf("GetPolicy = %+v", got)
	}
	alice := iam.Entity{Kind: iam.KindUser, Account: acctA, Name: "alice"}
	role := iam.Entity{Kind: iam.KindRole, Account: acctA, Name: "r"}
	wantErr(t, "Attach no user", s.AttachPolicy(ctx(), alice, "ReadAll"), iam.ErrNoSuchEntity)
	wantErr(t, "CreateUser", s.CreateUser(ctx(), iam.User{Account: acctA, Name: "alice", Path: "/"}), nil)
	wantErr(t, "CreateRole", s.CreateRole(ctx(), iam.Role{Account: acctA, Name: "r", Path: "/"}), nil)
	wantErr(t, "Attach no policy", s.AttachPolicy(ctx(), alice, "Nope"), iam.ErrNoSuchEntity)
	wantErr(t, "Attach user", s.AttachPolicy(ctx(), alice, "ReadAll"), nil)
	wantErr(t, "Attach user twice", s.AttachPolicy(ctx(), alice, "ReadAll"), nil)
	wantErr(t, "Attach role", s.AttachPolicy(ctx(), role, "ReadAll"), nil)
	if got, _ := s.GetPolicy(ctx(), acctA, "ReadAll"); got.Attachments != 2 {
		t.Errorf("Attachments = %d, want 2", got.Attachments)
	}
	ps, err := s.ListAttachedPolicies(ctx(), alice)
	wantErr(t, "ListAttachedPolicies", err, nil)
	if len(ps) != 1 || ps[0].Name != "ReadAll" {
		t.Errorf("ListAttachedPolicies = %+v", ps)
	}
	wantErr(t, "DeletePolicy attached", s.DeletePolicy(ctx(), acctA, "ReadAll"), iam.ErrDeleteConflict)
	wantErr(t, "Detach user", s.DetachPolicy(ctx(), alice, "ReadAll"), nil)
	wantErr(t, "Detach user again", s.DetachPolicy(ctx(), alice, "ReadAll"), iam.ErrNoSuchEntity)
	wantErr(t, "Detach role", s.DetachPolicy(ctx(), role, "readall"), nil)
	all, err := s.ListPolicies(ctx(), acctA)
	wantErr(t, "ListPolicies", err, nil)
	if len(all) != 1 || all[0].Attachments != 0 {
		t.Errorf("ListPolicies = %+v", all)
	}
	wantErr(t, "DeletePolicy", s.DeletePolicy(ctx(), acctA, "ReadAll"), nil)
	_, err = s.GetPolicy(ctx(), acctA, "ReadAll")
	wantErr(t, "GetPolicy deleted", err, iam.ErrNoSuchEntity)
}

func testDeleteConflicts(t *testing.T, s iam.Store) {
	seed(t, s)
	alice := iam.Entity{Kind: iam.KindUser, Account: acctA, Name: "alice"}
	role := iam.Entity{Kind: iam.KindRole, Account: acctA, Name: "r"}
	wantErr(t, "CreateUser", s.CreateUser(ctx(), iam.User{Account: acctA, Name: "alice", Path: "/"}), nil)
	wantErr(t, "CreateRole", s.CreateRole(ctx(), iam.Role{Account: acctA, Name: "r", Path: "/"}), nil)
	wantErr(t, "CreatePolicy", s.CreatePolicy(ctx(), iam.ManagedPolicy{Account: acctA, Name: "p", Path: "/"}), nil)
	steps := []struct {
		name     string
		add, del func() error
		remove   func() error
	}{
		{"access key", func() error {
			return s.CreateAccessKey(ctx(), iam.AccessKey{ID: "AKIAX", Account: acctA, UserName: "alice"}, 2)
		}, func() error { return s.DeleteUser(ctx(), acctA, "alice") }, func() error { return s.DeleteAccessKey(ctx(), acctA, "alice", "AKIAX") }},
		{"user inline", func() error { return s.PutInlinePolicy(ctx(), alice, iam.InlinePolicy{Name: "i", Document: "d"}) },
			func() error { return s.DeleteUser(ctx(), acctA, "alice") }, func() error { return s.DeleteInlinePolicy(ctx(), alice, "i") }},
		{"user attached", func() error { return s.AttachPolicy(ctx(), alice, "p") },
			func() error { return s.DeleteUser(ctx(), acctA, "alice") }, func() error { return s.DetachPolicy(ctx(), alice, "p") }},
		{"role inline", func() error { return s.PutInlinePolicy(ctx(), role, iam.InlinePolicy{Name: "i", Document: "d"}) },
			func() error { return s.DeleteRole(ctx(), acctA, "r") }, func() error { return s.DeleteInlinePolicy(ctx(), role, "i") }},
		{"role attached", func() error { return s.AttachPolicy(ctx(), role, "p") },
			func() error { return s.DeleteRole(ctx(), acctA, "r") }, func() error { return s.DetachPolicy(ctx(), role, "p") }},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			wantErr(t, "add", st.add(), nil)
			wantErr(t, "delete while held", st.del(), iam.ErrDeleteConflict)
			wantErr(t, "remove", st.remove(), nil)
		})
	}
	wantErr(t, "DeleteUser", s.DeleteUser(ctx(), acctA, "alice"), nil)
	wantErr(t, "DeleteRole", s.DeleteRole(ctx(), acctA, "r"), nil)
}

func testSessions(t *testing.T, s iam.Store) {
	seed(t, s)
	ss := iam.Session{AccessKeyID: "ASIA1", Account: acctA, RoleName: "r", SessionName: "s", TokenHash: []byte{1, 2, 3},
		SealedSecret: []byte("sealed"), Policies: []string{"p"}, Created: t0, Expires: t0.Add(time.Hour)}
	wantErr(t, "PutSession", s.PutSession(ctx(), ss), nil)
	wantErr(t, "PutSession again", s.PutSession(ctx(), ss), iam.ErrEntityExists)
	wantErr(t, "PutSession 2", s.PutSession(ctx(), iam.Session{AccessKeyID: "ASIA2", Account: acctA, Expires: t0.Add(2 * time.Hour)}), nil)
	got, err := s.GetSession(ctx(), "ASIA1")
	wantErr(t, "GetSession", err, nil)
	if !bytes.Equal(got.TokenHash, ss.TokenHash) || !got.Expires.Equal(ss.Expires) || len(got.Policies) != 1 || got.RoleName != "r" {
		t.Errorf("GetSession = %+v", got)
	}
	n, err := s.DeleteExpiredSessions(ctx(), t0.Add(90*time.Minute))
	wantErr(t, "DeleteExpiredSessions", err, nil)
	if n != 1 {
		t.Errorf("deleted %d, want 1", n)
	}
	_, err = s.GetSession(ctx(), "ASIA1")
	wantErr(t, "GetSession expired", err, iam.ErrNoSuchEntity)
	_, err = s.GetSession(ctx(), "ASIA2")
	wantErr(t, "GetSession live", err, nil)
}

func testAccountsAreSeparate(t *testing.T, s iam.Store) {
	seed(t, s)
	for _, a := range []string{acctA, acctB} {
		wantErr(t, "CreateUser "+a, s.CreateUser(ctx(), iam.User{Account: a, Name: "alice", Path: "/"}), nil)
		wantErr(t, "CreatePolicy "+a, s.CreatePolicy(ctx(), iam.ManagedPolicy{Account: a, Name: "p", Path: "/"}), nil)
	}
	wantErr(t, "DeleteUser A", s.DeleteUser(ctx(), acctA, "alice"), nil)
	if _, err := s.GetUser(ctx(), acctB, "alice"); err != nil {
		t.Errorf("B's alice: %v", err)
	}
	us, _ := s.ListUsers(ctx(), acctA)
	if len(us) != 0 {
		t.Errorf("A's users = %+v", us)
	}
	wantErr(t, "Attach B's policy to A's user", s.AttachPolicy(ctx(), iam.Entity{Kind: iam.KindUser, Account: acctB, Name: "alice"}, "p"), nil)
	if p, _ := s.GetPolicy(ctx(), acctA, "p"); p.Attachments != 0 {
		t.Errorf("A's policy has %d attachments", p.Attachments)
	}
}

func testUpdateUserAndRole(t *testing.T, s iam.Store) {
	seed(t, s)
	tags := []iam.Tag{{Key: "team", Value: "blue"}, {Key: "Cost Center", Value: ""}}
	wantErr(t, "CreateUser", s.CreateUser(ctx(), iam.User{Account: acctA, Name: "Alice", Path: "/", ID: "AIDA1", Created: t0, Tags: tags}), nil)
	wantErr(t, "CreateRole", s.CreateRole(ctx(), iam.Role{Account: acctA, Name: "R", Path: "/", ID: "AROA1", TrustPolicy: "t", Tags: tags}), nil)
	if u, _ := s.GetUser(ctx(), acctA, "alice"); !reflect.DeepEqual(u.Tags, tags) {
		t.Errorf("user tags = %+v", u.Tags)
	}
	if r, _ := s.GetRole(ctx(), acctA, "r"); !reflect.DeepEqual(r.Tags, tags) {
		t.Errorf("role tags = %+v", r.Tags)
	}
	boom := errors.New("boom")
	steps := []struct {
		name string
		run  func() error
		want error
	}{
		{"user", func() error {
			_, err := s.UpdateUser(ctx(), acctA, "ALICE", func(u *iam.User) error { u.Path, u.Tags = "/eng/", tags[:1]; return nil })
			return err
		}, nil},
		{"user failing", func() error {
			_, err := s.UpdateUser(ctx(), acctA, "alice", func(u *iam.User) error { u.Path = "/x/"; return boom })
			return err
		}, boom},
		{"user rename", func() error {
			_, err := s.UpdateUser(ctx(), acctA, "alice", func(u *iam.User) error { u.Name = "bob"; return nil })
			return err
		}, iam.ErrValidation},
		{"user missing", func() error {
			_, err := s.UpdateUser(ctx(), acctB, "alice", func(*iam.User) error { return nil })
			return err
		}, iam.ErrNoSuchEntity},
		{"role", func() error {
			_, err := s.UpdateRole(ctx(), acctA, "r", func(r *iam.Role) error { r.Description, r.Tags = "d", nil; return nil })
			return err
		}, nil},
		{"role failing", func() error {
			_, err := s.UpdateRole(ctx(), acctA, "R", func(r *iam.Role) error { r.TrustPolicy = "x"; return boom })
			return err
		}, boom},
		{"role rename", func() error {
			_, err := s.UpdateRole(ctx(), acctA, "R", func(r *iam.Role) error { r.Name = "S"; return nil })
			return err
		}, iam.ErrValidation},
		{"role missing", func() error {
			_, err := s.UpdateRole(ctx(), acctA, "nope", func(*iam.Role) error { return nil })
			return err
		}, iam.ErrNoSuchEntity},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) { wantErr(t, st.name, st.run(), st.want) })
	}
	u, err := s.GetUser(ctx(), acctA, "alice")
	wantErr(t, "GetUser", err, nil)
	if u.Name != "Alice" || u.Path != "/eng/" || !reflect.DeepEqual(u.Tags, tags[:1]) {
		t.Errorf("updated user = %+v", u)
	}
	r, err := s.GetRole(ctx(), acctA, "r")
	wantErr(t, "GetRole", err, nil)
	if r.Name != "R" || r.Description != "d" || r.TrustPolicy != "t" || len(r.Tags) != 0 {
		t.Errorf("updated role = %+v", r)
	}
}

func testPolicyTags(t *testing.T, s iam.Store) {
	seed(t, s)
	tags := []iam.Tag{{Key: "a", Value: "1"}}
	wantErr(t, "CreatePolicy", s.CreatePolicy(ctx(), iam.ManagedPolicy{Account: acctA, Name: "p", Path: "/", Tags: tags}), nil)
	if p, _ := s.GetPolicy(ctx(), acctA, "p"); !reflect.DeepEqual(p.Tags, tags) {
		t.Errorf("GetPolicy tags = %+v", p.Tags)
	}
	_, err := s.UpdatePolicy(ctx(), acctA, "p", func(p *iam.ManagedPolicy) error { p.Tags = append(p.Tags, iam.Tag{Key: "b"}); return nil })
	wantErr(t, "UpdatePolicy", err, nil)
	if ps, _ := s.ListPolicies(ctx(), acctA); len(ps) != 1 || len(ps[0].Tags) != 2 {
		t.Errorf("ListPolicies = %+v", ps)
	}
}

func testPolicyEntities(t *testing.T, s iam.Store) {
	seed(t, s)
	_, err := s.ListPolicyEntities(ctx(), acctA, "p")
	wantErr(t, "ListPolicyEntities without policy", err, iam.ErrNoSuchEntity)
	wantErr(t, "CreatePolicy", s.CreatePolicy(ctx(), iam.ManagedPolicy{Account: acctA, Name: "P", Path: "/"}), nil)
	for _, n := range []string{"Zed", "amy"} {
		wantErr(t, "CreateUser "+n, s.CreateUser(ctx(), iam.User{Account: acctA, Name: n, Path: "/"}), nil)
		wantErr(t, "Attach "+n, s.AttachPolicy(ctx(), iam.Entity{Kind: iam.KindUser, Account: acctA, Name: n}, "p"), nil)
	}
	wantErr(t, "CreateRole", s.CreateRole(ctx(), iam.Role{Account: acctA, Name: "Admin", Path: "/"}), nil)
	wantErr(t, "Attach role", s.AttachPolicy(ctx(), iam.Entity{Kind: iam.KindRole, Account: acctA, Name: "admin"}, "P"), nil)
	es, err := s.ListPolicyEntities(ctx(), acctA, "p")
	wantErr(t, "ListPolicyEntities", err, nil)
	want := []iam.Entity{{Kind: iam.KindUser, Account: acctA, Name: "amy"}, {Kind: iam.KindUser, Account: acctA, Name: "Zed"},
		{Kind: iam.KindRole, Account: acctA, Name: "Admin"}}
	if !reflect.DeepEqual(es, want) {
		t.Errorf("ListPolicyEntities = %+v, want %+v", es, want)
	}
}
