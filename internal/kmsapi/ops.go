package kmsapi

import (
	"net/http"

	"github.com/coffer/coffer/internal/kms"
)

// opFunc runs one operation on a decoded caller and raw JSON body.
type opFunc func(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error)

// empty is the result of operations without output.
type empty struct{}

// operations maps X-Amz-Target operation names to their implementations. It is never modified.
var operations = map[string]opFunc{
	"CreateKey":            opCreateKey,
	"DescribeKey":          opDescribeKey,
	"ListKeys":             opListKeys,
	"UpdateKeyDescription": opUpdateKeyDescription,
	"EnableKey":            opEnableKey,
	"DisableKey":           opDisableKey,
	"ScheduleKeyDeletion":  opScheduleKeyDeletion,
	"CancelKeyDeletion":    opCancelKeyDeletion,

	"CreateAlias": opCreateAlias,
	"UpdateAlias": opUpdateAlias,
	"DeleteAlias": opDeleteAlias,
	"ListAliases": opListAliases,

	"Encrypt":                             opEncrypt,
	"Decrypt":                             opDecrypt,
	"ReEncrypt":                           opReEncrypt,
	"GenerateDataKey":                     opGenerateDataKey,
	"GenerateDataKeyWithoutPlaintext":     opGenerateDataKeyWithoutPlaintext,
	"GenerateDataKeyPair":                 opGenerateDataKeyPair,
	"GenerateDataKeyPairWithoutPlaintext": opGenerateDataKeyPairWithoutPlaintext,
	"GenerateRandom":                      opGenerateRandom,
	"Sign":                                opSign,
	"Verify":                              opVerify,
	"GetPublicKey":                        opGetPublicKey,
	"GenerateMac":                         opGenerateMac,
	"VerifyMac":                           opVerifyMac,
	"DeriveSharedSecret":                  opDeriveSharedSecret,

	"EnableKeyRotation":    opEnableKeyRotation,
	"DisableKeyRotation":   opDisableKeyRotation,
	"GetKeyRotationStatus": opGetKeyRotationStatus,
	"RotateKeyOnDemand":    opRotateKeyOnDemand,
	"ListKeyRotations":     opListKeyRotations,

	"GetKeyPolicy":    opGetKeyPolicy,
	"PutKeyPolicy":    opPutKeyPolicy,
	"ListKeyPolicies": opListKeyPolicies,

	"CreateGrant":         opCreateGrant,
	"ListGrants":          opListGrants,
	"ListRetirableGrants": opListRetirableGrants,
	"RetireGrant":         opRetireGrant,
	"RevokeGrant":         opRevokeGrant,

	"TagResource":      opTagResource,
	"UntagResource":    opUntagResource,
	"ListResourceTags": opListResourceTags,

	"GetParametersForImport":    opGetParametersForImport,
	"ImportKeyMaterial":         opImportKeyMaterial,
	"DeleteImportedKeyMaterial": opDeleteImportedKeyMaterial,

	"CreateCustomKeyStore":     opCreateCustomKeyStore,
	"DescribeCustomKeyStores":  opDescribeCustomKeyStores,
	"UpdateCustomKeyStore":     opUpdateCustomKeyStore,
	"DeleteCustomKeyStore":     opDeleteCustomKeyStore,
	"ConnectCustomKeyStore":    opConnectCustomKeyStore,
	"DisconnectCustomKeyStore": opDisconnectCustomKeyStore,
	"ReplicateKey":             opUnsupported,
	"UpdatePrimaryRegion":      opUnsupported,
	"GetKeyLastUsage":          opGetKeyLastUsage,
}

func opUnsupported(*Handler, *http.Request, kms.Caller, []byte) (any, error) {
	return nil, &kms.Error{Kind: kms.ErrUnsupported, Message: "This operation is not supported by Coffer."}
}

type keyIDIn struct{ KeyId string }

type keyIDOut struct{ KeyId string }

// clearSecrets wipes plaintext key material in a response once it has been written.
func clearSecrets(out any) {
	switch o := out.(type) {
	case *kms.GenerateDataKeyOutput:
		clear(o.Plaintext)
	case *kms.DecryptOutput:
		clear(o.Plaintext)
	case *dataKeyPairOut:
		clear(o.PrivateKeyPlaintext)
	case *sharedSecretOut:
		clear(o.SharedSecret)
	}
}
