package kmsapi

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// state names the key states of the KMS_API.md §2.4 table that Coffer keys can be in.
type state int

const (
	enabled state = iota
	disabled
	pendingDeletion
	pendingImport
)

var stateNames = []string{"Enabled", "Disabled", "PendingDeletion", "PendingImport"}

// keyKind selects the kind of key a row of the table runs on.
type keyKind int

const (
	symKey keyKind = iota
	signKey
	macKey
	agreeKey
)

// fixture is a key in a given state with whatever a row needs.
type fixture struct {
	id         string
	arn        string
	blob       []byte // a ciphertext under the key (symmetric only)
	otherSym   string // another enabled symmetric key
	alias      string // an alias pointing at otherSym, to retarget
	signature  []byte
	mac        []byte
	peerPublic []byte
}

// blobFor crafts a well-formed ciphertext header naming key id (SPEC.md §1); the state check
// happens before the blob is opened, so the sealed part can be anything.
func blobFor(t testing.TB, id string) []byte {
	u, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte("ckms\x01"), u...)
	b = binary.BigEndian.AppendUint32(b, 1)
	rest := make([]byte, 16+16+4)
	rand.Read(rest)
	return append(b, rest...)
}

func (e *env) fixture(t *testing.T, kind keyKind, st state) fixture {
	t.Helper()
	var in awskms.CreateKeyInput
	switch kind {
	case signKey:
		in = awskms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify}
	case macKey:
		in = awskms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac}
	case agreeKey:
		in = awskms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeKeyAgreement}
	}
	if st == pendingImport {
		in = awskms.CreateKeyInput{Origin: types.OriginTypeExternal}
	}
	f := fixture{id: e.createKey(t, &in)}
	f.arn = "arn:aws:kms:" + testRegion + ":" + testAccount + ":key/" + f.id
	f.otherSym = e.createKey(t, nil)
	f.alias = "alias/retarget-" + f.id
	if _, err := e.client.CreateAlias(ctx(), &awskms.CreateAliasInput{AliasName: &f.alias, TargetKeyId: &f.otherSym}); err != nil {
		t.Fatal(err)
	}
	switch {
	case st == pendingImport:
		f.blob = blobFor(t, f.id)
	case kind == symKey:
		out, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &f.id, Plaintext: []byte("state")})
		if err != nil {
			t.Fatal(err)
		}
		f.blob = out.CiphertextBlob
	case kind == signKey:
		out, err := e.client.Sign(ctx(), &awskms.SignInput{KeyId: &f.id, Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
		if err != nil {
			t.Fatal(err)
		}
		f.signature = out.Signature
	case kind == macKey:
		out, err := e.client.GenerateMac(ctx(), &awskms.GenerateMacInput{KeyId: &f.id, Message: []byte("m"), MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
		if err != nil {
			t.Fatal(err)
		}
		f.mac = out.Mac
	case kind == agreeKey:
		out, err := e.client.GetPublicKey(ctx(), &awskms.GetPublicKeyInput{KeyId: &f.id})
		if err != nil {
			t.Fatal(err)
		}
		f.peerPublic = out.PublicKey
	}
	switch st {
	case disabled:
		if _, err := e.client.DisableKey(ctx(), &awskms.DisableKeyInput{KeyId: &f.id}); err != nil {
			t.Fatal(err)
		}
	case pendingDeletion:
		if _, err := e.client.ScheduleKeyDeletion(ctx(), &awskms.ScheduleKeyDeletionInput{KeyId: &f.id, PendingWindowInDays: aws.Int32(7)}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: &f.id})
	if err != nil {
		t.Fatal(err)
	}
	if string(d.KeyMetadata.KeyState) != stateNames[st] {
		t.Fatalf("fixture state = %s, want %s", d.KeyMetadata.KeyState, stateNames[st])
	}
	return f
}

const (
	ok     = ""
	dis    = "DisabledException"
	inv    = "KMSInvalidStateException"
	unsup  = "UnsupportedOperationException"
	na     = "-" // not applicable: the key kind cannot be in that state
	badTok = "InvalidImportTokenException"
)

// TestKeyStateTable runs every operation of the KMS_API.md §2.4 table against a key in each
// state and checks the outcome. Columns: Enabled, Disabled, PendingDeletion, PendingImport.
func TestKeyStateTable(t *testing.T) {
	e := newEnv(t, "")
	sym := types.EncryptionAlgorithmSpecSymmetricDefault
	rows := []struct {
		op   string
		kind keyKind
		want [4]string
		call func(f fixture) error
	}{
		{"Encrypt", symKey, [4]string{ok, dis, inv, inv}, func(f fixture) error {
			_, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &f.id, Plaintext: []byte("x")})
			return err
		}},
		{"Decrypt", symKey, [4]string{ok, dis, inv, inv}, func(f fixture) error {
			_, err := e.client.Decrypt(ctx(), &awskms.DecryptInput{CiphertextBlob: f.blob, EncryptionAlgorithm: sym})
			return err
		}},
		{"ReEncrypt", symKey, [4]string{ok, dis, inv, inv}, func(f fixture) error {
			_, err := e.client.ReEncrypt(ctx(), &awskms.ReEncryptInput{CiphertextBlob: f.blob, DestinationKeyId: &f.otherSym})
			return err
		}},
		{"ReEncrypt to", symKey, [4]string{ok, dis, inv, inv}, func(f fixture) error {
			src, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &f.otherSym, Plaintext: []byte("x")})
			if err != nil {
				return err
			}
			_, err = e.client.ReEncrypt(ctx(), &awskms.ReEncryptInput{CiphertextBlob: src.CiphertextBlob, DestinationKeyId: &f.id})
			return err
		}},
		{"GenerateDataKey", symKey, [4]string{ok, dis, inv, inv}, func(f fixture) error {
			_, err := e.client.GenerateDataKey(ctx(), &awskms.GenerateDataKeyInput{KeyId: &f.id, KeySpec: types.DataKeySpecAes256})
			return err
		}},
		{"GenerateDataKeyWithoutPlaintext", symKey, [4]string{ok, dis, inv, inv}, func(f fixture) error {
			_, err := e.client.GenerateDataKeyWithoutPlaintext(ctx(), &awskms.GenerateDataKeyWithoutPlaintextInput{KeyId: &f.id, NumberOfBytes: aws.Int32(16)})
			return err
		}},
		{"GenerateDataKeyPair", symKey, [4]string{ok, dis, inv, inv}, func(f fixture) error {
			_, err := e.client.GenerateDataKeyPair(ctx(), &awskms.GenerateDataKeyPairInput{KeyId: &f.id, KeyPairSpec: types.DataKeyPairSpecEccNistP256})
			return err
		}},
		{"GenerateDataKeyPairWithoutPlaintext", symKey, [4]string{ok, dis, inv, inv}, func(f fixture) error {
			_, err := e.client.GenerateDataKeyPairWithoutPlaintext(ctx(), &awskms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: &f.id, KeyPairSpec: types.DataKeyPairSpecEccNistP256})
			return err
		}},
		{"CreateGrant", symKey, [4]string{ok, dis, inv, inv}, func(f fixture) error {
			_, err := e.client.CreateGrant(ctx(), &awskms.CreateGrantInput{KeyId: &f.id, GranteePrincipal: aws.String("arn:aws:iam::111122223333:role/r"), Operations: []types.GrantOperation{types.GrantOperationDecrypt}})
			return err
		}},
		{"CreateAlias", symKey, [4]string{ok, ok, inv, ok}, func(f fixture) error {
			_, err := e.client.CreateAlias(ctx(), &awskms.CreateAliasInput{AliasName: aws.String("alias/new-" + f.id), TargetKeyId: &f.id})
			return err
		}},
		{"UpdateAlias", symKey, [4]string{ok, ok, inv, ok}, func(f fixture) error {
			_, err := e.client.UpdateAlias(ctx(), &awskms.UpdateAliasInput{AliasName: &f.alias, TargetKeyId: &f.id})
			return err
		}},
		{"DescribeKey", symKey, [4]string{ok, ok, ok, ok}, func(f fixture) error {
			_, err := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: &f.arn})
			return err
		}},
		{"GetKeyPolicy", symKey, [4]string{ok, ok, ok, ok}, func(f fixture) error {
			_, err := e.client.GetKeyPolicy(ctx(), &awskms.GetKeyPolicyInput{KeyId: &f.id})
			return err
		}},
		{"PutKeyPolicy", symKey, [4]string{ok, ok, ok, ok}, func(f fixture) error {
			p := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`
			_, err := e.client.PutKeyPolicy(ctx(), &awskms.PutKeyPolicyInput{KeyId: &f.id, Policy: &p, PolicyName: aws.String("default")})
			return err
		}},
		{"ListKeyPolicies", symKey, [4]string{ok, ok, ok, ok}, func(f fixture) error {
			_, err := e.client.ListKeyPolicies(ctx(), &awskms.ListKeyPoliciesInput{KeyId: &f.id})
			return err
		}},
		{"ListGrants", symKey, [4]string{ok, ok, ok, ok}, func(f fixture) error {
			_, err := e.client.ListGrants(ctx(), &awskms.ListGrantsInput{KeyId: &f.id})
			return err
		}},
		{"ListAliases", symKey, [4]string{ok, ok, ok, ok}, func(f fixture) error {
			_, err := e.client.ListAliases(ctx(), &awskms.ListAliasesInput{KeyId: &f.id})
			return err
		}},
		{"ListResourceTags", symKey, [4]string{ok, ok, ok, ok}, func(f fixture) error {
			_, err := e.client.ListResourceTags(ctx(), &awskms.ListResourceTagsInput{KeyId: &f.id})
			return err
		}},
		{"RevokeGrant", symKey, [4]string{"InvalidGrantIdException", "InvalidGrantIdException", "InvalidGrantIdException", "InvalidGrantIdException"}, func(f fixture) error {
			_, err := e.client.RevokeGrant(ctx(), &awskms.RevokeGrantInput{KeyId: &f.id, GrantId: aws.String("0000")})
			return err
		}},
		{"EnableKey", symKey, [4]string{ok, ok, inv, inv}, func(f fixture) error {
			_, err := e.client.EnableKey(ctx(), &awskms.EnableKeyInput{KeyId: &f.id})
			return err
		}},
		{"DisableKey", symKey, [4]string{ok, ok, inv, inv}, func(f fixture) error {
			_, err := e.client.DisableKey(ctx(), &awskms.DisableKeyInput{KeyId: &f.id})
			return err
		}},
		{"EnableKeyRotation", symKey, [4]string{ok, dis, inv, unsup}, func(f fixture) error {
			_, err := e.client.EnableKeyRotation(ctx(), &awskms.EnableKeyRotationInput{KeyId: &f.id})
			return err
		}},
		{"DisableKeyRotation", symKey, [4]string{ok, dis, inv, unsup}, func(f fixture) error {
			_, err := e.client.DisableKeyRotation(ctx(), &awskms.DisableKeyRotationInput{KeyId: &f.id})
			return err
		}},
		{"GetKeyRotationStatus", symKey, [4]string{ok, ok, ok, unsup}, func(f fixture) error {
			_, err := e.client.GetKeyRotationStatus(ctx(), &awskms.GetKeyRotationStatusInput{KeyId: &f.id})
			return err
		}},
		{"RotateKeyOnDemand", symKey, [4]string{ok, dis, inv, unsup}, func(f fixture) error {
			_, err := e.client.RotateKeyOnDemand(ctx(), &awskms.RotateKeyOnDemandInput{KeyId: &f.id})
			return err
		}},
		{"ListKeyRotations", symKey, [4]string{ok, ok, ok, unsup}, func(f fixture) error {
			_, err := e.client.ListKeyRotations(ctx(), &awskms.ListKeyRotationsInput{KeyId: &f.id})
			return err
		}},
		{"ScheduleKeyDeletion", symKey, [4]string{ok, ok, inv, ok}, func(f fixture) error {
			_, err := e.client.ScheduleKeyDeletion(ctx(), &awskms.ScheduleKeyDeletionInput{KeyId: &f.id})
			return err
		}},
		{"CancelKeyDeletion", symKey, [4]string{inv, inv, ok, inv}, func(f fixture) error {
			_, err := e.client.CancelKeyDeletion(ctx(), &awskms.CancelKeyDeletionInput{KeyId: &f.id})
			return err
		}},
		{"TagResource", symKey, [4]string{ok, ok, inv, ok}, func(f fixture) error {
			_, err := e.client.TagResource(ctx(), &awskms.TagResourceInput{KeyId: &f.id, Tags: []types.Tag{{TagKey: aws.String("k"), TagValue: aws.String("v")}}})
			return err
		}},
		{"UntagResource", symKey, [4]string{ok, ok, inv, ok}, func(f fixture) error {
			_, err := e.client.UntagResource(ctx(), &awskms.UntagResourceInput{KeyId: &f.id, TagKeys: []string{"k"}})
			return err
		}},
		{"UpdateKeyDescription", symKey, [4]string{ok, ok, inv, ok}, func(f fixture) error {
			_, err := e.client.UpdateKeyDescription(ctx(), &awskms.UpdateKeyDescriptionInput{KeyId: &f.id, Description: aws.String("d")})
			return err
		}},
		{"GetParametersForImport", symKey, [4]string{unsup, unsup, unsup, ok}, func(f fixture) error {
			_, err := e.client.GetParametersForImport(ctx(), &awskms.GetParametersForImportInput{KeyId: &f.id, WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048})
			return err
		}},
		{"ImportKeyMaterial", symKey, [4]string{unsup, unsup, unsup, badTok}, func(f fixture) error {
			_, err := e.client.ImportKeyMaterial(ctx(), &awskms.ImportKeyMaterialInput{KeyId: &f.id, ImportToken: []byte("bogus"), EncryptedKeyMaterial: []byte("bogus"), ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire})
			return err
		}},
		{"DeleteImportedKeyMaterial", symKey, [4]string{unsup, unsup, unsup, ok}, func(f fixture) error {
			_, err := e.client.DeleteImportedKeyMaterial(ctx(), &awskms.DeleteImportedKeyMaterialInput{KeyId: &f.id})
			return err
		}},
		{"Sign", signKey, [4]string{ok, dis, inv, na}, func(f fixture) error {
			_, err := e.client.Sign(ctx(), &awskms.SignInput{KeyId: &f.id, Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			return err
		}},
		{"Verify", signKey, [4]string{ok, dis, inv, na}, func(f fixture) error {
			_, err := e.client.Verify(ctx(), &awskms.VerifyInput{KeyId: &f.id, Message: []byte("m"), Signature: f.signature, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			return err
		}},
		{"GetPublicKey", signKey, [4]string{ok, dis, inv, na}, func(f fixture) error {
			_, err := e.client.GetPublicKey(ctx(), &awskms.GetPublicKeyInput{KeyId: &f.id})
			return err
		}},
		{"GenerateMac", macKey, [4]string{ok, dis, inv, na}, func(f fixture) error {
			_, err := e.client.GenerateMac(ctx(), &awskms.GenerateMacInput{KeyId: &f.id, Message: []byte("m"), MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
			return err
		}},
		{"VerifyMac", macKey, [4]string{ok, dis, inv, na}, func(f fixture) error {
			_, err := e.client.VerifyMac(ctx(), &awskms.VerifyMacInput{KeyId: &f.id, Message: []byte("m"), Mac: f.mac, MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
			return err
		}},
		{"DeriveSharedSecret", agreeKey, [4]string{ok, dis, inv, na}, func(f fixture) error {
			_, err := e.client.DeriveSharedSecret(ctx(), &awskms.DeriveSharedSecretInput{KeyId: &f.id, KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh, PublicKey: f.peerPublic})
			return err
		}},
	}
	for _, row := range rows {
		for st := enabled; st <= pendingImport; st++ {
			want := row.want[st]
			if want == na {
				continue
			}
			t.Run(row.op+"/"+stateNames[st], func(t *testing.T) {
				f := e.fixture(t, row.kind, st)
				wantCode(t, row.call(f), want)
			})
		}
	}
}
