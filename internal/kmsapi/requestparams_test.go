package kmsapi

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/coffer/coffer/internal/audit"
)

// decodedParameters is requestParameters as it was written first, by decoding the body into a
// map: the reference the one-pass reading must agree with.
func decodedParameters(body []byte) map[string]any {
	var members map[string]json.RawMessage
	if json.Unmarshal(body, &members) != nil || len(members) == 0 {
		return nil
	}
	params := make(map[string]any, len(members))
	for name, v := range members {
		if !secretMember(name) {
			params[audit.MemberName(name)] = v
		}
	}
	return params
}

var parameterBodies = []string{
	``, `null`, `[]`, `[1,2]`, `"s"`, `{}`, ` { } `, `{"KeyId":"k"}`, `not json`, `{"KeyId":"k"`, `{"KeyId":"k",}`,
	`{"KeyId":"alias/x","KeySpec":"AES_256","EncryptionContext":{"aws:s3:arn":"arn:aws:s3:::b/o","b":"<&>"}}`,
	` {"KeyId" : "k" , "NumberOfBytes" : 32 , "DryRun" : false , "GrantTokens" : [ "a" , "b" ] , "X" : null } `,
	"{\"KeyId\":\"k\",\n\t\"Nested\":{\"a\":[{\"b\":\"}]\\\"\"},[],{}],\"c\":-1.5e10}}",
	`{"CiphertextBlob":"eA==","Plaintext":"eA=="}`, `{"plaintext":"eA==","keyId":"k"}`,
	`{"KeyId":"first","KeyId":"second"}`, `{"Key\u0049d":"escaped name","Other":"x"}`, `{"a\"b":"quote in name"}`,
	"{\"\x8d\":\"invalid UTF-8 in a name\"}", `{"Description":"line\u2028sep \ud83d\udd11 \"quoted\" \\ back"}`, `{"empty":"","n":0,"t":true,"f":false}`,
}

func TestRequestParametersOnePass(t *testing.T) {
	for _, body := range parameterBodies {
		t.Run(body, func(t *testing.T) {
			got, want := requestParameters([]byte(body)), decodedParameters([]byte(body))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(want)
			if string(gj) != string(wj) {
				t.Errorf("record shows %s, want %s", gj, wj)
			}
		})
	}
}

// FuzzRequestParameters holds the one-pass reading to the decoder's on any body.
func FuzzRequestParameters(f *testing.F) {
	for _, body := range parameterBodies {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var members map[string]json.RawMessage
		json.Unmarshal(body, &members)
		names := map[string]bool{}
		for name := range members {
			if names[audit.MemberName(name)] {
				t.Skip("two members with one name in a record (KeyId and keyId): which is shown is left to chance")
			}
			names[audit.MemberName(name)] = true
		}
		got, want := requestParameters(body), decodedParameters(body)
		gj, gerr := json.Marshal(got)
		wj, werr := json.Marshal(want)
		if (gerr == nil) != (werr == nil) || string(gj) != string(wj) {
			t.Fatalf("body %q: got %s, want %s", body, gj, wj)
		}
	})
}
