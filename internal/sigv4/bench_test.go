package sigv4

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkVerifyHeaderKMS measures header auth of a KMS-style JSON request
// (body buffered and hashed, as for every KMS call).
func BenchmarkVerifyHeaderKMS(b *testing.B) {
	body := []byte(`{"KeyId":"alias/coffer","Plaintext":"aGVsbG8gd29ybGQ=","EncryptionContext":{"bucket":"b"}}`)
	r := sdkSigned(&testing.T{}, http.MethodPost, "/", "kms", "", string(body), map[string]string{
		"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.Encrypt"})
	v := sdkVerifier(signTime)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r.Body = io.NopCloser(bytes.NewReader(body))
		a, err := v.Verify(r)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, a.Body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyHeaderS3 measures header auth of an S3 GET.
func BenchmarkVerifyHeaderS3(b *testing.B) {
	r := sdkSigned(&testing.T{}, http.MethodGet, "/bucket/some/object%20key.txt?versionId=3", "s3", emptySHA256, "",
		map[string]string{"Range": "bytes=0-99", "X-Amz-Checksum-Mode": "ENABLED"})
	v := sdkVerifier(signTime)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChunkDecode measures decoding and verifying a signed aws-chunked
// body with 64 KiB chunks (SetBytes: throughput is per payload byte).
func BenchmarkChunkDecode(b *testing.B) {
	payload := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	sizes := make([]int, 16)
	for i := range sizes {
		sizes[i] = 64 << 10
	}
	t := &testing.T{}
	seedHex := strings.Repeat("11", 32)
	enc := chunkedBody{signed: true}.encode(t, []byte(payload), sizes, seedHex, signTime)
	var seed [32]byte
	copy(seed[:], bytes.Repeat([]byte{0x11}, 32))
	key := deriveKey([]byte(sdkSecretKey), signTime.Format(scopeDateLayout), sdkRegion, "s3")
	cfg := chunkConfig{signed: true, amzDate: signTime.Format(amzDateLayout),
		scope: signTime.Format(scopeDateLayout) + "/" + sdkRegion + "/s3/aws4_request", seed: seed, declared: int64(len(payload))}
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		cr := newChunkReader(io.NopCloser(bytes.NewReader(enc)), newSigner(key), cfg, http.Header{})
		n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{cr}, buf)
		if err != nil || n != int64(len(payload)) {
			b.Fatalf("decoded %d, %v", n, err)
		}
	}
}
