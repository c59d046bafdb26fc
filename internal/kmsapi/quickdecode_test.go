package kmsapi

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/coffer/coffer/internal/kms"
)

// quickDecodeCorpus holds bodies quickDecode reads and bodies it must leave to json.Unmarshal.
var quickDecodeCorpus = []struct {
	name string
	body string
	read bool // quickDecode reads it (for both operations when their members allow)
}{
	{"empty object", `{}`, true},
	{"GenerateDataKey", `{"KeyId":"alias/bench","KeySpec":"AES_256","EncryptionContext":{"purpose":"bench","tenant":"t-1"}}`, true},
	{"Decrypt", `{"CiphertextBlob":"AQIDBAUG/w==","KeyId":"arn:aws:kms:us-east-1:111122223333:key/1234abcd","EncryptionContext":{"a":"b"},"GrantTokens":["t1","t2"],"DryRun":false}`, true},
	{"white space", " {\n\t\"KeyId\" : \"k\" ,\r\n \"DryRun\" : true , \"GrantTokens\" : [ ] , \"EncryptionContext\" : { } } \n", true},
	{"number", `{"NumberOfBytes":1024}`, true},
	{"number zero", `{"NumberOfBytes":0}`, true},
	{"utf-8", `{"EncryptionContext":{"ключ":"значение ✓ 🗝"}}`, true},
	{"empty strings", `{"KeyId":"","CiphertextBlob":"","EncryptionContext":{"":""}}`, true},
	{"escape", `{"KeyId":"alias\/x"}`, false},
	{"unicode escape", `{"EncryptionContext":{"a":"\u00e9"}}`, false},
	{"invalid utf-8", "{\"KeyId\":\"a\xffb\"}", false},
	{"control character", "{\"KeyId\":\"a\tb\"}", false},
	{"other case", `{"keyid":"k"}`, false},
	{"unknown member", `{"KeyId":"k","Foo":1}`, false},
	{"recipient", `{"KeyId":"k","Recipient":{"KeyEncryptionAlgorithm":"RSAES_OAEP_SHA_256"}}`, false},
	{"duplicate member", `{"KeyId":"a","KeyId":"b"}`, false},
	{"duplicate context key", `{"EncryptionContext":{"a":"1","a":"2"}}`, false},
	{"null", `{"KeyId":null}`, false},
	{"null context", `{"EncryptionContext":null}`, false},
	{"negative number", `{"NumberOfBytes":-1}`, false},
	{"fraction", `{"NumberOfBytes":1.5}`, false},
	{"exponent", `{"NumberOfBytes":1e3}`, false},
	{"leading zero", `{"NumberOfBytes":01}`, false},
	{"huge number", `{"NumberOfBytes":99999999999999999999}`, false},
	{"string number", `{"NumberOfBytes":"32"}`, false},
	{"bad base64", `{"CiphertextBlob":"not base64!"}`, false},
	{"trailing comma", `{"KeyId":"k",}`, false},
	{"trailing data", `{"KeyId":"k"}x`, false},
	{"two objects", `{}{}`, false},
	{"unterminated", `{"KeyId":"k"`, false},
	{"unterminated string", `{"KeyId":"k}`, false},
	{"truex", `{"DryRun":truex}`, false},
	{"array", `[]`, false},
	{"context of numbers", `{"EncryptionContext":{"a":1}}`, false},
	{"tokens of numbers", `{"GrantTokens":[1]}`, false},
}

// TestQuickDecodeIsJSONUnmarshal holds quickDecode to json.Unmarshal: whatever it reads, it
// reads as json.Unmarshal does, into the inputs of GenerateDataKey and Decrypt.
func TestQuickDecodeIsJSONUnmarshal(t *testing.T) {
	for _, tc := range quickDecodeCorpus {
		t.Run(tc.name, func(t *testing.T) {
			read := false
			for _, allowed := range []quickMember{generateDataKeyMembers, decryptMembers} {
				read = checkQuickDecode(t, []byte(tc.body), allowed) || read
			}
			if read != tc.read {
				t.Errorf("quickDecode read it: %v, want %v", read, tc.read)
			}
		})
	}
}

func FuzzQuickDecode(f *testing.F) {
	for _, tc := range quickDecodeCorpus {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkQuickDecode(t, body, generateDataKeyMembers)
		checkQuickDecode(t, body, decryptMembers)
	})
}

// checkQuickDecode compares quickDecode with json.Unmarshal on body and reports whether
// quickDecode read it.
func checkQuickDecode(t *testing.T, body []byte, allowed quickMember) bool {
	t.Helper()
	var q quickInput
	if !quickDecode(body, allowed, &q) {
		return false
	}
	if allowed == generateDataKeyMembers {
		var in struct {
			kms.GenerateDataKeyInput
			recipient
		}
		if err := json.Unmarshal(body, &in); err != nil {
			t.Fatalf("quickDecode read %q, json.Unmarshal: %v", body, err)
		}
		got := q.generateDataKey()
		if !reflect.DeepEqual(got, in.GenerateDataKeyInput) || in.Recipient != nil || q.CiphertextBlob != nil || q.EncryptionAlgorithm != "" {
			t.Fatalf("%q:\nquickDecode    %#v\njson.Unmarshal %#v", body, got, in.GenerateDataKeyInput)
		}
		return true
	}
	var in struct {
		kms.DecryptInput
		recipient
	}
	if err := json.Unmarshal(body, &in); err != nil {
		t.Fatalf("quickDecode read %q, json.Unmarshal: %v", body, err)
	}
	got := q.decrypt()
	if !reflect.DeepEqual(got, in.DecryptInput) || in.Recipient != nil || q.KeySpec != "" || q.NumberOfBytes != 0 {
		t.Fatalf("%q:\nquickDecode    %#v\njson.Unmarshal %#v", body, got, in.DecryptInput)
	}
	return true
}

// BenchmarkDecodeGenerateDataKey compares quickDecode with json.Unmarshal on a GenerateDataKey body.
func BenchmarkDecodeGenerateDataKey(b *testing.B) {
	body := []byte(`{"KeyId":"alias/bench","KeySpec":"AES_256","EncryptionContext":{"purpose":"bench","tenant":"t-1"}}`)
	b.Run("quickDecode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var q quickInput
			quickDecode(body, generateDataKeyMembers, &q)
		}
	})
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var in struct {
				kms.GenerateDataKeyInput
				recipient
			}
			_ = decode(body, &in)
		}
	})
}
