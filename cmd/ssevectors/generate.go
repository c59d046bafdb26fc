package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/coffer/coffer/internal/secret"
	"github.com/coffer/coffer/internal/sse"
)

// seed fixes every key and salt of the vectors.
const seed = "coffer/sse test vectors, seed v1"

// keyNames are drawn from the generator in this order.
var keyNames = []string{"object", "other-object", "upload", "master", "kms-data-key", "customer", "other-customer"}

var (
	single = identity{Bucket: "vectors", Key: "objects/single"}
	upload = identity{Bucket: "vectors", Key: "objects/multipart", UploadID: "upload-1"}
)

// generator carries the deterministic random source and what has been made so far.
type generator struct {
	out  string
	rng  *rand.ChaCha8
	keys map[string]secret.Key
	m    manifest
	ct   map[string][]byte // stored ciphertexts by stream name
}

func generate(out string) error {
	g := &generator{
		out:  out,
		rng:  rand.NewChaCha8([32]byte([]byte(seed))),
		keys: map[string]secret.Key{},
		ct:   map[string][]byte{},
		m: manifest{
			Comment:   "Made by `go run ./cmd/ssevectors`; see internal/sse/SPEC.md. Test keys only.",
			Plaintext: "byte i of every plaintext is i mod 251",
			Keys:      map[string]string{},
		},
	}
	for _, name := range keyNames {
		k, err := secret.NewKey(g.rng)
		if err != nil {
			return err
		}
		g.keys[name] = k
		g.m.Keys[name] = hex.EncodeToString(k.RevealBytes()) // published test keys, by design
	}
	if err := os.MkdirAll(filepath.Join(out, "vectors"), 0o755); err != nil {
		return err
	}
	for _, n := range []int64{0, 1, 1000, 64<<10 - 1, 64 << 10, 64<<10 + 1} {
		if err := g.stream(fmt.Sprintf("single-%d", n), single, "object", n, true); err != nil {
			return err
		}
	}
	if err := g.stream("single-10MiB", single, "object", 10<<20, false); err != nil {
		return err
	}
	parts := []int64{2*sse.PackageSize + 10, 1000, 7}
	mp := multipartVector{Name: "multipart", Sealed: "sealed-multipart"}
	for i, n := range parts {
		id := upload
		id.PartNumber = i + 1
		name := fmt.Sprintf("part-%d", i+1)
		if err := g.stream(name, id, "upload", n, true); err != nil {
			return err
		}
		mp.Parts = append(mp.Parts, name)
	}
	g.m.Multipart = append(g.m.Multipart, mp)
	g.tampered()
	if err := g.sealed(); err != nil {
		return err
	}
	if err := g.corpora(); err != nil {
		return err
	}
	j, err := json.MarshalIndent(g.m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "vectors.json"), append(j, '\n'), 0o644)
}

// stream encrypts the pattern plaintext of n bytes and records it; store keeps the ciphertext
// in a file, otherwise only its SHA-256 is kept.
func (g *generator) stream(name string, id identity, keyName string, n int64, store bool) error {
	salt := make([]byte, sse.SaltSize)
	g.rng.Read(salt)
	enc, err := sse.NewEncryptReaderWithRand(&patternReader{n: n}, g.keys[keyName], toID(id), bytes.NewReader(salt))
	if err != nil {
		return err
	}
	h := sha256.New()
	var buf bytes.Buffer
	w := io.Writer(h)
	if store {
		w = io.MultiWriter(h, &buf)
	}
	size, err := io.Copy(w, enc)
	if err != nil {
		return err
	}
	v := streamVector{Name: name, Identity: id, ObjectKey: keyName, Salt: hex.EncodeToString(salt),
		PlaintextSize: n, CiphertextSize: size, CiphertextSHA256: hex.EncodeToString(h.Sum(nil))}
	if store {
		v.File = "vectors/" + name + ".bin"
		g.ct[name] = buf.Bytes()
		if err := os.WriteFile(filepath.Join(g.out, v.File), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	g.m.Streams = append(g.m.Streams, v)
	return nil
}

// patternReader yields n bytes, byte i being i mod 251.
type patternReader struct{ off, n int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	for i := range b {
		b[i] = byte((p.off + int64(i)) % 251)
	}
	p.off += int64(len(b))
	return len(b), nil
}

func toID(id identity) sse.Identity {
	return sse.Identity{Bucket: id.Bucket, Key: id.Key, UploadID: id.UploadID, PartNumber: id.PartNumber}
}
