package sse

import (
	"errors"
	"fmt"
)

const (
	// PackageSize is the plaintext carried by every package but the final one (SPEC.md 2.1).
	PackageSize = 64 << 10
	// HeaderSize is the length of a stream header.
	HeaderSize = 32
	// TagSize is the AES-GCM tag appended to every package.
	TagSize = 16
	// MaxPlaintextSize is the largest plaintext a stream can carry: 2^32 packages (SPEC.md 2.2).
	MaxPlaintextSize = 1<<48 - 1

	// cipherPackageSize is the ciphertext length of a full package.
	cipherPackageSize = PackageSize + TagSize
)

// ErrTooLarge is returned for a plaintext size that is negative or above MaxPlaintextSize.
var ErrTooLarge = errors.New("sse: plaintext size out of range")

// CiphertextSize returns the length of the stream that encrypts size bytes of plaintext. Use it
// for the stored size of a blob; Content-Length of a GET is the plaintext size.
func CiphertextSize(size int64) (int64, error) {
	if size < 0 || size > MaxPlaintextSize {
		return 0, ErrTooLarge
	}
	return HeaderSize + size + TagSize*packageCount(size), nil
}

// PlaintextSize returns the plaintext length of a stream of ciphertextSize bytes. A length that
// no stream can have (a truncated or extended stream) gives ErrAuth.
func PlaintextSize(ciphertextSize int64) (int64, error) {
	if ciphertextSize < HeaderSize+TagSize {
		return 0, ErrAuth
	}
	body := ciphertextSize - HeaderSize
	q, r := body/cipherPackageSize, body%cipherPackageSize
	if r < TagSize {
		return 0, ErrAuth
	}
	n := q*PackageSize + r - TagSize
	if n > MaxPlaintextSize {
		return 0, ErrAuth
	}
	return n, nil
}

// packageCount is the number of packages of a stream of size plaintext bytes (at least one).
func packageCount(size int64) int64 { return size/PackageSize + 1 }

// Span is the part of a plaintext range that falls into one part of a multipart object.
type Span struct {
	// Part indexes the sizes slice given to SplitRange (not the S3 part number).
	Part int
	// Offset is where the span starts in that part's plaintext.
	Offset int64
	// Length is the number of bytes of the span, at least 1.
	Length int64
}

// SplitRange maps the plaintext range [off, off+length) of an object made of parts with the
// given plaintext sizes (in order) to one Span per overlapping part. A range that ends past the
// object is an error; the caller clamps Range headers first. An empty range gives no spans.
func SplitRange(partSizes []int64, off, length int64) ([]Span, error) {
	total, err := SumSizes(partSizes)
	if err != nil {
		return nil, err
	}
	if off < 0 || length < 0 || off > total || length > total-off {
		return nil, fmt.Errorf("sse: range [%d, +%d) outside object of %d bytes", off, length, total)
	}
	var spans []Span
	var start int64 // plaintext offset of part i within the object
	for i, n := range partSizes {
		end := start + n
		if length > 0 && off < end && n > 0 {
			lo := off - start
			take := min(n-lo, length)
			spans = append(spans, Span{Part: i, Offset: lo, Length: take})
			off += take
			length -= take
		}
		start = end
	}
	return spans, nil
}

// SumSizes returns the sum of plaintext part sizes, the plaintext size of a multipart object,
// rejecting negative sizes and overflow.
func SumSizes(partSizes []int64) (int64, error) {
	var total int64
	for _, n := range partSizes {
		if n < 0 || n > MaxPlaintextSize || total > 1<<62-n {
			return 0, ErrTooLarge
		}
		total += n
	}
	return total, nil
}

// MultipartPlaintextSize returns the plaintext size of an object whose parts' streams have the
// given ciphertext sizes, and each part's plaintext size (for SplitRange). A part with an
// impossible size gives ErrAuth.
func MultipartPlaintextSize(partCiphertextSizes []int64) (int64, []int64, error) {
	sizes := make([]int64, len(partCiphertextSizes))
	for i, c := range partCiphertextSizes {
		n, err := PlaintextSize(c)
		if err != nil {
			return 0, nil, err
		}
		sizes[i] = n
	}
	total, err := SumSizes(sizes)
	if err != nil {
		return 0, nil, err
	}
	return total, sizes, nil
}
