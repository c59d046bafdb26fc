package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/coffer/coffer/internal/secret"
)

var testID = Identity{Bucket: "b", Key: "k"}

func testKey(t testing.TB, b byte) secret.Key {
	t.Helper()
	k, err := secret.FromBytes(bytes.Repeat([]byte{b}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// encrypt encrypts plaintext with a random salt.
func encrypt(t testing.TB, plaintext []byte, key secret.Key, id Identity) []byte {
	t.Helper()
	e, err := NewEncryptReader(bytes.NewReader(plaintext), key, id)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := io.ReadAll(e) // exercises Read, not WriteTo
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

func TestRoundTripAndRanges(t *testing.T) {
	const P = PackageSize
	key := testKey(t, 1)
	for _, n := range []int64{0, 1, 100, P - 1, P, P + 1, 2 * P, 3*P + 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			plain := pattern(n)
			ct := encrypt(t, plain, key, testID)
			if want, _ := CiphertextSize(n); int64(len(ct)) != want {
				t.Fatalf("ciphertext is %d bytes, CiphertextSize says %d", len(ct), want)
			}
			r, err := NewReader(bytes.NewReader(ct), int64(len(ct)), key, testID)
			if err != nil {
				t.Fatal(err)
			}
			if r.Size() != n {
				t.Fatalf("Size = %d, want %d", r.Size(), n)
			}
			var points []int64
			for _, p := range []int64{0, 1, P - 1, P, P + 1, 2*P - 1, 2 * P, 2*P + 1, 3 * P, n - 1, n} {
				if p >= 0 && p <= n {
					points = append(points, p)
				}
			}
			for _, a := range points {
				for _, b := range points {
					if b < a {
						continue
					}
					rr, err := r.Range(a, b-a)
					if err != nil {
						t.Fatal(err)
					}
					var got bytes.Buffer
					if _, err := rr.WriteTo(&got); err != nil {
						t.Fatalf("[%d,%d) WriteTo: %v", a, b, err)
					}
					if !bytes.Equal(got.Bytes(), plain[a:b]) {
						t.Fatalf("[%d,%d) WriteTo: wrong plaintext", a, b)
					}
					rr, _ = r.Range(a, b-a)
					viaRead, err := io.ReadAll(io.LimitReader(rr, b-a+1)) // Read path
					if err != nil || !bytes.Equal(viaRead, plain[a:b]) {
						t.Fatalf("[%d,%d) Read: %v or wrong plaintext", a, b, err)
					}
				}
			}
			// ReadAt follows io.ReaderAt: io.EOF when the buffer reaches past the end.
			buf := make([]byte, 10)
			if m, err := r.ReadAt(buf, n-5); n >= 5 && (m != 5 || err != io.EOF || !bytes.Equal(buf[:5], plain[n-5:])) {
				t.Fatalf("ReadAt near end = %d, %v", m, err)
			}
			if m, err := r.ReadAt(buf, n); m != 0 || err != io.EOF {
				t.Fatalf("ReadAt at end = %d, %v", m, err)
			}
			if _, err := r.Range(0, n+1); err == nil {
				t.Fatal("Range past the end accepted")
			}
			if _, err := r.ReadAt(buf, -1); err == nil {
				t.Fatal("negative offset accepted")
			}
		})
	}
}

// countingReaderAt records the offsets and lengths read.
type countingReaderAt struct {
	r    io.ReaderAt
	mu   sync.Mutex
	offs []int64
	lens []int
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.mu.Lock()
	c.offs = append(c.offs, off)
	c.lens = append(c.lens, len(p))
	c.mu.Unlock()
	return c.r.ReadAt(p, off)
}

func TestReadsOnlyOverlappingPackages(t *testing.T) {
	const P, C = PackageSize, PackageSize + TagSize
	key := testKey(t, 2)
	ct := encrypt(t, pattern(5*P+3), key, testID)
	tests := []struct {
		name   string
		off, n int64
		reads  [][2]int64 // first package and package count of each ReadAt
	}{
		{"inside package 1", P + 5, 10, [][2]int64{{1, 1}}},
		{"spanning 1 and 2", 2*P - 1, 2, [][2]int64{{1, 2}}},
		{"exactly package 3", 3 * P, P, [][2]int64{{3, 1}}},
		{"packages 0 to 2", 0, 3 * P, [][2]int64{{0, 3}}},
		{"packages 3 to final", 3 * P, 2*P + 3, [][2]int64{{3, 2}}},
		{"final package is cached from open", 5 * P, 3, nil},
		{"empty range", 2 * P, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &countingReaderAt{r: bytes.NewReader(ct)}
			r, err := NewReader(c, int64(len(ct)), key, testID)
			if err != nil {
				t.Fatal(err)
			}
			if want := []int64{0, HeaderSize + 5*C}; fmt.Sprint(c.offs) != fmt.Sprint(want) {
				t.Fatalf("open read %v, want header and final package %v", c.offs, want)
			}
			c.offs, c.lens = nil, nil
			rr, _ := r.Range(tt.off, tt.n)
			if _, err := io.Copy(io.Discard, rr); err != nil {
				t.Fatal(err)
			}
			var wantOffs []int64
			var wantLens []int
			for _, rd := range tt.reads {
				wantOffs = append(wantOffs, HeaderSize+rd[0]*C)
				wantLens = append(wantLens, int(rd[1]*C))
			}
			if fmt.Sprint(c.offs, c.lens) != fmt.Sprint(wantOffs, wantLens) {
				t.Fatalf("read offsets and lengths %v %v, want %v %v", c.offs, c.lens, wantOffs, wantLens)
			}
		})
	}
}

func TestFreshSaltPerStream(t *testing.T) {
	key := testKey(t, 3)
	id := Identity{Bucket: "b", Key: "k", UploadID: "u", PartNumber: 7}
	plain := pattern(1000)
	a, b := encrypt(t, plain, key, id), encrypt(t, plain, key, id)
	if bytes.Equal(a[8:HeaderSize], b[8:HeaderSize]) || bytes.Equal(a[HeaderSize:], b[HeaderSize:]) {
		t.Fatal("re-uploading a part reused the salt or the ciphertext")
	}
	for _, ct := range [][]byte{a, b} {
		if got, err := decryptAll(ct, key, id); err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("decrypt: %v", err)
		}
	}
}

