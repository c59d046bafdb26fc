package kmsapi

import (
	"encoding/json"
	"net/http"

	"github.com/coffer/coffer/internal/kms"
)

func opEncrypt(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in kms.EncryptInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	out, err := h.svc.Encrypt(r.Context(), c, in)
	clear(in.Plaintext)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// recipient catches the Nitro-enclave Recipient member, which Coffer does not support: the
// plaintext must never be returned to a caller who asked for it sealed to an enclave.
type recipient struct {
	Recipient json.RawMessage
}

func (r recipient) check() error {
	if len(r.Recipient) != 0 && string(r.Recipient) != "null" {
		return &kms.Error{Kind: kms.ErrUnsupported, Message: "Recipient (Nitro Enclaves attestation) is not supported."}
	}
	return nil
}

func opDecrypt(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct {
		kms.DecryptInput
		recipient
	}
	var q quickInput
	if quickDecode(body, decryptMembers, &q) {
		in.DecryptInput = q.decrypt()
	} else if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	out, err := h.svc.Decrypt(r.Context(), c, in.DecryptInput)
	if err != nil {
		return nil, err
	}
	return &kms.DecryptOutput{KeyId: out.KeyId, Plaintext: out.Plaintext, EncryptionAlgorithm: out.EncryptionAlgorithm, KeyMaterialId: out.KeyMaterialId}, nil
}

func opReEncrypt(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in kms.ReEncryptInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return h.svc.ReEncrypt(r.Context(), c, in)
}

type dataKeyOut struct {
	CiphertextBlob []byte
	Plaintext      []byte `json:",omitempty"`
	KeyId          string
	KeyMaterialId  string `json:",omitempty"`
}

func opGenerateDataKey(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct {
		kms.GenerateDataKeyInput
		recipient
	}
	var q quickInput
	if quickDecode(body, generateDataKeyMembers, &q) {
		in.GenerateDataKeyInput = q.generateDataKey()
	} else if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	out, err := h.svc.GenerateDataKey(r.Context(), c, in.GenerateDataKeyInput)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func opGenerateDataKeyWithoutPlaintext(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in kms.GenerateDataKeyInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	out, err := h.svc.GenerateDataKeyWithoutPlaintext(r.Context(), c, in)
	if err != nil {
		return nil, err
	}
	return dataKeyOut{CiphertextBlob: out.CiphertextBlob, KeyId: out.KeyId, KeyMaterialId: out.KeyMaterialId}, nil
}

type dataKeyPairIn struct {
	recipient
	KeyId             string
	KeyPairSpec       string
	EncryptionContext map[string]string
	GrantTokens       []string
	DryRun            bool
}

type dataKeyPairOut struct {
	KeyId                    string
	KeyPairSpec              string
	PrivateKeyCiphertextBlob []byte
	PrivateKeyPlaintext      []byte `json:",omitempty"`
	PublicKey                []byte
	KeyMaterialId            string `json:",omitempty"`
}

func dataKeyPair(h *Handler, r *http.Request, c kms.Caller, body []byte, plain bool) (any, error) {
	var in dataKeyPairIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	out, err := h.svc.GenerateDataKeyPair(r.Context(), c, in.KeyId, in.KeyPairSpec, in.EncryptionContext, plain, in.DryRun)
	if err != nil {
		return nil, err
	}
	return &dataKeyPairOut{out.KeyId, out.KeyPairSpec, out.PrivateKeyCiphertextBlob, out.PrivateKeyPlaintext, out.PublicKey, out.KeyMaterialId}, nil
}

func opGenerateDataKeyPair(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	return dataKeyPair(h, r, c, body, true)
}

func opGenerateDataKeyPairWithoutPlaintext(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	return dataKeyPair(h, r, c, body, false)
}

func opGenerateRandom(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct {
		NumberOfBytes    int
		CustomKeyStoreId string
		recipient
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	b, err := h.svc.GenerateRandom(r.Context(), c, in.NumberOfBytes, in.CustomKeyStoreId)
	if err != nil {
		return nil, err
	}
	return struct{ Plaintext []byte }{b}, nil
}

func opSign(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in kms.SignInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	in.Signature = nil
	return h.svc.Sign(r.Context(), c, in)
}

func opVerify(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in kms.SignInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	out, err := h.svc.Verify(r.Context(), c, in)
	if err != nil {
		return nil, err
	}
	return struct {
		KeyId            string
		SignatureValid   bool
		SigningAlgorithm string
	}{out.KeyId, true, out.SigningAlgorithm}, nil
}

func opGetPublicKey(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in keyIDIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	out, err := h.svc.GetPublicKey(r.Context(), c, in.KeyId)
	if err != nil {
		return nil, err
	}
	return struct {
		KeyId                  string
		PublicKey              []byte
		CustomerMasterKeySpec  string
		KeySpec                string
		KeyUsage               string
		EncryptionAlgorithms   []string `json:",omitempty"`
		SigningAlgorithms      []string `json:",omitempty"`
		KeyAgreementAlgorithms []string `json:",omitempty"`
	}{out.KeyId, out.PublicKey, out.KeySpec, out.KeySpec, out.KeyUsage, out.EncryptionAlgorithms, out.SigningAlgorithms, out.KeyAgreementAlgorithms}, nil
}

func opGenerateMac(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in kms.MacInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	in.Mac = nil
	return h.svc.GenerateMac(r.Context(), c, in)
}

func opVerifyMac(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in kms.MacInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	out, err := h.svc.VerifyMac(r.Context(), c, in)
	if err != nil {
		return nil, err
	}
	return struct {
		KeyId        string
		MacValid     bool
		MacAlgorithm string
	}{out.KeyId, true, out.MacAlgorithm}, nil
}

type sharedSecretOut struct {
	KeyId                 string
	SharedSecret          []byte
	KeyAgreementAlgorithm string
	KeyOrigin             string
}

func opDeriveSharedSecret(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct {
		KeyId                 string
		KeyAgreementAlgorithm string
		PublicKey             []byte
		GrantTokens           []string
		DryRun                bool
		recipient
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	arn, secret, err := h.svc.DeriveSharedSecret(r.Context(), c, in.KeyId, in.KeyAgreementAlgorithm, in.PublicKey, in.DryRun)
	if err != nil {
		return nil, err
	}
	return &sharedSecretOut{arn, secret, in.KeyAgreementAlgorithm, kms.OriginAWSKMS}, nil
}
