package kmsapi

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

func TestCreateAndDescribeKey(t *testing.T) {
	e := newEnv(t, "")
	tests := []struct {
		name    string
		in      awskms.CreateKeyInput
		code    string
		spec    types.KeySpec
		usage   types.KeyUsageType
		enc     []types.EncryptionAlgorithmSpec
		sign    []types.SigningAlgorithmSpec
		mac     []types.MacAlgorithmSpec
		agree   []types.KeyAgreementAlgorithmSpec
		state   types.KeyState
		origin  types.OriginType
		hasMatl bool
	}{
		{name: "default symmetric", spec: types.KeySpecSymmetricDefault, usage: types.KeyUsageTypeEncryptDecrypt,
			enc: []types.EncryptionAlgorithmSpec{"SYMMETRIC_DEFAULT"}, state: types.KeyStateEnabled, origin: types.OriginTypeAwsKms, hasMatl: true},
		{name: "rsa encrypt", in: awskms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeEncryptDecrypt},
			spec: types.KeySpecRsa2048, usage: types.KeyUsageTypeEncryptDecrypt, enc: []types.EncryptionAlgorithmSpec{"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"}, state: types.KeyStateEnabled, origin: types.OriginTypeAwsKms},
		{name: "ecc sign", in: awskms.CreateKeyInput{KeySpec: types.KeySpecEccNistP384, KeyUsage: types.KeyUsageTypeSignVerify},
			spec: types.KeySpecEccNistP384, usage: types.KeyUsageTypeSignVerify, sign: []types.SigningAlgorithmSpec{"ECDSA_SHA_384"}, state: types.KeyStateEnabled, origin: types.OriginTypeAwsKms},
		{name: "ecc agreement", in: awskms.CreateKeyInput{KeySpec: types.KeySpecEccNistP521, KeyUsage: types.KeyUsageTypeKeyAgreement},
			spec: types.KeySpecEccNistP521, usage: types.KeyUsageTypeKeyAgreement, agree: []types.KeyAgreementAlgorithmSpec{"ECDH"}, state: types.KeyStateEnabled, origin: types.OriginTypeAwsKms},
		{name: "hmac", in: awskms.CreateKeyInput{KeySpec: types.KeySpecHmac384, KeyUsage: types.KeyUsageTypeGenerateVerifyMac},
			spec: types.KeySpecHmac384, usage: types.KeyUsageTypeGenerateVerifyMac, mac: []types.MacAlgorithmSpec{"HMAC_SHA_384"}, state: types.KeyStateEnabled, origin: types.OriginTypeAwsKms},
		{name: "external", in: awskms.CreateKeyInput{Origin: types.OriginTypeExternal},
			spec: types.KeySpecSymmetricDefault, usage: types.KeyUsageTypeEncryptDecrypt, enc: []types.EncryptionAlgorithmSpec{"SYMMETRIC_DEFAULT"}, state: types.KeyStatePendingImport, origin: types.OriginTypeExternal},
		{name: "asymmetric without usage", in: awskms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256}, code: "ValidationException"},
		{name: "usage not allowed for spec", in: awskms.CreateKeyInput{KeySpec: types.KeySpecEccSecgP256k1, KeyUsage: types.KeyUsageTypeKeyAgreement}, code: "ValidationException"},
		{name: "hmac for encryption", in: awskms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeEncryptDecrypt}, code: "ValidationException"},
		//lint:ignore SA1019 the deprecated member is still sent by old clients
		{name: "spec and deprecated spec", in: awskms.CreateKeyInput{KeySpec: types.KeySpecSymmetricDefault, CustomerMasterKeySpec: types.CustomerMasterKeySpecSymmetricDefault}, code: "ValidationException"},
		{name: "malformed policy", in: awskms.CreateKeyInput{Policy: aws.String("{not json")}, code: "MalformedPolicyDocumentException"},
		{name: "reserved tag", in: awskms.CreateKeyInput{Tags: []types.Tag{{TagKey: aws.String("aws:x"), TagValue: aws.String("")}}}, code: "TagException"},
		{name: "custom key store", in: awskms.CreateKeyInput{CustomKeyStoreId: aws.String("cks-1")}, code: "UnsupportedOperationException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Description = aws.String("test " + tc.name)
			out, err := e.client.CreateKey(ctx(), &tc.in)
			wantCode(t, err, tc.code)
			if tc.code != "" {
				return
			}
			d, err := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: out.KeyMetadata.KeyId})
			if err != nil {
				t.Fatal(err)
			}
			m := d.KeyMetadata
			if m.KeySpec != tc.spec || m.KeyUsage != tc.usage || m.KeyState != tc.state || m.Origin != tc.origin {
				t.Fatalf("metadata = %s %s %s %s", m.KeySpec, m.KeyUsage, m.KeyState, m.Origin)
			}
			if !equal(m.EncryptionAlgorithms, tc.enc) || !equal(m.SigningAlgorithms, tc.sign) || !equal(m.MacAlgorithms, tc.mac) || !equal(m.KeyAgreementAlgorithms, tc.agree) {
				t.Fatalf("algorithms = %v %v %v %v", m.EncryptionAlgorithms, m.SigningAlgorithms, m.MacAlgorithms, m.KeyAgreementAlgorithms)
			}
			wantARN := "arn:aws:kms:us-east-1:111122223333:key/" + *m.KeyId
			if *m.Arn != wantARN || *m.AWSAccountId != testAccount || m.KeyManager != types.KeyManagerTypeCustomer {
				t.Fatalf("arn %s account %s manager %s", *m.Arn, *m.AWSAccountId, m.KeyManager)
			}
			if m.Enabled != (tc.state == types.KeyStateEnabled) || *m.Description != "test "+tc.name {
				t.Fatalf("enabled %v description %q", m.Enabled, *m.Description)
			}
			if m.CreationDate == nil || time.Since(*m.CreationDate) > time.Minute {
				t.Fatalf("creation date %v", m.CreationDate)
			}
			if (m.CurrentKeyMaterialId != nil) != tc.hasMatl {
				t.Fatalf("CurrentKeyMaterialId = %v", m.CurrentKeyMaterialId)
			}
		})
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestKeyReferences(t *testing.T) {
	e := newEnv(t, "")
	id := e.createKey(t, nil)
	arn := "arn:aws:kms:us-east-1:111122223333:key/" + id
	if _, err := e.client.CreateAlias(ctx(), &awskms.CreateAliasInput{AliasName: aws.String("alias/ref"), TargetKeyId: &id}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ref, code string
	}{
		{"key id", id, ""},
		{"upper-case key id", strings.ToUpper(id), ""},
		{"key arn", arn, ""},
		{"alias", "alias/ref", ""},
		{"alias arn", "arn:aws:kms:us-east-1:111122223333:alias/ref", ""},
		{"unknown key", "11111111-2222-3333-4444-555555555555", "NotFoundException"},
		{"malformed key id", "fake-key-id", "NotFoundException"},
		{"unknown alias", "alias/none", "NotFoundException"},
		{"other region", "arn:aws:kms:eu-west-1:111122223333:key/" + id, "NotFoundException"},
		{"other account", "arn:aws:kms:us-east-1:999999999999:key/" + id, "NotFoundException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: &tc.ref})
			wantCode(t, err, tc.code)
			if err == nil && *d.KeyMetadata.KeyId != id {
				t.Fatalf("resolved %s", *d.KeyMetadata.KeyId)
			}
			enc, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &tc.ref, Plaintext: []byte("p")})
			wantCode(t, err, tc.code)
			if err == nil && *enc.KeyId != arn {
				t.Fatalf("Encrypt KeyId = %s, want the key ARN", *enc.KeyId)
			}
		})
	}
	t.Run("management rejects aliases", func(t *testing.T) {
		_, err := e.client.DisableKey(ctx(), &awskms.DisableKeyInput{KeyId: aws.String("alias/ref")})
		wantCode(t, err, "NotFoundException")
	})
}

