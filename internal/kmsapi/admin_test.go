package kmsapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

func TestKeyPolicies(t *testing.T) {
	e := newEnv(t, "")
	id := e.createKey(t, nil)
	t.Run("default policy", func(t *testing.T) {
		out, err := e.client.GetKeyPolicy(ctx(), &awskms.GetKeyPolicyInput{KeyId: &id})
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Id        string
			Statement []struct {
				Effect    string
				Principal struct{ AWS string }
				Action    string
			}
		}
		if err := json.Unmarshal([]byte(*out.Policy), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Id != "key-default-1" || len(doc.Statement) != 1 || doc.Statement[0].Principal.AWS != "arn:aws:iam::111122223333:root" || doc.Statement[0].Action != "kms:*" {
			t.Fatalf("default policy %s", *out.Policy)
		}
		names, err := e.client.ListKeyPolicies(ctx(), &awskms.ListKeyPoliciesInput{KeyId: &id})
		if err != nil || len(names.PolicyNames) != 1 || names.PolicyNames[0] != "default" {
			t.Fatalf("ListKeyPolicies %v %v", names, err)
		}
	})
	valid := `{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*"}]}`
	root := `{"Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root"]},"Action":["kms:Put*"],"Resource":"*"}}`
	// Each case gets its own key: a policy that is put is in force, and most of these lock
	// the caller out of the key (GetKeyPolicy then answers AccessDeniedException).
	tests := []struct {
		name, policy, code string
		bypass             bool
		readable           bool // the caller may still read the policy back
	}{
		{"valid", valid, "", true, false},
		{"single statement object", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}}`, "", false, true},
		{"lockout: caller keeps PutKeyPolicy", root, "", false, false},
		{"lockout: account id principal", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:PutKeyPolicy","Resource":"*"}]}`, "", false, false},
		{"lockout: only Decrypt", valid, "MalformedPolicyDocumentException", false, false},
		{"an account that does not exist", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"kms:*","Resource":"*"}]}`, "MalformedPolicyDocumentException", false, false},
		{"lockout: a condition the caller does not meet", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`, "MalformedPolicyDocumentException", false, false},
		{"lockout: a condition the caller meets", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}]}`, "", false, true},
		{"no principal", `{"Statement":{"Effect":"Deny","Action":"kms:*","Resource":"*"}}`, "MalformedPolicyDocumentException", true, false},
		{"not json", `{"Statement":`, "MalformedPolicyDocumentException", true, false},
		{"no statement", `{"Version":"2012-10-17"}`, "MalformedPolicyDocumentException", true, false},
		{"bad effect", `{"Statement":[{"Effect":"Maybe"}]}`, "MalformedPolicyDocumentException", true, false},
		{"bad version", `{"Version":"2020-01-01","Statement":[{"Effect":"Allow"}]}`, "MalformedPolicyDocumentException", true, false},
		{"over 32 KB", `{"Statement":[{"Effect":"Allow","Sid":"` + strings.Repeat("a", 32768) + `"}]}`, "LimitExceededException", true, false},
	}
	for _, tc := range tests {
		t.Run("put/"+tc.name, func(t *testing.T) {
			id := e.createKey(t, nil)
			_, err := e.client.PutKeyPolicy(ctx(), &awskms.PutKeyPolicyInput{KeyId: &id, Policy: &tc.policy, BypassPolicyLockoutSafetyCheck: tc.bypass})
			wantCode(t, err, tc.code)
			if err != nil {
				return
			}
			got, err := e.client.GetKeyPolicy(ctx(), &awskms.GetKeyPolicyInput{KeyId: &id, PolicyName: aws.String("default")})
			if !tc.readable {
				wantCode(t, err, "AccessDeniedException")
				return
			}
			if err != nil || *got.Policy != tc.policy {
				t.Fatalf("stored policy %v, %v", got, err)
			}
		})
	}
	_, err := e.client.GetKeyPolicy(ctx(), &awskms.GetKeyPolicyInput{KeyId: &id, PolicyName: aws.String("other")})
	wantCode(t, err, "NotFoundException")
	t.Run("CreateKey applies the lockout check", func(t *testing.T) {
		_, err := e.client.CreateKey(ctx(), &awskms.CreateKeyInput{Policy: &valid})
		wantCode(t, err, "MalformedPolicyDocumentException")
		_, err = e.client.CreateKey(ctx(), &awskms.CreateKeyInput{Policy: &valid, BypassPolicyLockoutSafetyCheck: true})
		wantCode(t, err, "")
	})
}

func TestGrants(t *testing.T) {
	e := newEnv(t, "")
	id := e.createKey(t, nil)
	grantee := "arn:aws:iam::111122223333:role/app"
	retiring := "arn:aws:iam::111122223333:role/admin"
	create := func(name string) (*awskms.CreateGrantOutput, error) {
		return e.client.CreateGrant(ctx(), &awskms.CreateGrantInput{KeyId: &id, GranteePrincipal: &grantee, RetiringPrincipal: &retiring,
			Name: aws.String(name), Operations: []types.GrantOperation{types.GrantOperationDecrypt, types.GrantOperationEncrypt},
			Constraints: &types.GrantConstraints{EncryptionContextEquals: map[string]string{"k": "v"}}})
	}
	g1, err := create("one")
	if err != nil {
		t.Fatal(err)
	}
	again, err := create("one")
	if err != nil || *again.GrantId != *g1.GrantId {
		t.Fatalf("CreateGrant with the same name is not idempotent: %v", err)
	}
	g2, err := create("two")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("list", func(t *testing.T) {
		out, err := e.client.ListGrants(ctx(), &awskms.ListGrantsInput{KeyId: &id})
		if err != nil || len(out.Grants) != 2 {
			t.Fatalf("ListGrants %v %v", out, err)
		}
		g := out.Grants[0]
		if *g.GranteePrincipal != grantee || *g.RetiringPrincipal != retiring || len(g.Operations) != 2 || g.Constraints.EncryptionContextEquals["k"] != "v" || g.CreationDate == nil || !strings.HasSuffix(*g.KeyId, id) {
			t.Fatalf("grant %+v", g)
		}
		one, err := e.client.ListGrants(ctx(), &awskms.ListGrantsInput{KeyId: &id, GrantId: g2.GrantId})
		if err != nil || len(one.Grants) != 1 || *one.Grants[0].Name != "two" {
			t.Fatalf("ListGrants by id %v", err)
		}
		r, err := e.client.ListRetirableGrants(ctx(), &awskms.ListRetirableGrantsInput{RetiringPrincipal: &retiring})
		if err != nil || len(r.Grants) != 2 {
			t.Fatalf("ListRetirableGrants %v", err)
		}
		_, err = e.client.ListGrants(ctx(), &awskms.ListGrantsInput{KeyId: &id, GrantId: aws.String("nope")})
		wantCode(t, err, "InvalidGrantIdException")
	})
	t.Run("retire by token", func(t *testing.T) {
		if _, err := e.client.RetireGrant(ctx(), &awskms.RetireGrantInput{GrantToken: g1.GrantToken}); err != nil {
			t.Fatal(err)
		}
		_, err := e.client.RetireGrant(ctx(), &awskms.RetireGrantInput{GrantToken: g1.GrantToken})
		wantCode(t, err, "InvalidGrantIdException")
		_, err = e.client.RetireGrant(ctx(), &awskms.RetireGrantInput{GrantToken: aws.String("not-a-token")})
		wantCode(t, err, "InvalidGrantTokenException")
	})
	t.Run("revoke", func(t *testing.T) {
		if _, err := e.client.RevokeGrant(ctx(), &awskms.RevokeGrantInput{KeyId: &id, GrantId: g2.GrantId}); err != nil {
			t.Fatal(err)
		}
		out, _ := e.client.ListGrants(ctx(), &awskms.ListGrantsInput{KeyId: &id})
		if len(out.Grants) != 0 {
			t.Fatalf("%d grants left", len(out.Grants))
		}
	})
	t.Run("validation", func(t *testing.T) {
		_, err := e.client.CreateGrant(ctx(), &awskms.CreateGrantInput{KeyId: &id, GranteePrincipal: &grantee, Operations: []types.GrantOperation{"Fly"}})
		wantCode(t, err, "ValidationException")
		_, err = e.client.CreateGrant(ctx(), &awskms.CreateGrantInput{KeyId: &id, GranteePrincipal: &grantee, Operations: []types.GrantOperation{"Decrypt"}, DryRun: aws.Bool(true)})
		wantCode(t, err, "DryRunOperationException")
	})
}

func TestTags(t *testing.T) {
	e := newEnv(t, "")
	id := e.createKey(t, &awskms.CreateKeyInput{Tags: []types.Tag{{TagKey: aws.String("env"), TagValue: aws.String("test")}}})
	tag := func(k, v string) types.Tag { return types.Tag{TagKey: aws.String(k), TagValue: aws.String(v)} }
	list := func() map[string]string {
		out, err := e.client.ListResourceTags(ctx(), &awskms.ListResourceTagsInput{KeyId: &id})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, tg := range out.Tags {
			m[*tg.TagKey] = *tg.TagValue
		}
		return m
	}
	if _, err := e.client.TagResource(ctx(), &awskms.TagResourceInput{KeyId: &id, Tags: []types.Tag{tag("env", "prod"), tag("team", "x")}}); err != nil {
		t.Fatal(err)
	}
	if m := list(); len(m) != 2 || m["env"] != "prod" || m["team"] != "x" {
		t.Fatalf("tags %v", m)
	}
	if _, err := e.client.UntagResource(ctx(), &awskms.UntagResourceInput{KeyId: &id, TagKeys: []string{"team", "absent"}}); err != nil {
		t.Fatal(err)
	}
	if m := list(); len(m) != 1 {
		t.Fatalf("tags after untag %v", m)
	}
	many := make([]types.Tag, 50)
	for i := range many {
		many[i] = tag("k"+strings.Repeat("x", i), "")
	}
	tests := []struct {
		name string
		tags []types.Tag
	}{
		{"reserved prefix", []types.Tag{tag("aws:owner", "x")}},
		{"duplicate keys", []types.Tag{tag("a", "1"), tag("a", "2")}},
		{"too many", many},
		{"key too long", []types.Tag{tag(strings.Repeat("k", 129), "")}},
		{"value too long", []types.Tag{tag("k", strings.Repeat("v", 257))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.TagResource(ctx(), &awskms.TagResourceInput{KeyId: &id, Tags: tc.tags})
			wantCode(t, err, "TagException")
		})
	}
}
