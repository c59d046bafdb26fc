package sse

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/coffer/coffer/internal/secret"
)

// The manifest written by cmd/ssevectors, declared here independently: the JSON file is the
// contract between the generator and these tests.
type vectorManifest struct {
	Keys      map[string]string `json:"keys"`
	Streams   []streamVector    `json:"streams"`
	Multipart []struct {
		Name   string   `json:"name"`
		Parts  []string `json:"parts"`
		Sealed string   `json:"sealed_key"`
	} `json:"multipart"`
	Tampered []tamperVector `json:"tampered"`
	Sealed   []sealedVector `json:"sealed_keys"`
}

type vectorIdentity struct {
	Bucket     string `json:"bucket"`
	Key        string `json:"key"`
	UploadID   string `json:"upload_id"`
	PartNumber int    `json:"part_number"`
}

func (v vectorIdentity) id() Identity {
	return Identity(v)
}

type streamVector struct {
	Name             string         `json:"name"`
	Identity         vectorIdentity `json:"identity"`
	ObjectKey        string         `json:"object_key"`
	Salt             string         `json:"salt"`
	PlaintextSize    int64          `json:"plaintext_size"`
	CiphertextSize   int64          `json:"ciphertext_size"`
	CiphertextSHA256 string         `json:"ciphertext_sha256"`
	File             string         `json:"file"`
}

type tamperVector struct {
	Name      string          `json:"name"`
	Base      string          `json:"base"`
	Op        string          `json:"op"`
	Offset    int64           `json:"offset"`
	Bit       uint            `json:"bit"`
	Size      int64           `json:"size"`
	Data      string          `json:"data"`
	A         int64           `json:"a"`
	B         int64           `json:"b"`
	Length    int64           `json:"length"`
	Identity  *vectorIdentity `json:"identity"`
	ObjectKey string          `json:"object_key"`
}

type sealedVector struct {
	Name      string         `json:"name"`
	Mode      Mode           `json:"mode"`
	KEK       string         `json:"kek"`
	Identity  vectorIdentity `json:"identity"`
	Sealed    string         `json:"sealed"`
	Expect    string         `json:"expect"`
	ObjectKey string         `json:"object_key"`
}

// loadVectors reads testdata/vectors.json and its keys.
func loadVectors(t testing.TB) (vectorManifest, map[string]secret.Key) {
	t.Helper()
	raw, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var m vectorManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Streams) == 0 || len(m.Tampered) == 0 || len(m.Sealed) == 0 || len(m.Multipart) == 0 {
		t.Fatal("vectors.json is missing sections")
	}
	keys := map[string]secret.Key{}
	for name, h := range m.Keys {
		keys[name] = mustKey(t, h)
	}
	return m, keys
}