func TestListKeysPaging(t *testing.T) {
	e := newEnv(t, "")
	want := map[string]bool{}
	for i := 0; i < 5; i++ {
		want[e.createKey(t, nil)] = true
	}
	got := map[string]bool{}
	var marker *string
	pages := 0
	for {
		out, err := e.client.ListKeys(ctx(), &awskms.ListKeysInput{Limit: aws.Int32(2), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, k := range out.Keys {
			if got[*k.KeyId] {
				t.Fatalf("key %s listed twice", *k.KeyId)
			}
			got[*k.KeyId] = true
			if *k.KeyArn != "arn:aws:kms:us-east-1:111122223333:key/"+*k.KeyId {
				t.Fatalf("KeyArn %s", *k.KeyArn)
			}
		}
		if !out.Truncated {
			break
		}
		marker = out.NextMarker
	}
	if pages != 3 || len(got) != len(want) {
		t.Fatalf("%d pages, %d keys; want 3 pages, %d keys", pages, len(got), len(want))
	}
	_, err := e.client.ListKeys(ctx(), &awskms.ListKeysInput{Marker: aws.String("garbage")})
	wantCode(t, err, "InvalidMarkerException")
	_, err = e.client.ListKeys(ctx(), &awskms.ListKeysInput{Limit: aws.Int32(1001)})
	wantCode(t, err, "ValidationException")
}

func TestEnableDisableAndDescription(t *testing.T) {
	e := newEnv(t, "")
	id := e.createKey(t, nil)
	if _, err := e.client.DisableKey(ctx(), &awskms.DisableKeyInput{KeyId: &id}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &id, Plaintext: []byte("p")})
	wantCode(t, err, "DisabledException")
	if !strings.Contains(err.Error(), id+" is disabled.") {
		t.Fatalf("message: %v", err)
	}
	if _, err := e.client.EnableKey(ctx(), &awskms.EnableKeyInput{KeyId: &id}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &id, Plaintext: []byte("p")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.UpdateKeyDescription(ctx(), &awskms.UpdateKeyDescriptionInput{KeyId: &id, Description: aws.String("new")}); err != nil {
		t.Fatal(err)
	}
	d, _ := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: &id})
	if *d.KeyMetadata.Description != "new" {
		t.Fatalf("description %q", *d.KeyMetadata.Description)
	}
	_, err = e.client.UpdateKeyDescription(ctx(), &awskms.UpdateKeyDescriptionInput{KeyId: &id, Description: aws.String(strings.Repeat("d", 8193))})
	wantCode(t, err, "ValidationException")
}

