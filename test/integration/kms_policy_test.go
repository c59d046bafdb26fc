package integration

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// KMS authorization through aws-sdk-go-v2 against a real server: key policies, grants,
// identity policies, cross-account keys, role sessions, and S3 calling the KMS as the user.

// account returns the account id the credentials c belong to.
func (e *env) account(t *testing.T, c creds) string {
	t.Helper()
	id := must[*sts.GetCallerIdentityOutput](t)(e.stsAs(c).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{}))
	return *id.Account
}

// keyWithPolicy creates a key as c with a key policy whose first statement keeps c's account
// root in full control, followed by statements.
func (e *env) keyWithPolicy(t *testing.T, c creds, account string, statements ...string) (id, arn string) {
	t.Helper()
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` +
		account + `:root"},"Action":"kms:*","Resource":"*"}` + strings.Repeat(",%s", len(statements)) + `]}`
	args := make([]any, len(statements))
	for i, s := range statements {
		args[i] = s
	}
	out := must[*kms.CreateKeyOutput](t)(e.kmsAs(c).CreateKey(ctx(t), &kms.CreateKeyInput{Policy: aws.String(fmt.Sprintf(doc, args...))}))
	return *out.KeyMetadata.KeyId, *out.KeyMetadata.Arn
}

// wantKMSDenied checks err is AccessDeniedException (HTTP 400) whose message has message in it
// (AWS's wording, from its start when message starts with "User: ").
func wantKMSDenied(t *testing.T, err error, message string) {
	t.Helper()
	wantAPIError(t, err, "AccessDeniedException", http.StatusBadRequest)
	if strings.HasPrefix(message, "User: ") {
		message = "AccessDeniedException: " + message
	}
	if !strings.Contains(err.Error(), message) {
		t.Fatalf("message of %v, want %q", err, message)
	}
}

// TestKMSKeyPolicyEncryptNotDecrypt: a key policy lets a user Encrypt but not Decrypt, and
// Decrypt only with an encryption-context condition.
func TestKMSKeyPolicyEncryptNotDecrypt(t *testing.T) {
	e := startServer(t)
	acct := e.account(t, rootCreds)
	alice, _ := e.newUser(t, rootCreds, "alice")
	bob, _ := e.newUser(t, rootCreds, "bob")
	aliceARN, bobARN := "arn:aws:iam::"+acct+":user/alice", "arn:aws:iam::"+acct+":user/bob"
	id, arn := e.keyWithPolicy(t, rootCreds, acct,
		`{"Effect":"Allow","Principal":{"AWS":"`+aliceARN+`"},"Action":"kms:Encrypt","Resource":"*"}`,
		`{"Effect":"Allow","Principal":{"AWS":"`+bobARN+`"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:purpose":"test"}}}`)
	enc := must[*kms.EncryptOutput](t)(e.kmsAs(alice).Encrypt(ctx(t), &kms.EncryptInput{KeyId: &id, Plaintext: []byte("hello"),
		EncryptionContext: map[string]string{"purpose": "test"}}))
	other := must[*kms.EncryptOutput](t)(e.kmsAs(alice).Encrypt(ctx(t), &kms.EncryptInput{KeyId: &id, Plaintext: []byte("hello"),
		EncryptionContext: map[string]string{"purpose": "prod"}}))
	tests := []struct {
		name    string
		as      creds
		blob    []byte
		ec      string
		message string // "" for success
	}{
		{"alice may not decrypt", alice, enc.CiphertextBlob, "test",
			"User: " + aliceARN + " is not authorized to perform: kms:Decrypt on resource: " + arn + " because no identity-based policy allows the kms:Decrypt action"},
		{"bob decrypts with the context the condition names", bob, enc.CiphertextBlob, "test", ""},
		{"bob may not decrypt another context", bob, other.CiphertextBlob, "prod", "kms:Decrypt on resource: " + arn},
		{"the root decrypts", rootCreds, other.CiphertextBlob, "prod", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.kmsAs(tc.as).Decrypt(ctx(t), &kms.DecryptInput{CiphertextBlob: tc.blob, EncryptionContext: map[string]string{"purpose": tc.ec}})
			if tc.message != "" {
				wantKMSDenied(t, err, tc.message)
				return
			}
			if err != nil || string(out.Plaintext) != "hello" {
				t.Fatalf("Decrypt = %v, %v", out, err)
			}
		})
	}
	t.Run("alice may not describe the key either", func(t *testing.T) {
		_, err := e.kmsAs(alice).DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: &id})
		wantKMSDenied(t, err, "")
	})
}