func mustKey(t testing.TB, h string) secret.Key {
	t.Helper()
	k, err := secret.FromBytes(mustHex(t, h))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustHex(t testing.TB, h string) []byte {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pattern returns the vectors' plaintext: byte i is i mod 251.
func pattern(n int64) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// encryptWithSalt encrypts plaintext deterministically.
func encryptWithSalt(t testing.TB, plaintext []byte, key secret.Key, id Identity, salt []byte) []byte {
	t.Helper()
	e, err := NewEncryptReaderWithRand(bytes.NewReader(plaintext), key, id, bytes.NewReader(salt))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := io.Copy(&out, e); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// decryptAll opens ct and reads its whole plaintext.
func decryptAll(ct []byte, key secret.Key, id Identity) ([]byte, error) {
	r, err := NewReader(bytes.NewReader(ct), int64(len(ct)), key, id)
	if err != nil {
		return nil, err
	}
	rr, err := r.Range(0, r.Size())
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	_, err = io.Copy(&out, rr)
	return out.Bytes(), err
}

func TestVectorStreams(t *testing.T) {
	m, keys := loadVectors(t)
	for _, v := range m.Streams {
		t.Run(v.Name, func(t *testing.T) {
			plain := pattern(v.PlaintextSize)
			ct := encryptWithSalt(t, plain, keys[v.ObjectKey], v.Identity.id(), mustHex(t, v.Salt))
			sum := sha256.Sum256(ct)
			if hex.EncodeToString(sum[:]) != v.CiphertextSHA256 || int64(len(ct)) != v.CiphertextSize {
				t.Fatalf("encryption differs from the vector (size %d, want %d)", len(ct), v.CiphertextSize)
			}
			if got, _ := CiphertextSize(v.PlaintextSize); got != v.CiphertextSize {
				t.Fatalf("CiphertextSize(%d) = %d, want %d", v.PlaintextSize, got, v.CiphertextSize)
			}
			if v.File != "" {
				stored, err := os.ReadFile(filepath.Join("testdata", v.File))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(stored, ct) {
					t.Fatal("stored ciphertext differs from the encryption")
				}
			}
			got, err := decryptAll(ct, keys[v.ObjectKey], v.Identity.id())
			if err != nil {
				t.Fatalf("decrypt: %v", err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatal("decrypted plaintext differs")
			}
		})
	}
}

// applyTamper returns the ciphertext, key and identity a tamper vector decrypts with.
func applyTamper(t *testing.T, v tamperVector, base []byte, key secret.Key, id Identity, keys map[string]secret.Key) ([]byte, secret.Key, Identity) {
	t.Helper()
	ct := append([]byte(nil), base...)
	switch v.Op {
	case "flip":
		ct[v.Offset] ^= 1 << v.Bit
	case "truncate":
		ct = ct[:v.Size]
	case "append":
		ct = append(ct, mustHex(t, v.Data)...)
	case "swap":
		a := append([]byte(nil), ct[v.A:v.A+v.Length]...)
		copy(ct[v.A:], ct[v.B:v.B+v.Length])
		copy(ct[v.B:], a)
	case "copy":
		copy(ct[v.B:v.B+v.Length], ct[v.A:v.A+v.Length])
	case "remove":
		ct = append(ct[:v.A:v.A], ct[v.A+v.Length:]...)
	case "identity":
		id = v.Identity.id()
	case "key":
		key = keys[v.ObjectKey]
	default:
		t.Fatalf("unknown op %q", v.Op)
	}
	return ct, key, id
}

func TestVectorTampered(t *testing.T) {
	m, keys := loadVectors(t)
	streams := map[string]streamVector{}
	for _, s := range m.Streams {
		streams[s.Name] = s
	}
	for _, v := range m.Tampered {
		t.Run(v.Name, func(t *testing.T) {
			s := streams[v.Base]
			base, err := os.ReadFile(filepath.Join("testdata", s.File))
			if err != nil {
				t.Fatal(err)
			}
			ct, key, id := applyTamper(t, v, base, keys[s.ObjectKey], s.Identity.id(), keys)
			got, err := decryptAll(ct, key, id)
			if err != ErrAuth {
				t.Fatalf("decrypt = %v, want exactly ErrAuth", err)
			}
			// Whatever was released before the failure is a prefix of the true plaintext.
			if !bytes.Equal(got, pattern(s.PlaintextSize)[:len(got)]) {
				t.Fatal("released bytes that are not the original plaintext")
			}
		})
	}
}

func TestVectorSealedKeys(t *testing.T) {
	m, keys := loadVectors(t)
	for _, v := range m.Sealed {
		t.Run(v.Name, func(t *testing.T) {
			got, err := UnsealKey(mustHex(t, v.Sealed), keys[v.KEK], v.Mode, v.Identity.id())
			switch v.Expect {
			case "ok":
				if err != nil {
					t.Fatalf("unseal: %v", err)
				}
				if !got.Equal(keys[v.ObjectKey]) {
					t.Fatal("unsealed key differs")
				}
			case "auth":
				if err != ErrAuth {
					t.Fatalf("unseal = %v, want ErrAuth", err)
				}
			case "wrong-key":
				if err != ErrWrongKey {
					t.Fatalf("unseal = %v, want ErrWrongKey", err)
				}
			default:
				t.Fatalf("unknown expectation %q", v.Expect)
			}
		})
	}
}

func TestVectorMultipart(t *testing.T) {
	m, keys := loadVectors(t)
	streams := map[string]streamVector{}
	for _, s := range m.Streams {
		streams[s.Name] = s
	}
	sealed := map[string]sealedVector{}
	for _, s := range m.Sealed {
		sealed[s.Name] = s
	}
	for _, mp := range m.Multipart {
		t.Run(mp.Name, func(t *testing.T) {
			sv := sealed[mp.Sealed]
			objectKey, err := UnsealKey(mustHex(t, sv.Sealed), keys[sv.KEK], sv.Mode, sv.Identity.id())
			if err != nil {
				t.Fatal(err)
			}
			var cipherSizes []int64
			var readers []*Reader
			var want []byte
			for _, name := range mp.Parts {
				s := streams[name]
				ct, err := os.ReadFile(filepath.Join("testdata", s.File))
				if err != nil {
					t.Fatal(err)
				}
				r, err := NewReader(bytes.NewReader(ct), int64(len(ct)), objectKey, s.Identity.id())
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				readers = append(readers, r)
				cipherSizes = append(cipherSizes, int64(len(ct)))
				want = append(want, pattern(s.PlaintextSize)...)
			}
			total, sizes, err := MultipartPlaintextSize(cipherSizes)
			if err != nil || total != int64(len(want)) {
				t.Fatalf("MultipartPlaintextSize = %d, %v; want %d", total, err, len(want))
			}
			// Every range that crosses part boundaries reads back the concatenated plaintext.
			for _, rg := range [][2]int64{{0, total}, {0, 1}, {total - 1, 1}, {sizes[0] - 5, 10}, {sizes[0] - 1, sizes[1] + 2}, {PackageSize - 3, total - PackageSize}, {total, 0}} {
				spans, err := SplitRange(sizes, rg[0], rg[1])
				if err != nil {
					t.Fatal(err)
				}
				var got []byte
				for _, sp := range spans {
					rr, err := readers[sp.Part].Range(sp.Offset, sp.Length)
					if err != nil {
						t.Fatal(err)
					}
					b, err := io.ReadAll(rr)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, b...)
				}
				if !bytes.Equal(got, want[rg[0]:rg[0]+rg[1]]) {
					t.Fatalf("range %v: wrong plaintext", rg)
				}
			}
		})
	}
}