func TestScheduleDeletion(t *testing.T) {
	e := newEnv(t, "")
	id := e.createKey(t, nil)
	enc, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &id, Plaintext: []byte("p")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CreateAlias(ctx(), &awskms.CreateAliasInput{AliasName: aws.String("alias/doomed"), TargetKeyId: &id}); err != nil {
		t.Fatal(err)
	}
	for _, days := range []int32{6, 31} {
		_, err := e.client.ScheduleKeyDeletion(ctx(), &awskms.ScheduleKeyDeletionInput{KeyId: &id, PendingWindowInDays: aws.Int32(days)})
		wantCode(t, err, "ValidationException")
	}
	out, err := e.client.ScheduleKeyDeletion(ctx(), &awskms.ScheduleKeyDeletionInput{KeyId: &id, PendingWindowInDays: aws.Int32(7)})
	if err != nil {
		t.Fatal(err)
	}
	wantDate := e.clock.Now().Add(7 * 24 * time.Hour)
	if out.KeyState != types.KeyStatePendingDeletion || *out.PendingWindowInDays != 7 || out.DeletionDate.Sub(wantDate).Abs() > time.Second {
		t.Fatalf("schedule output %s %d %v", out.KeyState, *out.PendingWindowInDays, out.DeletionDate)
	}
	d, _ := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: &id})
	if d.KeyMetadata.DeletionDate == nil || *d.KeyMetadata.PendingDeletionWindowInDays != 7 {
		t.Fatalf("DescribeKey DeletionDate %v", d.KeyMetadata.DeletionDate)
	}

	t.Run("cancel leaves the key disabled", func(t *testing.T) {
		if _, err := e.client.CancelKeyDeletion(ctx(), &awskms.CancelKeyDeletionInput{KeyId: &id}); err != nil {
			t.Fatal(err)
		}
		d, _ := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: &id})
		if d.KeyMetadata.KeyState != types.KeyStateDisabled || d.KeyMetadata.DeletionDate != nil {
			t.Fatalf("state %s deletion %v", d.KeyMetadata.KeyState, d.KeyMetadata.DeletionDate)
		}
	})

	t.Run("the scheduler destroys the key when due", func(t *testing.T) {
		if _, err := e.client.ScheduleKeyDeletion(ctx(), &awskms.ScheduleKeyDeletionInput{KeyId: &id, PendingWindowInDays: aws.Int32(7)}); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(7*24*time.Hour - time.Minute)
		if err := e.svc.Tick(ctx()); err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: &id}); err != nil {
			t.Fatalf("key destroyed early: %v", err)
		}
		e.clock.Add(2 * time.Minute)
		if err := e.svc.Tick(ctx()); err != nil {
			t.Fatal(err)
		}
		_, err := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: &id})
		wantCode(t, err, "NotFoundException")
		_, err = e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: aws.String("alias/doomed")})
		wantCode(t, err, "NotFoundException")
		_, err = e.client.Decrypt(ctx(), &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
		wantCode(t, err, "InvalidCiphertextException")
		e.restart(t)
		_, err = e.client.Decrypt(ctx(), &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
		wantCode(t, err, "InvalidCiphertextException")
	})
}

