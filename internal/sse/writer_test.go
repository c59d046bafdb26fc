package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestEncryptWriter(t *testing.T) {
	key := testKey(t, 6)
	id := Identity{Bucket: "b", Key: "k", UploadID: "u", PartNumber: 2}
	for _, n := range []int64{0, 1, PackageSize - 1, PackageSize, PackageSize + 1, 2*PackageSize + 5} {
		for _, chunk := range []int{1 << 20, 1000, PackageSize} {
			t.Run(fmt.Sprintf("%d/chunks-of-%d", n, chunk), func(t *testing.T) {
				plain := pattern(n)
				var ct bytes.Buffer
				w, err := NewEncryptWriter(&ct, key, id)
				if err != nil {
					t.Fatal(err)
				}
				for p := plain; len(p) > 0; {
					c := min(chunk, len(p))
					if m, err := w.Write(p[:c]); m != c || err != nil {
						t.Fatalf("Write = %d, %v", m, err)
					}
					p = p[c:]
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if want, _ := CiphertextSize(n); int64(ct.Len()) != want {
					t.Fatalf("wrote %d bytes, want %d", ct.Len(), want)
				}
				got, err := decryptAll(ct.Bytes(), key, id)
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("decrypt: %v", err)
				}
			})
		}
	}
	t.Run("write after close", func(t *testing.T) {
		w, _ := NewEncryptWriter(io.Discard, key, id)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("second Close = %v", err)
		}
		if _, err := w.Write([]byte{1}); err == nil {
			t.Fatal("Write after Close accepted")
		}
	})
	t.Run("destination error is sticky", func(t *testing.T) {
		w, _ := NewEncryptWriter(failingWriter{}, key, id)
		if _, err := w.Write(make([]byte, PackageSize)); !errors.Is(err, errSource) {
			t.Fatalf("Write = %v", err)
		}
		if err := w.Close(); !errors.Is(err, errSource) {
			t.Fatalf("Close = %v", err)
		}
	})
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errSource }
