package integration

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// TestKMSGrantAndPolicyBoundaries: what a grant or a narrow key policy gives stays with its
// principal and its constraints: a grant for alice is not bob's, ReEncrypt is held to the
// constraints on both keys, and Encrypt alone reads no grants or policy and manages nothing.
func TestKMSGrantAndPolicyBoundaries(t *testing.T) {
	e := startServer(t)
	acct := e.account(t, rootCreds)
	alice, _ := e.newUser(t, rootCreds, "alice")
	bob, _ := e.newUser(t, rootCreds, "bob")
	aliceARN := "arn:aws:iam::" + acct + ":user/alice"
	src, _ := e.keyWithPolicy(t, rootCreds, acct,
		`{"Effect":"Allow","Principal":{"AWS":"`+aliceARN+`"},"Action":"kms:Encrypt","Resource":"*"}`)
	dst, _ := e.keyWithPolicy(t, rootCreds, acct)
	root := e.kmsAs(rootCreds)
	ec := map[string]string{"app": "orders"}
	other := map[string]string{"app": "billing"}
	blob := must[*kms.EncryptOutput](t)(root.Encrypt(ctx(t), &kms.EncryptInput{KeyId: &src, Plaintext: []byte("hi"), EncryptionContext: ec})).CiphertextBlob
	otherBlob := must[*kms.EncryptOutput](t)(root.Encrypt(ctx(t), &kms.EncryptInput{KeyId: &src, Plaintext: []byte("hi"), EncryptionContext: other})).CiphertextBlob
	grant := func(key string, ops ...kmstypes.GrantOperation) {
		must[*kms.CreateGrantOutput](t)(root.CreateGrant(ctx(t), &kms.CreateGrantInput{KeyId: &key, GranteePrincipal: &aliceARN,
			Operations: ops, Constraints: &kmstypes.GrantConstraints{EncryptionContextEquals: ec}}))
	}
	grant(src, kmstypes.GrantOperationReEncryptFrom, kmstypes.GrantOperationDecrypt)
	grant(dst, kmstypes.GrantOperationReEncryptTo)
	reEncrypt := func(c creds, b []byte, from, to map[string]string) error {
		_, err := e.kmsAs(c).ReEncrypt(ctx(t), &kms.ReEncryptInput{CiphertextBlob: b, SourceEncryptionContext: from,
			DestinationKeyId: &dst, DestinationEncryptionContext: to})
		return err
	}
	cases := []struct {
		name string
		call func() error
		deny bool
	}{
		{"alice re-encrypts within both constraints", func() error { return reEncrypt(alice, blob, ec, ec) }, false},
		{"alice may not re-encrypt to another context", func() error { return reEncrypt(alice, blob, ec, other) }, true},
		{"alice may not re-encrypt from another context", func() error { return reEncrypt(alice, otherBlob, other, ec) }, true},
		{"bob may not use alice's grant", func() error { return reEncrypt(bob, blob, ec, ec) }, true},
		{"bob may not decrypt with it", func() error {
			_, err := e.kmsAs(bob).Decrypt(ctx(t), &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec})
			return err
		}, true},
		{"Encrypt alone lists no grants", func() error {
			_, err := e.kmsAs(alice).ListGrants(ctx(t), &kms.ListGrantsInput{KeyId: &src})
			return err
		}, true},
		{"nor reads the key policy", func() error {
			_, err := e.kmsAs(alice).GetKeyPolicy(ctx(t), &kms.GetKeyPolicyInput{KeyId: &src, PolicyName: aws.String("default")})
			return err
		}, true},
		{"nor disables the key", func() error {
			_, err := e.kmsAs(alice).DisableKey(ctx(t), &kms.DisableKeyInput{KeyId: &src})
			return err
		}, true},
		{"nor schedules its deletion", func() error {
			_, err := e.kmsAs(alice).ScheduleKeyDeletion(ctx(t), &kms.ScheduleKeyDeletionInput{KeyId: &src, PendingWindowInDays: aws.Int32(7)})
			return err
		}, true},
		{"nor makes itself a grant", func() error {
			_, err := e.kmsAs(alice).CreateGrant(ctx(t), &kms.CreateGrantInput{KeyId: &src, GranteePrincipal: &aliceARN,
				Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt}})
			return err
		}, true},
		{"nor points an alias at it", func() error {
			_, err := e.kmsAs(alice).CreateAlias(ctx(t), &kms.CreateAliasInput{AliasName: aws.String("alias/mine"), TargetKeyId: &src})
			return err
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.deny {
				wantKMSDenied(t, err, "")
			} else if err != nil {
				t.Fatal(err)
			}
		})
	}
}