func TestAliases(t *testing.T) {
	e := newEnv(t, "")
	a := e.createKey(t, nil)
	b := e.createKey(t, nil)
	sign := e.createKey(t, &awskms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	create := func(name, target string) error {
		_, err := e.client.CreateAlias(ctx(), &awskms.CreateAliasInput{AliasName: &name, TargetKeyId: &target})
		return err
	}
	tests := []struct {
		name, alias, target, code string
	}{
		{"ok", "alias/app", a, ""},
		{"duplicate", "alias/app", b, "AlreadyExistsException"},
		{"no prefix", "app2", a, "ValidationException"},
		{"reserved aws prefix", "alias/aws/thing", a, "NotAuthorizedException"},
		{"bad characters", "alias/a b", a, "ValidationException"},
		{"target by alias", "alias/app3", "alias/app", "NotFoundException"},
		{"unknown target", "alias/app4", "11111111-2222-3333-4444-555555555555", "NotFoundException"},
	}
	for _, tc := range tests {
		t.Run("create/"+tc.name, func(t *testing.T) { wantCode(t, create(tc.alias, tc.target), tc.code) })
	}
	t.Run("update", func(t *testing.T) {
		if _, err := e.client.UpdateAlias(ctx(), &awskms.UpdateAliasInput{AliasName: aws.String("alias/app"), TargetKeyId: &b}); err != nil {
			t.Fatal(err)
		}
		d, _ := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: aws.String("alias/app")})
		if *d.KeyMetadata.KeyId != b {
			t.Fatalf("alias points at %s", *d.KeyMetadata.KeyId)
		}
		_, err := e.client.UpdateAlias(ctx(), &awskms.UpdateAliasInput{AliasName: aws.String("alias/app"), TargetKeyId: &sign})
		wantCode(t, err, "ValidationException")
		_, err = e.client.UpdateAlias(ctx(), &awskms.UpdateAliasInput{AliasName: aws.String("alias/none"), TargetKeyId: &a})
		wantCode(t, err, "NotFoundException")
	})
	t.Run("list", func(t *testing.T) {
		for _, n := range []string{"alias/b1", "alias/b2", "alias/b3"} {
			if err := create(n, b); err != nil {
				t.Fatal(err)
			}
		}
		var names []string
		var marker *string
		for {
			out, err := e.client.ListAliases(ctx(), &awskms.ListAliasesInput{KeyId: &b, Limit: aws.Int32(2), Marker: marker})
			if err != nil {
				t.Fatal(err)
			}
			for _, al := range out.Aliases {
				names = append(names, *al.AliasName)
				if *al.TargetKeyId != b || *al.AliasArn != "arn:aws:kms:us-east-1:111122223333:"+*al.AliasName || al.CreationDate == nil {
					t.Fatalf("alias entry %+v", al)
				}
			}
			if !out.Truncated {
				break
			}
			marker = out.NextMarker
		}
		if strings.Join(names, ",") != "alias/app,alias/b1,alias/b2,alias/b3" {
			t.Fatalf("aliases of b: %v", names)
		}
	})
	t.Run("delete", func(t *testing.T) {
		if _, err := e.client.DeleteAlias(ctx(), &awskms.DeleteAliasInput{AliasName: aws.String("alias/b1")}); err != nil {
			t.Fatal(err)
		}
		_, err := e.client.DeleteAlias(ctx(), &awskms.DeleteAliasInput{AliasName: aws.String("alias/b1")})
		wantCode(t, err, "NotFoundException")
		_, err = e.client.DeleteAlias(ctx(), &awskms.DeleteAliasInput{AliasName: aws.String("alias/aws/s3")})
		wantCode(t, err, "NotAuthorizedException")
	})
	t.Run("limit of 50 per key", func(t *testing.T) {
		c := e.createKey(t, nil)
		for i := 0; i < 50; i++ {
			if err := create("alias/many-"+strings.Repeat("x", i+1), c); err != nil {
				t.Fatal(err)
			}
		}
		wantCode(t, create("alias/one-too-many", c), "LimitExceededException")
	})
}

