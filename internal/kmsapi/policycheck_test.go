package kmsapi

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
)

// TestKeyPolicyChecks: CreateKey and PutKeyPolicy answer a key policy naming a principal that
// does not exist, and one failing the lockout safety check, with AWS's exact messages. The
// principal check applies with the lockout check bypassed too. (The test directory knows one
// principal: the account's root; test/integration covers users and roles.)
func TestKeyPolicyChecks(t *testing.T) {
	e := newEnv(t, "")
	const (
		lockout = "The new key policy will not allow you to update the key policy in the future."
		invalid = "Policy contains a statement with one or more invalid principals."
	)
	stmt := func(effect, principal, action string) string {
		return `{"Effect":"` + effect + `","Principal":{"AWS":"` + principal + `"},"Action":"` + action + `","Resource":"*"}`
	}
	doc := func(statements ...string) string {
		return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
	}
	root := "arn:aws:iam::" + testAccount + ":root"
	tests := []struct {
		name, policy string
		bypass       bool
		want         string
	}{
		{"the caller's account", doc(stmt("Allow", root, "kms:*")), false, ""},
		{"the caller's account by id", doc(stmt("Allow", testAccount, "kms:*")), false, ""},
		{"everyone", doc(stmt("Allow", "*", "kms:*")), false, ""},
		{"an account that does not exist", doc(stmt("Allow", root, "kms:*"), stmt("Allow", "arn:aws:iam::999999999999:root", "kms:Decrypt")), false, invalid},
		{"an account id that does not exist", doc(stmt("Allow", root, "kms:*"), stmt("Allow", "999999999999", "kms:Decrypt")), false, invalid},
		{"a user that does not exist", doc(stmt("Allow", root, "kms:*"), stmt("Allow", "arn:aws:iam::"+testAccount+":user/nobody", "kms:Decrypt")), false, invalid},
		{"a user that does not exist, bypassing the lockout check", doc(stmt("Allow", root, "kms:*"), stmt("Allow", "arn:aws:iam::"+testAccount+":user/nobody", "kms:Decrypt")), true, invalid},
		{"only Decrypt for the caller", doc(stmt("Allow", root, "kms:Decrypt")), false, lockout},
		{"only Decrypt for the caller, bypassing the check", doc(stmt("Allow", root, "kms:Decrypt")), true, ""},
		{"PutKeyPolicy denied to the caller", doc(stmt("Allow", root, "kms:*"), stmt("Deny", root, "kms:PutKeyPolicy")), false, lockout},
		{"PutKeyPolicy denied to everyone", doc(stmt("Allow", root, "kms:*"), stmt("Deny", "*", "kms:Put*")), false, lockout},
		{"a deny of the lockout bypass itself", doc(stmt("Allow", root, "kms:*"), `{"Effect":"Deny","Principal":"*","Action":"kms:PutKeyPolicy","Resource":"*","Condition":{"Bool":{"kms:BypassPolicyLockoutSafetyCheck":"true"}}}`), false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check := func(op string, err error) {
				t.Helper()
				if tc.want == "" {
					wantCode(t, err, "")
					return
				}
				wantCode(t, err, "MalformedPolicyDocumentException")
				if !strings.HasSuffix(err.Error(), "MalformedPolicyDocumentException: "+tc.want) {
					t.Fatalf("%s: %v, want the message %q", op, err, tc.want)
				}
			}
			_, err := e.client.CreateKey(ctx(), &awskms.CreateKeyInput{Policy: aws.String(tc.policy), BypassPolicyLockoutSafetyCheck: tc.bypass})
			check("CreateKey", err)
			id := e.createKey(t, nil)
			_, err = e.client.PutKeyPolicy(ctx(), &awskms.PutKeyPolicyInput{KeyId: &id, Policy: aws.String(tc.policy), BypassPolicyLockoutSafetyCheck: tc.bypass})
			check("PutKeyPolicy", err)
		})
	}
}
