package kms_test

import (
	"testing"

	"github.com/coffer/coffer/internal/kms"
)

// BenchmarkGenerateDataKeyByAlias measures GenerateDataKey in process with the key named by
// its alias, as SSE-KMS configurations and applications often name it.
func BenchmarkGenerateDataKeyByAlias(b *testing.B) {
	s, db := newSvc(b, b.TempDir(), nil)
	defer db.Close()
	m, err := s.CreateKey(b.Context(), alice, kms.CreateKeyInput{})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.CreateAlias(b.Context(), alice, "alias/bench", m.KeyId); err != nil {
		b.Fatal(err)
	}
	ec := map[string]string{"aws:s3:arn": "arn:aws:s3:::bucket/object"}
	for b.Loop() {
		out, err := s.GenerateDataKey(b.Context(), alice, kms.GenerateDataKeyInput{KeyId: "alias/bench", KeySpec: "AES_256", EncryptionContext: ec})
		if err != nil {
			b.Fatal(err)
		}
		clear(out.Plaintext)
	}
}