func TestAWSManagedKey(t *testing.T) {
	e := newEnv(t, "")
	d, err := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: aws.String("alias/aws/s3")})
	if err != nil {
		t.Fatal(err)
	}
	if d.KeyMetadata.KeyManager != types.KeyManagerTypeAws {
		t.Fatalf("manager %s", d.KeyMetadata.KeyManager)
	}
	// An AWS managed key's policy lets the account use it only through its service
	// (kms:ViaService), never directly.
	_, err = e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: aws.String("alias/aws/s3"), Plaintext: []byte("p")})
	wantCode(t, err, "AccessDeniedException")
	arn, err := e.svc.ServiceKey(ctx(), testAccount, "aws/s3")
	if err != nil || arn != *d.KeyMetadata.Arn {
		t.Fatalf("ServiceKey = %s, %v; want the same key", arn, err)
	}
	id := *d.KeyMetadata.KeyId
	rot, err := e.client.GetKeyRotationStatus(ctx(), &awskms.GetKeyRotationStatusInput{KeyId: &id})
	if err != nil || !rot.KeyRotationEnabled || *rot.RotationPeriodInDays != 365 {
		t.Fatalf("rotation %+v %v", rot, err)
	}
	for name, call := range map[string]func() error{
		"DisableKey": func() error { _, err := e.client.DisableKey(ctx(), &awskms.DisableKeyInput{KeyId: &id}); return err },
		"ScheduleKeyDeletion": func() error {
			_, err := e.client.ScheduleKeyDeletion(ctx(), &awskms.ScheduleKeyDeletionInput{KeyId: &id})
			return err
		},
		"PutKeyPolicy": func() error {
			_, err := e.client.PutKeyPolicy(ctx(), &awskms.PutKeyPolicyInput{KeyId: &id, Policy: aws.String(`{"Statement":[{"Effect":"Allow"}]}`)})
			return err
		},
		"DisableKeyRotation": func() error {
			_, err := e.client.DisableKeyRotation(ctx(), &awskms.DisableKeyRotationInput{KeyId: &id})
			return err
		},
		"CreateAlias": func() error {
			_, err := e.client.CreateAlias(ctx(), &awskms.CreateAliasInput{AliasName: aws.String("alias/mine"), TargetKeyId: &id})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) { wantCode(t, call(), "AccessDeniedException") })
	}
	t.Run("service-owned keys are invisible", func(t *testing.T) {
		owned, err := e.svc.OwnedKey(ctx(), "sse-s3")
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: &owned})
		wantCode(t, err, "NotFoundException")
		dk, err := e.svc.GenerateDataKeyOwned(ctx(), owned, 32, map[string]string{"b": "k"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.client.Decrypt(ctx(), &awskms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, EncryptionContext: map[string]string{"b": "k"}})
		wantCode(t, err, "InvalidCiphertextException")
		pt, err := e.svc.DecryptOwned(ctx(), dk.CiphertextBlob, map[string]string{"b": "k"})
		if err != nil || string(pt) != string(dk.Plaintext) {
			t.Fatalf("DecryptOwned: %v", err)
		}
		list, _ := e.client.ListKeys(ctx(), &awskms.ListKeysInput{})
		for _, k := range list.Keys {
			if *k.KeyId == owned {
				t.Fatal("owned key listed")
			}
		}
	})
}
