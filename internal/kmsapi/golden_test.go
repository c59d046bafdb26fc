package kmsapi

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/sigv4"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestWireGolden pins the JSON shapes the handler writes: input, then the expected bytes in
// testdata/golden/<name>.json.
func TestWireGolden(t *testing.T) {
	created := time.Date(2026, 3, 4, 5, 6, 7, 250e6, time.UTC)
	meta := kms.KeyMetadata{
		AWSAccountId: "111122223333", KeyId: "1234abcd-12ab-34cd-56ef-1234567890ab",
		Arn: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", CreationDate: created,
		Description: "d", KeyUsage: "ENCRYPT_DECRYPT", KeyState: kms.StatePendingDeletion, DeletionDate: created.Add(7 * 24 * time.Hour),
		Origin: "AWS_KMS", KeyManager: "CUSTOMER", CustomerMasterKeySpec: "SYMMETRIC_DEFAULT", KeySpec: "SYMMETRIC_DEFAULT",
		EncryptionAlgorithms: []string{"SYMMETRIC_DEFAULT"}, PendingDeletionWindowInDays: 7,
		CurrentKeyMaterialId: "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
	}
	errBody := func(err error) any {
		ae := classify(err)
		return errorBody{Type: ae.Type, Message: ae.Message}
	}
	tests := []struct {
		name string
		v    any
	}{
		{"describe_key", metadataOut{wireMetadata(meta)}},
		{"list_keys_truncated", struct {
			Keys []kms.KeyListEntry
			page
		}{[]kms.KeyListEntry{{KeyId: meta.KeyId, KeyArn: meta.Arn}}, pageOut(meta.KeyId)}},
		{"error_not_found", errBody(&kms.Error{Kind: kms.ErrNotFound, Message: "Key '" + meta.Arn + "' does not exist"})},
		{"error_invalid_ciphertext", errBody(&kms.Error{Kind: kms.ErrInvalidCiphertext})},
		{"error_bad_signature", errBody(sigv4.ErrSignatureDoesNotMatch)},
		{"error_internal", errBody(os.ErrPermission)},
		{"empty_output", empty{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.MarshalIndent(tc.v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "golden", tc.name+".json")
			if *update {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}
