package sse

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// This file re-implements SPEC.md from its text with standard-library primitives only, sharing no
// code with the package, and checks the vectors against it: if the code and the spec drift apart,
// these tests fail.

func specID(v vectorIdentity) []byte {
	var b []byte
	for _, s := range []string{v.Bucket, v.Key, v.UploadID} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	return binary.BigEndian.AppendUint16(b, uint16(v.PartNumber))
}

func specGCM(t *testing.T, key []byte) cipher.AEAD {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return aead
}

// specDecrypt decrypts a whole stream by SPEC.md section 2.
func specDecrypt(t *testing.T, ct, objectKey []byte, id vectorIdentity) []byte {
	t.Helper()
	header := ct[:32]
	if string(header[:4]) != "CfSt" || header[4] != 1 || !bytes.Equal(header[5:8], []byte{0, 0, 0}) {
		t.Fatal("header does not follow the spec")
	}
	info := string(binary.BigEndian.AppendUint16([]byte("coffer/sse/v1/stream"), uint16(id.PartNumber)))
	streamKey, err := hkdf.Key(sha256.New, objectKey, header[8:32], info, 32)
	if err != nil {
		t.Fatal(err)
	}
	aead := specGCM(t, streamKey)
	ctx := sha256.Sum256(append(append([]byte("coffer/sse/v1/stream-context"), header...), specID(id)...))
	var plain []byte
	body := ct[32:]
	for i := uint64(0); ; i++ {
		n := min(len(body), 65536+16)
		final := n < 65536+16 // SPEC 2.1: a short package is the final one
		var f byte
		if final {
			f = 1
		}
		nonce := append(append([]byte{0, 0, 0}, binary.BigEndian.AppendUint64(nil, i)...), f)
		aad := append(binary.BigEndian.AppendUint64([]byte{1, f, 0, 0}, i), ctx[:]...)
		p, err := aead.Open(nil, nonce, body[:n], aad)
		if err != nil {
			t.Fatalf("package %d does not open by the spec", i)
		}
		plain = append(plain, p...)
		body = body[n:]
		if final {
			if len(body) != 0 {
				t.Fatal("bytes after the final package")
			}
			return plain
		}
	}
}

func TestSpecStreams(t *testing.T) {
	m, _ := loadVectors(t)
	for _, v := range m.Streams {
		if v.File == "" {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			ct, err := os.ReadFile(filepath.Join("testdata", v.File))
			if err != nil {
				t.Fatal(err)
			}
			got := specDecrypt(t, ct, mustHex(t, m.Keys[v.ObjectKey]), v.Identity)
			if !bytes.Equal(got, pattern(v.PlaintextSize)) {
				t.Fatal("spec decryption gives other plaintext")
			}
		})
	}
}

func TestSpecSealedKeys(t *testing.T) {
	m, _ := loadVectors(t)
	for _, v := range m.Sealed {
		if v.Expect != "ok" {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			b, kek := mustHex(t, v.Sealed), mustHex(t, m.Keys[v.KEK])
			if len(b) != 120 || string(b[:4]) != "CfKy" || b[4] != 1 || b[5] != byte(v.Mode) || b[6] != 0 || b[7] != 0 {
				t.Fatal("sealed key layout does not follow the spec")
			}
			salt, check := b[8:40], b[40:72]
			if v.Mode == ModeSSEC {
				mac := hmac.New(sha256.New, kek)
				mac.Write([]byte("coffer/sse/v1/ssec-check"))
				mac.Write(salt)
				if !hmac.Equal(mac.Sum(nil), check) {
					t.Fatal("SSE-C check does not follow the spec")
				}
			} else if !bytes.Equal(check, make([]byte, 32)) {
				t.Fatal("check field of a non-SSE-C key is not zero")
			}
			sealKey, err := hkdf.Key(sha256.New, kek, salt, "coffer/sse/v1/seal"+string([]byte{byte(v.Mode)}), 32)
			if err != nil {
				t.Fatal(err)
			}
			got, err := specGCM(t, sealKey).Open(nil, make([]byte, 12), b[72:], append(append([]byte(nil), b[:72]...), specID(v.Identity)...))
			if err != nil {
				t.Fatal("sealed key does not open by the spec")
			}
			if !bytes.Equal(got, mustHex(t, m.Keys[v.ObjectKey])) {
				t.Fatal("spec unsealing gives another key")
			}
		})
	}
}
