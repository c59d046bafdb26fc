package sse

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"io"
	"testing"
)

// benchSizes are the stream sizes the benchmarks compare.
var benchSizes = []int64{1 << 20, 64 << 20}

// BenchmarkRawSeal is the baseline: one AES-256-GCM Seal over the whole plaintext.
func BenchmarkRawSeal(b *testing.B) {
	block, _ := aes.NewCipher(testKey(b, 1).RevealBytes())
	aead, _ := cipher.NewGCM(block)
	nonce := make([]byte, nonceSize)
	for _, n := range benchSizes {
		plain := pattern(n)
		dst := make([]byte, 0, n+TagSize)
		b.Run(sizeName(n), func(b *testing.B) {
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				aead.Seal(dst[:0], nonce, plain, nil)
			}
		})
	}
}

// BenchmarkRawOpen is the decryption baseline: one AES-256-GCM Open over the whole ciphertext.
func BenchmarkRawOpen(b *testing.B) {
	block, _ := aes.NewCipher(testKey(b, 1).RevealBytes())
	aead, _ := cipher.NewGCM(block)
	nonce := make([]byte, nonceSize)
	for _, n := range benchSizes {
		ct := aead.Seal(nil, nonce, pattern(n), nil)
		dst := make([]byte, 0, n)
		b.Run(sizeName(n), func(b *testing.B) {
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := aead.Open(dst[:0], nonce, ct, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncrypt runs the whole EncryptReader, constructor included, into io.Discard.
func BenchmarkEncrypt(b *testing.B) {
	benchEncrypt(b, func(e *EncryptReader) error {
		_, err := e.WriteTo(io.Discard)
		return err
	})
}

// BenchmarkEncryptRead runs the EncryptReader through Read into a 256 KiB buffer, as a blob store
// writing a file reads it.
func BenchmarkEncryptRead(b *testing.B) {
	buf := make([]byte, 256<<10)
	benchEncrypt(b, func(e *EncryptReader) error {
		for {
			if _, err := e.Read(buf); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
		}
	})
}

// benchEncrypt measures making an EncryptReader and draining it with drain, for each size.
func benchEncrypt(b *testing.B, drain func(*EncryptReader) error) {
	key := testKey(b, 1)
	for _, n := range benchSizes {
		plain := pattern(n)
		b.Run(sizeName(n), func(b *testing.B) {
			b.SetBytes(n)
			b.ReportAllocs()
			src := bytes.NewReader(plain)
			for b.Loop() {
				src.Reset(plain)
				e, err := NewEncryptReader(src, key, testID)
				if err != nil {
					b.Fatal(err)
				}
				if err := drain(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecrypt opens the stream (header and final package) and writes all plaintext to
// io.Discard.
func BenchmarkDecrypt(b *testing.B) {
	key := testKey(b, 1)
	for _, n := range benchSizes {
		ct := encrypt(b, pattern(n), key, testID)
		b.Run(sizeName(n), func(b *testing.B) {
			b.SetBytes(n)
			b.ReportAllocs()
			src := bytes.NewReader(ct)
			for b.Loop() {
				r, err := NewReader(src, int64(len(ct)), key, testID)
				if err != nil {
					b.Fatal(err)
				}
				rr, _ := r.Range(0, r.Size())
				if _, err := rr.WriteTo(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func sizeName(n int64) string { return fmt.Sprintf("%dMiB", n>>20) }

// TestNoAllocationsPerPackage checks that allocations per stream do not grow with its length:
// whatever is allocated is set-up, none of it per package.
func TestNoAllocationsPerPackage(t *testing.T) {
	key := testKey(t, 1)
	small, large := pattern(16*PackageSize), pattern(64*PackageSize)
	encAllocs := func(plain []byte) float64 {
		src := bytes.NewReader(plain)
		return testing.AllocsPerRun(3, func() {
			src.Reset(plain)
			e, _ := NewEncryptReader(src, key, testID)
			if _, err := e.WriteTo(io.Discard); err != nil {
				t.Fatal(err)
			}
		})
	}
	decAllocs := func(plain []byte) float64 {
		ct := encrypt(t, plain, key, testID)
		return testing.AllocsPerRun(3, func() {
			r, err := NewReader(bytes.NewReader(ct), int64(len(ct)), key, testID)
			if err != nil {
				t.Fatal(err)
			}
			rr, _ := r.Range(0, r.Size())
			if _, err := rr.WriteTo(io.Discard); err != nil {
				t.Fatal(err)
			}
		})
	}
	writerAllocs := func(plain []byte) float64 {
		return testing.AllocsPerRun(3, func() {
			w, _ := NewEncryptWriter(io.Discard, key, testID)
			if _, err := w.Write(plain); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if s, l := writerAllocs(small), writerAllocs(large); s != l {
		t.Errorf("encrypt writer: %v allocations for 16 packages, %v for 64", s, l)
	}
	if s, l := encAllocs(small), encAllocs(large); s != l {
		t.Errorf("encrypt: %v allocations for 16 packages, %v for 64", s, l)
	}
	if s, l := decAllocs(small), decAllocs(large); s != l {
		t.Errorf("decrypt: %v allocations for 16 packages, %v for 64", s, l)
	}
}
