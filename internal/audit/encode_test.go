package audit

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// tricky are strings that encoding/json escapes: quotes and backslashes, control characters
// (named and not), HTML characters, U+2028/U+2029, invalid UTF-8, and plain unicode.
var tricky = []string{
	"", "plain", `quote " and \ backslash`, "tab\tnewline\ncr\rbs\bff\f", "nul\x00 esc\x1b del\x7f unit\x1f",
	"<script>alert('x')</script> & more", "line\u2028sep\u2029para", "bad \xff\xfe utf8 \xe2\x80", "truncated \xe2",
	"日本語 ünïcödé 🔑", "\u00a0nbsp", "arn:aws:s3:::bucket/key with spaces/and+plus",
}

// corpus is a set of records that between them set every field, with tricky strings in
// each, nested maps to sort, raw JSON as a request gives it, and the value kinds records hold.
func corpus() []*Event {
	full := func(s string) *Event {
		e := sampleEvent(1)
		e.EventVersion, e.EventTime, e.EventID, e.SharedEventID = EventVersion, "2026-12-02T10:00:00Z", "id-"+s, "shared-"+s
		e.UserIdentity = UserIdentity{Type: "AssumedRole", PrincipalID: "AROA:" + s, ARN: "arn:aws:sts::111122223333:assumed-role/r/" + s,
			AccountID: "111122223333", AccessKeyID: "ASIA" + s, UserName: s, InvokedBy: s,
			SessionContext: &SessionContext{SessionIssuer: &SessionIssuer{Type: "Role", PrincipalID: s, ARN: s, AccountID: s, UserName: s},
				Attributes: SessionAttributes{CreationDate: s, MFAAuthenticated: "false"}}}
		e.EventSource, e.EventName, e.AWSRegion, e.SourceIPAddress, e.UserAgent = s, s, s, s, s
		e.ErrorCode, e.ErrorMessage, e.RequestID, e.EventType, e.EventCategory, e.RecipientAccountID = s, s, s, s, s, s
		e.RequestParameters = map[string]any{s: s, "z": json.RawMessage(`{"b":` + unescapedJSON(s) + `,"a":[1,2.5e3,true,null]}`),
			"keyId": json.RawMessage(`"1234abcd"`), "spaced": json.RawMessage(" { \"k\" : \"<v>\" } "),
			"nested": map[string]any{"y": []any{s, 1.5, false, nil, map[string]any{"b": s, "a": s}}, "x": nil},
			"strs":   []string{s, "a"}, "ctx": map[string]string{s: s, "a": "b"}, "n": float64(1e21), "i": 42, "neg": -0.000001,
			"empty": map[string]any{}, "nilraw": json.RawMessage(nil), "nillist": []any(nil)}
		e.ResponseElements = map[string]any{"keyMetadata": map[string]any{"keyId": s, "creationDate": "Jan 2, 2026, 3:04:05 PM", "enabled": true}}
		e.AdditionalEventData = map[string]any{s: true, "requestParametersOmitted": true}
		e.ServiceEventDetails = map[string]any{"keyId": s, s: []any{}}
		e.Resources = []Resource{{AccountID: s, Type: "AWS::KMS::Key", ARN: s}, {Type: "AWS::S3::Object", ARN: s}}
		e.TLSDetails = &TLSDetails{TLSVersion: "TLSv1.3", CipherSuite: s, ClientProvidedHostHeader: s}
		return e
	}
	var out []*Event
	for _, s := range tricky {
		out = append(out, full(s))
	}
	sparse := sampleEvent(2)
	sparse.UserIdentity = UserIdentity{}
	sparse.RequestParameters, sparse.Resources = nil, nil
	anonymous := sampleEvent(3)
	anonymous.UserIdentity = UserIdentity{Type: "AWSAccount", AccountID: anonymousAccount}
	role := sampleEvent(4)
	role.UserIdentity.SessionContext = &SessionContext{Attributes: SessionAttributes{MFAAuthenticated: "false"}}
	svc := ServiceEvent("111122223333", "us-east-1", SourceKMS, "RotateKey")
	svc.ServiceEventDetails = map[string]any{"keyId": "k"}
	return append(out, sampleEvent(1), sparse, anonymous, role, svc, &Event{})
}

// unescapedJSON is s as a JSON string with <, > and & left as they are, as a client may send them.
func unescapedJSON(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return string(bytes.TrimSpace(b.Bytes()))
}

// TestMarshalEventIsJSONMarshal holds MarshalEvent to json.Marshal's bytes on the corpus.
func TestMarshalEventIsJSONMarshal(t *testing.T) {
	for i, e := range corpus() {
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := MarshalEvent(e)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("record %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestMarshalEventErrors: a value json.Marshal refuses is refused.
func TestMarshalEventErrors(t *testing.T) {
	for name, v := range map[string]any{"NaN": math.NaN(), "channel": make(chan int), "bad raw JSON": json.RawMessage(`{"a":`)} {
		t.Run(name, func(t *testing.T) {
			e := sampleEvent(1)
			e.RequestParameters = map[string]any{"v": v}
			if _, err := MarshalEvent(e); err == nil {
				t.Error("no error")
			}
		})
	}
}

// FuzzMarshalEvent compares MarshalEvent with json.Marshal on records holding arbitrary
// strings and raw JSON.
func FuzzMarshalEvent(f *testing.F) {
	for _, s := range tricky {
		f.Add(s, []byte(`{"a":"`+s+`"}`))
	}
	f.Fuzz(func(t *testing.T, s string, raw []byte) {
		e := corpus()[0]
		e.UserAgent, e.ErrorMessage, e.UserIdentity.UserName = s, s, s
		e.RequestParameters = map[string]any{s: s, "raw": json.RawMessage(raw), "m": map[string]any{s: []any{s}}}
		want, werr := json.Marshal(e)
		got, gerr := MarshalEvent(e)
		if (werr == nil) != (gerr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("got %s (%v)\nwant %s (%v)", got, gerr, want, werr)
		}
	})
}

// BenchmarkMarshalEvent compares MarshalEvent with json.Marshal on a GenerateDataKey record as
// the KMS makes it (request members as raw JSON, TLS details, one resource).
func BenchmarkMarshalEvent(b *testing.B) {
	e := sampleEvent(1)
	e.EventVersion, e.EventTime, e.EventID, e.RequestID = EventVersion, "2026-12-02T10:00:00Z", "6f1c2a9e-3b1d-4c9e-9f3a-2d5b8e7c1a40", "0f2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b"
	e.EventName, e.UserAgent = "GenerateDataKey", "aws-sdk-go-v2/1.47.7 os/linux lang/go#1.26 api/kms#1.62.4"
	e.RequestParameters = map[string]any{"keyId": json.RawMessage(`"1234abcd-12ab-34cd-56ef-1234567890ab"`), "keySpec": json.RawMessage(`"AES_256"`),
		"encryptionContext": json.RawMessage(`{"aws:s3:arn":"arn:aws:s3:::coffer-bench/object"}`)}
	e.TLSDetails = &TLSDetails{TLSVersion: "TLSv1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ClientProvidedHostHeader: "127.0.0.1:9000"}
	for _, bc := range []struct {
		name string
		fn   func(*Event) ([]byte, error)
	}{{"json.Marshal", func(e *Event) ([]byte, error) { return json.Marshal(e) }}, {"MarshalEvent", MarshalEvent}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.fn(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
