package sigv4

import (
	"io"
	"strings"
	"testing"
)

// TestChunkFraming covers framing errors of the aws-chunked decoder in the
// unsigned-trailer mode (mode 2 of the fuzz configuration) and signed mode 0.
func TestChunkFraming(t *testing.T) {
	sig := strings.Repeat("0", 64)
	tests := []struct {
		name     string
		mode     uint8
		body     string
		declared int64
		class    error
		want     string
	}{
		{"valid", 2, "3\r\nabc\r\n0\r\n\r\n", 3, nil, "abc"},
		{"valid-unknown-length", 2, "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", -1, nil, "abcde"},
		{"valid-uppercase-hex", 2, "A\r\n0123456789\r\n0\r\n\r\n", 10, nil, "0123456789"},
		{"line-too-long", 2, strings.Repeat("0", 300) + "3\r\nabc\r\n0\r\n\r\n", -1, ErrMalformedChunk, ""},
		{"size-overflow", 2, "ffffffffffffffff\r\n", -1, ErrMalformedChunk, ""},
		{"size-too-many-digits", 2, "00000000000000001\r\na\r\n0\r\n\r\n", -1, ErrMalformedChunk, ""},
		{"size-empty", 2, "\r\n", -1, ErrMalformedChunk, ""},
		{"size-not-hex", 2, "-1\r\n", -1, ErrMalformedChunk, ""},
		{"bare-lf", 2, "3\nabc\r\n0\r\n\r\n", -1, ErrMalformedChunk, ""},
		{"data-not-followed-by-crlf", 2, "3\r\nabcX\n0\r\n\r\n", -1, ErrMalformedChunk, "abc"},
		{"signature-in-unsigned-mode", 2, "3;chunk-signature=" + sig + "\r\nabc\r\n0\r\n\r\n", -1, ErrMalformedChunk, ""},
		{"signature-missing-in-signed-mode", 0, "3\r\nabc\r\n0\r\n\r\n", -1, ErrMalformedChunk, ""},
		{"other-extension-in-signed-mode", 0, "3;foo=bar\r\nabc\r\n", -1, ErrMalformedChunk, ""},
		{"signature-wrong", 0, "3;chunk-signature=" + sig + "\r\nabc\r\n0;chunk-signature=" + sig + "\r\n\r\n", -1, ErrSignatureDoesNotMatch, "abc"}, // released before the check
		{"trailer-line-too-long", 2, "0\r\nx-amz-checksum-crc32:" + strings.Repeat("A", 2000) + "\r\n\r\n", -1, ErrMalformedChunk, ""},
		{"trailer-without-colon", 2, "0\r\nx-amz-checksum-crc32\r\n\r\n", -1, ErrMalformedChunk, ""},
		{"trailer-signature-in-unsigned-mode", 2, "0\r\nx-amz-checksum-crc32:AAAAAA==\r\nx-amz-trailer-signature:" + sig + "\r\n\r\n", -1, ErrMalformedChunk, ""},
		{"declared-trailer-missing", 2, "0\r\n\r\n", -1, ErrMalformedChunk, ""},
		{"ends-after-final-chunk", 2, "0\r\n", -1, ErrIncompleteBody, ""},
		{"ends-in-data", 2, "5\r\nab", -1, ErrIncompleteBody, "ab"},
		{"more-than-declared", 2, "5\r\nabcde\r\n0\r\n\r\n", 3, ErrIncompleteBody, ""},
		{"less-than-declared", 2, "2\r\nab\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", 3, ErrIncompleteBody, "ab"},
		{"data-after-end", 2, "0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\nmore", -1, ErrMalformedChunk, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if tc.mode == 2 && tc.class == nil {
				// The fuzz configuration declares one trailer.
				body = strings.TrimSuffix(body, "\r\n") + "x-amz-checksum-crc32:AAAAAA==\r\n\r\n"
			}
			cr, _ := newFuzzChunkReader(tc.mode, []byte(body), tc.declared)
			got, err := io.ReadAll(cr)
			wantClass(t, err, tc.class)
			if string(got) != tc.want {
				t.Errorf("decoded %q, want %q", got, tc.want)
			}
		})
	}
}

// TestChunkTrailerInNonTrailerMode appends a trailer to a correctly signed
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD body, which allows none.
func TestChunkTrailerInNonTrailerMode(t *testing.T) {
	empty := chunkSeeds(t)[1] // mode 0, empty payload, valid signature
	body := strings.TrimSuffix(string(empty.body), "\r\n") + "x-amz-checksum-crc32:AAAAAA==\r\n\r\n"
	cr, _ := newFuzzChunkReader(0, []byte(body), 0)
	_, err := io.ReadAll(cr)
	wantClass(t, err, ErrMalformedChunk)
}