type failingReader struct{ n int }

var errSource = errors.New("source broke")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errSource
	}
	m := min(len(p), f.n)
	f.n -= m
	return m, nil
}

type failingReaderAt struct{}

func (failingReaderAt) ReadAt([]byte, int64) (int, error) { return 0, errSource }

func TestErrors(t *testing.T) {
	key := testKey(t, 4)
	t.Run("source error is not EOF", func(t *testing.T) {
		e, err := NewEncryptReader(&failingReader{n: PackageSize + 10}, key, testID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, e); !errors.Is(err, errSource) {
			t.Fatalf("copy = %v, want the source error", err)
		}
		if _, err := e.Read(make([]byte, 10)); !errors.Is(err, errSource) {
			t.Fatalf("error is not sticky: %v", err)
		}
	})
	t.Run("source error through reads of whole packages", func(t *testing.T) {
		e, err := NewEncryptReader(&failingReader{n: 2*PackageSize + 10}, key, testID)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 256<<10)
		var total int
		for {
			n, err := e.Read(buf)
			total += n
			if err != nil {
				if !errors.Is(err, errSource) {
					t.Fatalf("Read = %v after %d bytes, want the source error", err, total)
				}
				break
			}
		}
		if want := HeaderSize + 2*cipherPackageSize; total != want {
			t.Fatalf("read %d bytes before the error, want the header and the two full packages (%d)", total, want)
		}
	})
	t.Run("storage error is not ErrAuth", func(t *testing.T) {
		if _, err := NewReader(failingReaderAt{}, 100, key, testID); !errors.Is(err, errSource) || errors.Is(err, ErrAuth) {
			t.Fatalf("NewReader = %v, want the storage error", err)
		}
	})
	t.Run("stored blob shorter than declared", func(t *testing.T) {
		ct := encrypt(t, pattern(10), key, testID)
		if _, err := NewReader(bytes.NewReader(ct[:len(ct)-1]), int64(len(ct)), key, testID); err != ErrAuth {
			t.Fatalf("NewReader = %v, want ErrAuth", err)
		}
	})
	t.Run("failure is sticky", func(t *testing.T) {
		ct := encrypt(t, pattern(3*PackageSize), key, testID)
		ct[HeaderSize+5] ^= 1
		r, err := NewReader(bytes.NewReader(ct), int64(len(ct)), key, testID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.ReadAt(make([]byte, 1), 0); err != ErrAuth {
			t.Fatalf("ReadAt tampered = %v", err)
		}
		if _, err := r.ReadAt(make([]byte, 1), PackageSize); err != ErrAuth {
			t.Fatalf("ReadAt after failure = %v, want ErrAuth", err)
		}
	})
	t.Run("size limit", func(t *testing.T) {
		e, err := NewEncryptReader(bytes.NewReader(pattern(PackageSize+1)), key, testID)
		if err != nil {
			t.Fatal(err)
		}
		e.index = maxPackets - 1 // pretend 2^32-1 packages were written
		if _, err := io.Copy(io.Discard, e); err != ErrTooLarge {
			t.Fatalf("copy = %v, want ErrTooLarge", err)
		}
	})
	bad := []struct {
		name string
		key  secret.Key
		id   Identity
		want error
	}{
		{"zero key", secret.Key{}, testID, ErrNoKey},
		{"no bucket", key, Identity{Key: "k"}, ErrInvalidIdentity},
		{"no key name", key, Identity{Bucket: "b"}, ErrInvalidIdentity},
		{"part without upload", key, Identity{Bucket: "b", Key: "k", PartNumber: 1}, ErrInvalidIdentity},
		{"part too large", key, Identity{Bucket: "b", Key: "k", UploadID: "u", PartNumber: MaxPartNumber + 1}, ErrInvalidIdentity},
		{"negative part", key, Identity{Bucket: "b", Key: "k", UploadID: "u", PartNumber: -1}, ErrInvalidIdentity},
		{"name too long", key, Identity{Bucket: "b", Key: string(make([]byte, 1<<16))}, ErrInvalidIdentity},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewEncryptReader(bytes.NewReader(nil), tt.key, tt.id); !errors.Is(err, tt.want) {
				t.Fatalf("NewEncryptReader = %v, want %v", err, tt.want)
			}
			ct := encrypt(t, nil, key, testID)
			if _, err := NewReader(bytes.NewReader(ct), int64(len(ct)), tt.key, tt.id); !errors.Is(err, tt.want) {
				t.Fatalf("NewReader = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestIdentityEncodingIsInjective(t *testing.T) {
	ids := []Identity{
		{Bucket: "ab", Key: "c"}, {Bucket: "a", Key: "bc"}, {Bucket: "a", Key: "b", UploadID: "c"},
		{Bucket: "a", Key: "b", UploadID: "c", PartNumber: 1}, {Bucket: "a", Key: "b", UploadID: "c", PartNumber: 256},
	}
	seen := map[string]Identity{}
	for _, id := range ids {
		enc := string(id.appendEncoding(nil))
		if prev, ok := seen[enc]; ok {
			t.Fatalf("%+v and %+v encode alike", prev, id)
		}
		seen[enc] = id
	}
}

func TestConcurrentReadAt(t *testing.T) {
	key := testKey(t, 5)
	plain := pattern(4*PackageSize + 11)
	ct := encrypt(t, plain, key, testID)
	r, err := NewReader(bytes.NewReader(ct), int64(len(ct)), key, testID)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			buf := make([]byte, 3000)
			for i := range 50 {
				off := int64((g*7919 + i*104729) % (len(plain) - len(buf)))
				if _, err := r.ReadAt(buf, off); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(buf, plain[off:off+int64(len(buf))]) {
					errs <- fmt.Errorf("wrong bytes at %d", off)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestReadBufferSizes checks that Read gives the same ciphertext whatever the size of the
// caller's buffer: buffers with room for whole packages have them sealed in place, smaller
// ones are served from the package buffer, and reads mix both.
func TestReadBufferSizes(t *testing.T) {
	const cps = cipherPackageSize
	key := testKey(t, 1)
	salt := bytes.Repeat([]byte{7}, SaltSize)
	for _, n := range []int64{0, 1, PackageSize - 1, PackageSize, 3*PackageSize + 5} {
		plain := pattern(n)
		e, err := NewEncryptReaderWithRand(bytes.NewReader(plain), key, testID, bytes.NewReader(salt))
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if _, err := e.WriteTo(&want); err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{1, 1000, cps - 1, cps, cps + 1, HeaderSize + cps, 256 << 10} {
			t.Run(fmt.Sprintf("%d bytes read %d at a time", n, size), func(t *testing.T) {
				e, err := NewEncryptReaderWithRand(bytes.NewReader(plain), key, testID, bytes.NewReader(salt))
				if err != nil {
					t.Fatal(err)
				}
				var got []byte
				buf := make([]byte, size)
				for {
					m, err := e.Read(buf)
					got = append(got, buf[:m]...)
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if m == 0 {
						t.Fatal("Read returned 0 bytes and no error")
					}
				}
				if !bytes.Equal(got, want.Bytes()) {
					t.Fatalf("ciphertext differs from WriteTo's (%d vs %d bytes)", len(got), want.Len())
				}
			})
		}
	}
}

// TestEncryptBytes checks that the one-shot encryption of small data is the stream an
// EncryptReader makes with the same salt, and that it decrypts.
func TestEncryptBytes(t *testing.T) {
	key := testKey(t, 2)
	salt := bytes.Repeat([]byte{9}, SaltSize)
	for _, n := range []int64{0, 1, 16 << 10, PackageSize - 1, PackageSize, 2*PackageSize + 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			plain := pattern(n)
			e, err := NewEncryptReaderWithRand(bytes.NewReader(plain), key, testID, bytes.NewReader(salt))
			if err != nil {
				t.Fatal(err)
			}
			want, err := io.ReadAll(e)
			if err != nil {
				t.Fatal(err)
			}
			got, err := encryptBytes(plain, key, testID, bytes.NewReader(salt))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("EncryptBytes differs from EncryptReader (%d vs %d bytes)", len(got), len(want))
			}
			if cap(got) != len(got) {
				t.Errorf("capacity %d for %d bytes: the buffer was not sized up front", cap(got), len(got))
			}
			ct, err := EncryptBytes(plain, key, testID)
			if err != nil {
				t.Fatal(err)
			}
			r, err := NewReader(bytes.NewReader(ct), int64(len(ct)), key, testID)
			if err != nil {
				t.Fatal(err)
			}
			back := make([]byte, n)
			if _, err := r.ReadAt(back, 0); err != nil && err != io.EOF || !bytes.Equal(back, plain) {
				t.Fatalf("round trip: %v or wrong plaintext", err)
			}
		})
	}
	if _, err := EncryptBytes(nil, secret.Key{}, testID); !errors.Is(err, ErrNoKey) {
		t.Fatalf("zero key: %v, want ErrNoKey", err)
	}
}