// TestKMSGrantDecryptUntilRetired: a grant lets a user Decrypt while the encryption context
// equals the grant's constraint, until the grant is retired (by its retiring principal) or
// revoked.
func TestKMSGrantDecryptUntilRetired(t *testing.T) {
	e := startServer(t)
	acct := e.account(t, rootCreds)
	alice, _ := e.newUser(t, rootCreds, "alice")
	aliceARN := "arn:aws:iam::" + acct + ":user/alice"
	id, _ := e.keyWithPolicy(t, rootCreds, acct)
	root := e.kmsAs(rootCreds)
	ec := map[string]string{"app": "orders"}
	blob := must[*kms.EncryptOutput](t)(root.Encrypt(ctx(t), &kms.EncryptInput{KeyId: &id, Plaintext: []byte("hello"), EncryptionContext: ec})).CiphertextBlob
	other := map[string]string{"app": "billing"}
	otherBlob := must[*kms.EncryptOutput](t)(root.Encrypt(ctx(t), &kms.EncryptInput{KeyId: &id, Plaintext: []byte("hello"), EncryptionContext: other})).CiphertextBlob
	decrypt := func(b []byte, ec map[string]string, tokens ...string) error {
		_, err := e.kmsAs(alice).Decrypt(ctx(t), &kms.DecryptInput{CiphertextBlob: b, EncryptionContext: ec, GrantTokens: tokens})
		return err
	}
	wantKMSDenied(t, decrypt(blob, ec), "")
	g := must[*kms.CreateGrantOutput](t)(root.CreateGrant(ctx(t), &kms.CreateGrantInput{KeyId: &id, GranteePrincipal: &aliceARN,
		RetiringPrincipal: &aliceARN, Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt},
		Constraints: &kmstypes.GrantConstraints{EncryptionContextEquals: ec}}))
	t.Run("the grant token works at once", func(t *testing.T) {
		if err := decrypt(blob, ec, *g.GrantToken); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("and so does the grant without it", func(t *testing.T) {
		if err := decrypt(blob, ec); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("EncryptionContextEquals is enforced", func(t *testing.T) {
		wantKMSDenied(t, decrypt(otherBlob, other), "")
	})
	t.Run("the grant gives no Encrypt", func(t *testing.T) {
		_, err := e.kmsAs(alice).Encrypt(ctx(t), &kms.EncryptInput{KeyId: &id, Plaintext: []byte("x"), EncryptionContext: ec})
		wantKMSDenied(t, err, "")
	})
	t.Run("alice may not revoke it", func(t *testing.T) {
		_, err := e.kmsAs(alice).RevokeGrant(ctx(t), &kms.RevokeGrantInput{KeyId: &id, GrantId: g.GrantId})
		wantKMSDenied(t, err, "")
	})
	t.Run("retired by its retiring principal", func(t *testing.T) {
		must[*kms.RetireGrantOutput](t)(e.kmsAs(alice).RetireGrant(ctx(t), &kms.RetireGrantInput{GrantToken: g.GrantToken}))
		wantKMSDenied(t, decrypt(blob, ec), "")
	})
	t.Run("revoked by the key's account", func(t *testing.T) {
		g := must[*kms.CreateGrantOutput](t)(root.CreateGrant(ctx(t), &kms.CreateGrantInput{KeyId: &id, GranteePrincipal: &aliceARN,
			Operations: []kmstypes.GrantOperation{kmstypes.GrantOperationDecrypt}}))
		if err := decrypt(otherBlob, other); err != nil {
			t.Fatal(err)
		}
		must[*kms.RevokeGrantOutput](t)(root.RevokeGrant(ctx(t), &kms.RevokeGrantInput{KeyId: &id, GrantId: g.GrantId}))
		wantKMSDenied(t, decrypt(otherBlob, other), "")
	})
	t.Run("an unknown grant token", func(t *testing.T) {
		wantAPIError(t, decrypt(blob, ec, "not-a-grant-token"), "InvalidGrantTokenException", http.StatusBadRequest)
	})
}

// TestKMSCrossAccountKey: a key of one account used from a second account, whose root and
// users (with an identity policy) the key policy allows.
func TestKMSCrossAccountKey(t *testing.T) {
	e := startServer(t)
	acct1 := e.account(t, rootCreds)
	acct2, root2 := e.secondAccount(t)
	id, arn := e.keyWithPolicy(t, rootCreds, acct1,
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct2+`:root"},"Action":["kms:Encrypt","kms:Decrypt","kms:DescribeKey"],"Resource":"*"}`)
	user2, _ := e.newUser(t, root2, "app")
	plain, _ := e.newUser(t, root2, "plain")
	e.putUserPolicy(t, root2, "app", "use-key", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Encrypt","kms:Decrypt"],"Resource":"`+arn+`"}]}`)
	blob := must[*kms.EncryptOutput](t)(e.kmsAs(rootCreds).Encrypt(ctx(t), &kms.EncryptInput{KeyId: &id, Plaintext: []byte("hello")})).CiphertextBlob
	tests := []struct {
		name    string
		as      creds
		keyID   string
		message string
	}{
		{"the second account's root, by key ARN", root2, arn, ""},
		{"its root, without KeyId (the blob names the key)", root2, "", ""},
		{"its user with an identity policy", user2, arn, ""},
		{"its user without one", plain, arn, "User: arn:aws:iam::" + acct2 + ":user/plain is not authorized to perform: kms:Decrypt on resource: " + arn + " because no identity-based policy allows the kms:Decrypt action"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &kms.DecryptInput{CiphertextBlob: blob}
			if tc.keyID != "" {
				in.KeyId = &tc.keyID
			}
			out, err := e.kmsAs(tc.as).Decrypt(ctx(t), in)
			if tc.message != "" {
				wantKMSDenied(t, err, tc.message)
				return
			}
			if err != nil || string(out.Plaintext) != "hello" {
				t.Fatalf("Decrypt = %v, %v", out, err)
			}
		})
	}
	t.Run("a key id alone names a key of the caller's own account", func(t *testing.T) {
		_, err := e.kmsAs(root2).DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: &id})
		wantAPIError(t, err, "NotFoundException", http.StatusBadRequest)
	})
	t.Run("key policies are not changed across accounts", func(t *testing.T) {
		_, err := e.kmsAs(root2).PutKeyPolicy(ctx(t), &kms.PutKeyPolicyInput{KeyId: &arn, PolicyName: aws.String("default"),
			Policy: aws.String(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*"}]}`)})
		wantKMSDenied(t, err, "")
	})
}

// TestKMSAssumedRoleInKeyPolicy: a key policy naming a role allows the sessions of that role.
func TestKMSAssumedRoleInKeyPolicy(t *testing.T) {
	e := startServer(t)
	acct := e.account(t, rootCreds)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"sts:AssumeRole"}]}`
	role := must[*iam.CreateRoleOutput](t)(e.iamAs(rootCreds).CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String("decryptor"), AssumeRolePolicyDocument: &trust}))
	id, _ := e.keyWithPolicy(t, rootCreds, acct,
		`{"Effect":"Allow","Principal":{"AWS":"`+*role.Role.Arn+`"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"}`)
	// An account's root user may not assume roles: a user of the account does.
	assumer, _ := e.newUser(t, rootCreds, "assumer")
	e.putUserPolicy(t, rootCreds, "assumer", "assume", allowAssumeRole)
	sess, _, err := e.assumeRole(t, assumer, *role.Role.Arn, "job-1", nil)
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	enc := must[*kms.EncryptOutput](t)(e.kmsAs(sess).Encrypt(ctx(t), &kms.EncryptInput{KeyId: &id, Plaintext: []byte("hello")}))
	dec := must[*kms.DecryptOutput](t)(e.kmsAs(sess).Decrypt(ctx(t), &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}))
	if string(dec.Plaintext) != "hello" {
		t.Fatalf("plaintext %q", dec.Plaintext)
	}
	_, err = e.kmsAs(sess).DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: &id})
	wantKMSDenied(t, err, "User: arn:aws:sts::"+acct+":assumed-role/decryptor/job-1 is not authorized to perform: kms:DescribeKey")
}

