package iam_test

import (
	"testing"

	"github.com/coffer/coffer/internal/iam"
)

// TestPrincipalExists: each form of principal ARN a resource policy may name, existing or not.
func TestPrincipalExists(t *testing.T) {
	f := newService(t, 0)
	if _, err := f.svc.CreateUser(bg, defaultAccount, "alice", "/dev/", nil); err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + defaultAccount + `:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := f.svc.CreateRole(bg, iam.Role{Account: defaultAccount, Name: "ops", Path: "/", TrustPolicy: trust}); err != nil {
		t.Fatal(err)
	}
	const a = "arn:aws:iam::" + defaultAccount
	cases := []struct {
		arn  string
		want bool
	}{
		{a + ":root", true},
		{"arn:aws:iam::999999999999:root", false},
		{a + ":user/dev/alice", true},
		{a + ":user/alice", false}, // another path
		{a + ":user/dev/bob", false},
		{a + ":role/ops", true},
		{a + ":role/nobody", false},
		{"arn:aws:sts::" + defaultAccount + ":assumed-role/ops/session-1", true},
		{"arn:aws:sts::" + defaultAccount + ":assumed-role/nobody/session-1", false},
		{"arn:aws:sts::" + defaultAccount + ":federated-user/carol", true},
		{"arn:aws:sts::999999999999:federated-user/carol", false},
		{a + ":group/admins", false},
		{a + ":user/", false},
		{"arn:aws:s3:::bucket", false},
		{"*", false},
		{defaultAccount, false}, // an account id is checked by its root ARN
	}
	for _, tc := range cases {
		t.Run(tc.arn, func(t *testing.T) {
			got, err := f.svc.PrincipalExists(bg, tc.arn)
			if err != nil || got != tc.want {
				t.Fatalf("PrincipalExists = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
