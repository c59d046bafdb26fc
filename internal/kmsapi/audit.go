package kmsapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

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
	if !json.Valid(body) {
		return nil
	}
	params := make(map[string]any, 8)
	n := 0
	add := func(name string, v json.RawMessage) {
		n++
		if !secretMember(name) {
			params[memberName(name)] = v
		}
	}
	if !eachMember(body, add) {
		// A member name with escapes: the decoder's reading of it is the one that counts.
		var members map[string]json.RawMessage
		json.Unmarshal(body, &members)
		clear(params)
		n = 0
		for name, v := range members {
			add(name, v)
		}
	}
	if n == 0 {
		return nil
	}
	return params
}

// eachMember calls fn with each member of valid JSON in order, its value a json.RawMessage
// of the body's own bytes; none when the JSON is not an object. It reports false, having
// called fn for none, for an object with a member name holding escapes or invalid UTF-8,
// which it leaves to the decoder. One pass over the body instead of a second decode (the operation has decoded
// it once).
func eachMember(b []byte, fn func(string, json.RawMessage)) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return true
	}
	if namesEscaped(b, i) {
		return false
	}
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] == '"' {
		end := stringEnd(b, i)
		name := string(b[i+1 : end-1])
		i = skipSpace(b, skipSpace(b, end)+1) // past the colon
		vend := valueEnd(b, i)
		fn(name, json.RawMessage(b[i:vend]))
		i = skipSpace(b, vend)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return true
}

// namesEscaped reports whether a member name of the valid JSON object at b[i] holds an escape
// or invalid UTF-8 (which the decoder reads as U+FFFD).
func namesEscaped(b []byte, i int) bool {
	for i = skipSpace(b, i+1); i < len(b) && b[i] == '"'; {
		end := stringEnd(b, i)
		if name := b[i+1 : end-1]; bytes.IndexByte(name, '\\') >= 0 || !utf8.Valid(name) {
			return true
		}
		i = valueEnd(b, skipSpace(b, skipSpace(b, end)+1))
		if i = skipSpace(b, i); i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the string that starts at b[i] (a quote).
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd returns the index after the value of valid JSON that starts at b[i].
func valueEnd(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			i = stringEnd(b, i)
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i // the end of a literal at the end of the object
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return i
}

// memberName is audit.MemberName without an allocation for the members of the calls made
// most (GenerateDataKey, Decrypt, Encrypt).
func memberName(name string) string {
	switch name {
	case "KeyId":
		return "keyId"
	case "KeySpec":
		return "keySpec"
	case "EncryptionContext":
		return "encryptionContext"
	case "EncryptionAlgorithm":
		return "encryptionAlgorithm"
	case "NumberOfBytes":
		return "numberOfBytes"
	case "GrantTokens":
		return "grantTokens"
	case "DryRun":
		return "dryRun"
	}
	return audit.MemberName(name)
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