// TestKMSLockoutCheckForUsers: CreateKey and PutKeyPolicy refuse a key policy that names a
// principal that does not exist (bypass or not) and, unless the lockout safety check is
// bypassed, one that would not let the caller call PutKeyPolicy later: evaluated with its
// identity policies where the policy delegates to the account, Deny and NotPrincipal
// statements, and the conditions of the request.
func TestKMSLockoutCheckForUsers(t *testing.T) {
	e := startServer(t)
	acct := e.account(t, rootCreds)
	admin, adminUser := e.newUser(t, rootCreds, "admin")
	e.putUserPolicy(t, rootCreds, "admin", "kms", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`)
	creator, _ := e.newUser(t, rootCreds, "creator")
	e.putUserPolicy(t, rootCreds, "creator", "kms", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:CreateKey","Resource":"*"}]}`)
	_, bobUser := e.newUser(t, rootCreds, "bob")
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"sts:AssumeRole"}]}`
	role := must[*iam.CreateRoleOutput](t)(e.iamAs(rootCreds).CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String("ops"), Path: aws.String("/team/"), AssumeRolePolicyDocument: &trust}))
	root := `{"AWS":"arn:aws:iam::` + acct + `:root"}`
	doc := func(statements ...string) string {
		return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
	}
	allow := func(principal, action string) string {
		return `{"Effect":"Allow","Principal":` + principal + `,"Action":"` + action + `","Resource":"*"}`
	}
	rootAll := allow(root, "kms:*")
	const (
		lockout = "The new key policy will not allow you to update the key policy in the future."
		invalid = "Policy contains a statement with one or more invalid principals."
	)
	tests := []struct {
		name   string
		as     creds
		policy string
		bypass bool
		want   string // "" for success
	}{
		{"the account delegates to the caller's kms:* identity policy", admin, doc(rootAll), false, ""},
		{"the caller named directly", admin, doc(allow(`{"AWS":"`+*adminUser.Arn+`"}`, "kms:PutKeyPolicy")), false, ""},
		{"the account as a bare id", admin, doc(allow(`{"AWS":"`+acct+`"}`, "kms:*")), false, ""},
		{"only another user named", admin, doc(allow(`{"AWS":"`+*bobUser.Arn+`"}`, "kms:*")), false, lockout},
		{"only another user named, bypassing the check", admin, doc(allow(`{"AWS":"`+*bobUser.Arn+`"}`, "kms:*")), true, ""},
		{"a role with its path", admin, doc(rootAll, allow(`{"AWS":"`+*role.Role.Arn+`"}`, "kms:Decrypt")), false, ""},
		{"a session of an existing role", admin, doc(rootAll, allow(`{"AWS":"arn:aws:sts::`+acct+`:assumed-role/ops/s1"}`, "kms:Decrypt")), false, ""},
		{"the account delegates only Encrypt", admin, doc(allow(root, "kms:Encrypt")), false, lockout},
		{"an explicit deny of PutKeyPolicy to the caller", admin, doc(rootAll, `{"Effect":"Deny","Principal":{"AWS":"`+*adminUser.Arn+`"},"Action":"kms:PutKeyPolicy","Resource":"*"}`), false, lockout},
		{"a deny to everyone but bob (NotPrincipal)", admin, doc(rootAll, `{"Effect":"Deny","NotPrincipal":{"AWS":["`+*bobUser.Arn+`","arn:aws:iam::`+acct+`:root"]},"Action":"kms:PutKeyPolicy","Resource":"*"}`), false, lockout},
		{"a deny to everyone but the caller (NotPrincipal)", admin, doc(rootAll, `{"Effect":"Deny","NotPrincipal":{"AWS":["`+*adminUser.Arn+`","arn:aws:iam::`+acct+`:root"]},"Action":"kms:PutKeyPolicy","Resource":"*"}`), false, ""},
		{"a condition this request does not meet", admin, doc(`{"Effect":"Allow","Principal":` + root + `,"Action":"kms:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}`), false, lockout},
		{"a condition this request meets", admin, doc(`{"Effect":"Allow","Principal":` + root + `,"Action":"kms:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}`), false, ""},
		{"a caller that may create keys but not put their policies", creator, doc(rootAll), false, lockout},
		{"a user that does not exist", admin, doc(rootAll, allow(`{"AWS":"arn:aws:iam::`+acct+`:user/nobody"}`, "kms:Decrypt")), false, invalid},
		{"a user that does not exist, bypassing the check", admin, doc(rootAll, allow(`{"AWS":"arn:aws:iam::`+acct+`:user/nobody"}`, "kms:Decrypt")), true, invalid},
		{"a user under another path", admin, doc(rootAll, allow(`{"AWS":"arn:aws:iam::`+acct+`:user/other/bob"}`, "kms:Decrypt")), false, invalid},
		{"a role that does not exist", admin, doc(rootAll, allow(`{"AWS":"arn:aws:iam::`+acct+`:role/nobody"}`, "kms:Decrypt")), false, invalid},
		{"a session of a role that does not exist", admin, doc(rootAll, allow(`{"AWS":"arn:aws:sts::`+acct+`:assumed-role/nobody/s1"}`, "kms:Decrypt")), false, invalid},
		{"an account that does not exist", admin, doc(rootAll, allow(`{"AWS":"arn:aws:iam::999999999999:root"}`, "kms:Decrypt")), false, invalid},
		{"an account id that does not exist", admin, doc(rootAll, allow(`{"AWS":"999999999999"}`, "kms:Decrypt")), false, invalid},
		{"a principal that does not exist in a NotPrincipal", admin, doc(rootAll, `{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::`+acct+`:user/nobody"},"Action":"kms:Decrypt","Resource":"*"}`), false, invalid},
		{"everyone", admin, doc(rootAll, allow(`"*"`, "kms:Decrypt")), false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check := func(op string, err error) {
				t.Helper()
				if tc.want == "" {
					if err != nil {
						t.Fatalf("%s: %v", op, err)
					}
					return
				}
				wantAPIError(t, err, "MalformedPolicyDocumentException", http.StatusBadRequest)
				if !strings.HasSuffix(err.Error(), "MalformedPolicyDocumentException: "+tc.want) {
					t.Fatalf("%s: message of %v, want %q", op, err, tc.want)
				}
			}
			_, err := e.kmsAs(tc.as).CreateKey(ctx(t), &kms.CreateKeyInput{Policy: aws.String(tc.policy), BypassPolicyLockoutSafetyCheck: tc.bypass})
			check("CreateKey", err)
			if tc.as != admin {
				return
			}
			key := must[*kms.CreateKeyOutput](t)(e.kmsAs(admin).CreateKey(ctx(t), &kms.CreateKeyInput{}))
			_, err = e.kmsAs(admin).PutKeyPolicy(ctx(t), &kms.PutKeyPolicyInput{KeyId: key.KeyMetadata.KeyId, Policy: aws.String(tc.policy), BypassPolicyLockoutSafetyCheck: tc.bypass})
			check("PutKeyPolicy", err)
		})
	}
}

