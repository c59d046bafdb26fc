package iam_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/coffer/coffer/internal/iam"
)

// sizedPolicy returns an identity policy of exactly n characters other than white space
// (n >= 120), plus white space that does not count.
func sizedPolicy(n int) string {
	head, tail := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::`, `"}]}`
	return head + strings.Repeat("a", n-len(head)-len(tail)) + tail + strings.Repeat(" \n", 1000)
}

// TestPolicySizeQuotas: IAM's policy size quotas hold (inline policies of a user or role
// together, one managed policy version, a trust policy), white space not counted: a principal
// that may write policies cannot make its lookups and evaluations arbitrarily costly.
func TestPolicySizeQuotas(t *testing.T) {
	f := newService(t, 0)
	if _, err := f.svc.CreateUser(bg, defaultAccount, "alice", "", nil); err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}`
	if _, err := f.svc.CreateRole(bg, iam.Role{Account: defaultAccount, Name: "R", TrustPolicy: trust}); err != nil {
		t.Fatal(err)
	}
	user := iam.Entity{Kind: iam.KindUser, Account: defaultAccount, Name: "alice"}
	role := iam.Entity{Kind: iam.KindRole, Account: defaultAccount, Name: "R"}
	arn := "arn:aws:iam::" + defaultAccount + ":policy/"
	// 2049 characters: the quota and one.
	bigTrust := strings.Replace(trust, `"sts:AssumeRole"`, `"sts:AssumeRole","Sid":"`+strings.Repeat("a", 2040-len(trust))+`"`, 1)
	cases := []struct {
		name string
		do   func() error
		want string // "" for success
	}{
		{"user: one policy at the quota", func() error { return f.svc.PutInlinePolicy(bg, user, "p1", sizedPolicy(2048)) }, ""},
		{"user: replacing it", func() error { return f.svc.PutInlinePolicy(bg, user, "P1", sizedPolicy(2000)) }, ""},
		{"user: another beyond the quota together", func() error { return f.svc.PutInlinePolicy(bg, user, "p2", sizedPolicy(200)) },
			"Maximum policy size of 2048 bytes exceeded for user alice"},
		{"role: 10240 together", func() error { return f.svc.PutInlinePolicy(bg, role, "p1", sizedPolicy(10240)) }, ""},
		{"role: beyond", func() error { return f.svc.PutInlinePolicy(bg, role, "p2", sizedPolicy(120)) },
			"Maximum policy size of 10240 bytes exceeded for role R"},
		{"managed: at the quota", func() error {
			_, err := f.svc.CreatePolicy(bg, defaultAccount, "m", "", "", sizedPolicy(6144), nil)
			return err
		}, ""},
		{"managed: beyond", func() error {
			_, err := f.svc.CreatePolicy(bg, defaultAccount, "m2", "", "", sizedPolicy(6145), nil)
			return err
		},
			"Cannot exceed quota for PolicySize: 6144"},
		{"managed version: beyond", func() error {
			_, err := f.svc.CreatePolicyVersion(bg, defaultAccount, arn+"m", sizedPolicy(6145), true)
			return err
		}, "Cannot exceed quota for PolicySize: 6144"},
		{"trust: beyond", func() error {
			_, err := f.svc.CreateRole(bg, iam.Role{Account: defaultAccount, Name: "Big", TrustPolicy: bigTrust})
			return err
		}, "Cannot exceed quota for ACLSizePerRole: 2048"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.do()
			if c.want == "" && err != nil || c.want != "" && (!errors.Is(err, iam.ErrLimitExceeded) || !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// TestAttachedPolicyQuota: a user or role has at most 10 managed policies attached.
func TestAttachedPolicyQuota(t *testing.T) {
	f := newService(t, 0)
	if _, err := f.svc.CreateUser(bg, defaultAccount, "alice", "", nil); err != nil {
		t.Fatal(err)
	}
	user := iam.Entity{Kind: iam.KindUser, Account: defaultAccount, Name: "alice"}
	for i := range 11 {
		p, err := f.svc.CreatePolicy(bg, defaultAccount, "m"+strconv.Itoa(i), "", "", sizedPolicy(200), nil)
		if err != nil {
			t.Fatal(err)
		}
		err = f.svc.AttachPolicy(bg, user, p.ARN())
		switch {
		case i < 10 && err != nil:
			t.Fatalf("attaching policy %d: %v", i+1, err)
		case i == 10 && (!errors.Is(err, iam.ErrLimitExceeded) || !strings.Contains(err.Error(), "Cannot exceed quota for PoliciesPerUser: 10")):
			t.Fatalf("attaching an 11th policy: %v", err)
		}
	}
	if err := f.svc.AttachPolicy(bg, user, "arn:aws:iam::"+defaultAccount+":policy/m0"); err != nil {
		t.Fatalf("attaching an attached policy again: %v", err)
	}
}
