package kmsapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/kms"
)

// call is what the audit record of one KMS request needs, filled as the request is served.
type call struct {
	op   string
	req  *iam.Request // nil until the caller is authenticated: unauthenticated calls are not recorded
	body []byte
	keys kms.KeysUsed
}

// neverLogged are the request members whose values are never written to a record: plaintext,
// ciphertext, key material, import tokens, messages, signatures and MACs, enclave
// attestation documents, and a custom key store's password and XKS proxy credential. They are
// matched ignoring case, as the JSON decoder matches members.
var neverLogged = []string{"Plaintext", "CiphertextBlob", "SourceCiphertextBlob", "Message", "Signature",
	"Mac", "EncryptedKeyMaterial", "ImportToken", "PublicKey", "Recipient", "WrappingKeyCertificate",
	"KeyStorePassword", "XksProxyAuthenticationCredential"}

// readOnlyOps are the operations CloudTrail marks readOnly besides the Describe, Get and List
// ones: the cryptographic operations, which change no key.
var readOnlyOps = map[string]bool{"Encrypt": true, "Decrypt": true, "ReEncrypt": true, "GenerateDataKey": true,
	"GenerateDataKeyWithoutPlaintext": true, "GenerateDataKeyPair": true, "GenerateDataKeyPairWithoutPlaintext": true,
	"GenerateRandom": true, "Sign": true, "Verify": true, "GenerateMac": true, "VerifyMac": true, "DeriveSharedSecret": true}

func readOnly(op string) bool {
	return readOnlyOps[op] || strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "List")
}

// record keeps the record of a served call before its answer is written. ae is the error the
// client is about to get, nil on success.
func (h *Handler) record(r *http.Request, c *call, out any, ae *apiError) error {
	e := audit.NewEvent(c.req, audit.SourceKMS, c.op)
	e.EventID = audit.NewEventID()
	e.TLSDetails = audit.TLS(r.TLS, r.Host)
	e.ReadOnly = readOnly(c.op)
	e.RequestParameters = requestParameters(c.body)
	arns := c.keys.ARNs
	if ae != nil {
		e.Fail(ae.Type, ae.Message)
	} else {
		e.ResponseElements = responseElements(c.op, out)
		if m, ok := out.(metadataOut); ok && c.op == "CreateKey" {
			arns = []string{m.KeyMetadata.Arn}
		}
		if c.op == "Decrypt" || c.op == "Encrypt" {
			// CloudTrail always shows the algorithm used, given or not.
			if alg := encryptionAlgorithm(out); alg != "" && e.RequestParameters != nil {
				e.RequestParameters["encryptionAlgorithm"] = alg
			}
		}
	}
	e.Resources = kms.KeyResources(arns)
	if err := h.audit.Record(r.Context(), e); err != nil {
		return err
	}
	if ae == nil {
		h.svc.NoteUse(arns, c.op, c.req.Time, e.EventID, c.req.RequestID)
	}
	return nil
}

func encryptionAlgorithm(out any) string {
	switch o := out.(type) {
	case *kms.EncryptOutput:
		return o.EncryptionAlgorithm
	case kms.EncryptOutput:
		return o.EncryptionAlgorithm
	case *kms.DecryptOutput:
		return o.EncryptionAlgorithm
	}
	return ""
}

// requestParameters returns the members of a request body as CloudTrail shows them: names in
// camelCase, values as given, without the members never logged. A body that is not a JSON
// object has none.
func requestParameters(body []byte) map[string]any {
	var members map[string]json.RawMessage
	if json.Unmarshal(body, &members) != nil || len(members) == 0 {
		return nil
	}
	params := make(map[string]any, len(members))
	for name, v := range members {
		if secretMember(name) {
			continue
		}
		params[audit.MemberName(name)] = v
	}
	return params
}

func secretMember(name string) bool {
	for _, s := range neverLogged {
		if strings.EqualFold(name, s) {
			return true
		}
	}
	return false
}

// responseElements returns what CloudTrail shows of a successful answer: the key metadata of
// CreateKey, the deletion schedule of ScheduleKeyDeletion, the key of CancelKeyDeletion and
// RotateKeyOnDemand, the grant id (never the grant token) of CreateGrant; null for every
// other operation, the cryptographic ones above all.
func responseElements(op string, out any) map[string]any {
	switch op {
	case "CreateKey", "ScheduleKeyDeletion", "CancelKeyDeletion", "RotateKeyOnDemand":
		return camelMembers(out)
	case "CreateGrant":
		if m := camelMembers(out); m != nil {
			return map[string]any{"grantId": m["grantId"]}
		}
	}
	return nil
}

// camelMembers renders a wire answer as a record shows it: member names in camelCase at every
// level, dates (epoch seconds on the wire) as CloudTrail writes them ("Jan 2, 2026, 3:04:05 PM").
func camelMembers(out any) map[string]any {
	b, err := json.Marshal(out)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return camelTree(m)
}

func camelTree(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case map[string]any:
			v = camelTree(x)
		case float64:
			if strings.HasSuffix(k, "Date") || k == "ValidTo" {
				sec := int64(x)
				v = time.Unix(sec, int64((x-float64(sec))*1e9)).UTC().Format("Jan 2, 2006, 3:04:05 PM")
			}
		}
		out[audit.MemberName(k)] = v
	}
	return out
}