// TestSSEKMSAsTheRequester: S3 calls the KMS as the requester, with kms:ViaService naming
// S3: a user the key policy does not allow gets 403 AccessDenied for an SSE-KMS PUT and GET
// while the root's work; a key policy allowing a user only through S3 lets it write and read
// SSE-KMS objects but not call the KMS directly.
func TestSSEKMSAsTheRequester(t *testing.T) {
	e := startServer(t)
	acct := e.account(t, rootCreds)
	s3All := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	denied, _ := e.newUser(t, rootCreds, "denied")
	e.putUserPolicy(t, rootCreds, "denied", "s3", s3All)
	viaS3, _ := e.newUser(t, rootCreds, "vias3")
	e.putUserPolicy(t, rootCreds, "vias3", "s3", s3All)
	id, _ := e.keyWithPolicy(t, rootCreds, acct,
		`{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::`+acct+`:user/denied"},"Action":"kms:*","Resource":"*"}`,
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct+`:user/vias3"},"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com","kms:CallerAccount":"`+acct+`"}}}`)
	bucket := "kms-authz"
	must[*s3.CreateBucketOutput](t)(e.s3As(rootCreds).CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: &bucket}))
	put := func(c creds, key string) error {
		_, err := e.s3As(c).PutObject(ctx(t), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: stringsReader("data"),
			ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: &id})
		return err
	}
	get := func(c creds, key string) error {
		out, err := e.s3As(c).GetObject(ctx(t), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		if err == nil && readAll(t, out.Body) != "data" {
			return fmt.Errorf("wrong body")
		}
		return err
	}
	if err := put(rootCreds, "by-root"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"the root reads its object", func() error { return get(rootCreds, "by-root") }, ""},
		{"a denied user's PUT", func() error { return put(denied, "by-denied") }, "AccessDenied"},
		{"a denied user's GET", func() error { return get(denied, "by-root") }, "AccessDenied"},
		{"a user allowed through S3 writes", func() error { return put(viaS3, "by-vias3") }, ""},
		{"and reads", func() error { return get(viaS3, "by-root") }, ""},
		{"but may not call the KMS directly", func() error {
			_, err := e.kmsAs(viaS3).GenerateDataKey(ctx(t), &kms.GenerateDataKeyInput{KeyId: &id, KeySpec: kmstypes.DataKeySpecAes256})
			if err != nil && strings.Contains(err.Error(), "AccessDeniedException") {
				return nil
			}
			return fmt.Errorf("direct GenerateDataKey: %v, want AccessDeniedException", err)
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantAPIError(t, err, tc.code, http.StatusForbidden)
		})
	}
}
