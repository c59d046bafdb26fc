package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var signTime = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// sdkSigned builds an in-process request signed by the SDK. payload "" means
// "no x-amz-content-sha256 header" (the signer is given the body's hash).
func sdkSigned(t *testing.T, method, target, service, payload, body string, hdr map[string]string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, "http://example.com"+target, strings.NewReader(body))
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	hash := payload
	if payload == "" {
		sum := sha256.Sum256([]byte(body))
		hash = hex.EncodeToString(sum[:])
	} else {
		r.Header.Set("X-Amz-Content-Sha256", payload)
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" })
	if err := signer.SignHTTP(context.Background(), sdkCreds, r, hash, service, sdkRegion, signTime); err != nil {
		t.Fatal(err)
	}
	return r
}

// presigned builds a presigned GET with the SDK and returns it as a server
// would receive it.
func presigned(t *testing.T, target string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "http://example.com"+target+"?X-Amz-Expires=900", nil)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	u, _, err := signer.PresignHTTP(context.Background(), sdkCreds, r, UnsignedPayload, "s3", sdkRegion, signTime)
	if err != nil {
		t.Fatal(err)
	}
	return httptest.NewRequest(http.MethodGet, u, nil)
}

func setQuery(r *http.Request, key, value string) *http.Request {
	q := r.URL.Query()
	if value == "\x00" {
		q.Del(key)
	} else {
		q.Set(key, value)
	}
	r.URL.RawQuery = q.Encode()
	r.RequestURI = r.URL.RequestURI()
	return r
}

func editAuth(r *http.Request, old, new string) *http.Request {
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
	return r
}

var hex64 = regexp.MustCompile(`[0-9a-f]{64}`)

// TestErrorClasses provokes every error class, each by at least one request.
func TestErrorClasses(t *testing.T) {
	put := func(payload, body string, hdr map[string]string) *http.Request {
		return sdkSigned(t, http.MethodPut, "/bucket/key", "s3", payload, body, hdr)
	}
	okSum := sha256.Sum256([]byte("hello"))
	okHash := hex.EncodeToString(okSum[:])
	tests := []struct {
		name    string
		req     func() *http.Request
		now     time.Duration // offset from signTime
		class   error
		atRead  bool // the error comes from reading Auth.Body
		service string
	}{
		{name: "anonymous", req: func() *http.Request { return httptest.NewRequest("GET", "/bucket/key", nil) }, class: ErrMissingAuth},
		{name: "anonymous-bad-query", req: func() *http.Request { return httptest.NewRequest("GET", "/bucket/key?a=%zz", nil) }, class: ErrMissingAuth},
		{name: "query-bad-escape", req: func() *http.Request { return httptest.NewRequest("GET", "/bucket/key?X-Amz-Algorithm=%zz", nil) }, class: ErrQueryMalformed},
		{name: "header-bad-query-escape", req: func() *http.Request {
			r := put(okHash, "hello", nil)
			r.URL.RawQuery = "a=%zz"
			return r
		}, class: ErrAuthHeaderMalformed},
		{name: "header-garbage", req: func() *http.Request { return editAuth(put(okHash, "hello", nil), "Credential=", "Cred=") }, class: ErrAuthHeaderMalformed},
		{name: "header-no-signature", req: func() *http.Request {
			r := put(okHash, "hello", nil)
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, ", Signature=")])
			return r
		}, class: ErrAuthHeaderMalformed},
		{name: "header-short-signature", req: func() *http.Request {
			r := put(okHash, "hello", nil)
			r.Header.Set("Authorization", r.Header.Get("Authorization")[:len(r.Header.Get("Authorization"))-2])
			return r
		}, class: ErrAuthHeaderMalformed},
		{name: "header-wrong-region", req: func() *http.Request { return editAuth(put(okHash, "hello", nil), sdkRegion, "us-west-2") }, class: ErrAuthHeaderMalformed},
		{name: "header-wrong-service", req: func() *http.Request { return editAuth(put(okHash, "hello", nil), "/s3/", "/kms/") }, class: ErrAuthHeaderMalformed, service: "s3"},
		{name: "header-scope-date", req: func() *http.Request { return editAuth(put(okHash, "hello", nil), "/20260304/", "/20260305/") }, class: ErrAuthHeaderMalformed},
		{name: "header-host-unsigned", req: func() *http.Request { return editAuth(put(okHash, "hello", nil), ";host;", ";") }, class: ErrAuthHeaderMalformed},
		{name: "header-and-query", req: func() *http.Request { return setQuery(put(okHash, "hello", nil), "X-Amz-Algorithm", algorithm) }, class: ErrAuthHeaderMalformed},
		{name: "query-expires-too-long", req: func() *http.Request { return setQuery(presigned(t, "/b/k"), "X-Amz-Expires", "604801") }, class: ErrQueryMalformed},
		{name: "query-expires-zero", req: func() *http.Request { return setQuery(presigned(t, "/b/k"), "X-Amz-Expires", "0") }, class: ErrQueryMalformed},
		{name: "query-missing-signature", req: func() *http.Request { return setQuery(presigned(t, "/b/k"), "X-Amz-Signature", "\x00") }, class: ErrQueryMalformed},
		{name: "query-missing-expires", req: func() *http.Request { return setQuery(presigned(t, "/b/k"), "X-Amz-Expires", "\x00") }, class: ErrQueryMalformed},
		{name: "query-tampered-expires", req: func() *http.Request { return setQuery(presigned(t, "/b/k"), "X-Amz-Expires", "901") }, class: ErrSignatureDoesNotMatch},
		{name: "query-missing-credential", req: func() *http.Request { return setQuery(presigned(t, "/b/k"), "X-Amz-Credential", "\x00") }, class: ErrQueryMalformed},
		{name: "query-bad-date", req: func() *http.Request { return setQuery(presigned(t, "/b/k"), "X-Amz-Date", "2026-03-04T05:06:07Z") }, class: ErrQueryMalformed},
		{name: "query-wrong-region", req: func() *http.Request {
			return setQuery(presigned(t, "/b/k"), "X-Amz-Credential", sdkAccessKey+"/20260304/us-east-1/s3/aws4_request")
		}, class: ErrQueryMalformed},
		{name: "sigv2-header", req: func() *http.Request {
			r := httptest.NewRequest("GET", "/b/k", nil)
			r.Header.Set("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=")
			return r
		}, class: ErrUnsupportedSignature},
		{name: "sigv4a-header", req: func() *http.Request {
			return editAuth(put(okHash, "hello", nil), "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256")
		}, class: ErrUnsupportedSignature},
		{name: "sigv2-query", req: func() *http.Request {
			return httptest.NewRequest("GET", "/b/k?AWSAccessKeyId=AK&Expires=1&Signature=x&X-Amz-Algorithm=AWS", nil)
		}, class: ErrUnsupportedSignature},
		{name: "sigv4a-streaming", req: func() *http.Request { return put("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "", nil) }, class: ErrUnsupportedSignature},
		{name: "unknown-access-key", req: func() *http.Request { return editAuth(put(okHash, "hello", nil), sdkAccessKey, "AKIAUNKNOWNUNKNOWN00") }, class: ErrInvalidAccessKeyID},
		{name: "signature-mismatch", req: func() *http.Request {
			r := put(okHash, "hello", map[string]string{"Content-Type": "text/plain"})
			r.Header.Set("Content-Type", "text/html")
			return r
		}, class: ErrSignatureDoesNotMatch},
		{name: "presigned-expired", req: func() *http.Request { return presigned(t, "/b/k") }, now: 15*time.Minute + time.Second, class: ErrRequestExpired},
		{name: "presigned-not-yet-valid", req: func() *http.Request { return presigned(t, "/b/k") }, now: -16 * time.Minute, class: ErrRequestNotYetValid},
		{name: "skew-ahead", req: func() *http.Request { return put(okHash, "hello", nil) }, now: 16 * time.Minute, class: ErrTimeSkewed},
		{name: "skew-behind", req: func() *http.Request { return put(okHash, "hello", nil) }, now: -16 * time.Minute, class: ErrTimeSkewed},
		{name: "no-date", req: func() *http.Request {
			r := put(okHash, "hello", nil)
			r.Header.Del("X-Amz-Date")
			return r
		}, class: ErrMissingDate},
		{name: "bad-date", req: func() *http.Request {
			r := put(okHash, "hello", nil)
			r.Header.Set("X-Amz-Date", "yesterday")
			return r
		}, class: ErrMissingDate},
		{name: "s3-without-content-sha256", req: func() *http.Request { return sdkSigned(t, "PUT", "/b/k", "s3", "", "hello", nil) }, class: ErrMissingContentSHA256},
		{name: "invalid-content-sha256", req: func() *http.Request { return put("SHA-256-PLEASE", "hello", nil) }, class: ErrInvalidContentSHA256},
		{name: "amz-header-not-signed", req: func() *http.Request {
			r := put(okHash, "hello", nil)
			r.Header.Set("X-Amz-Meta-Sneaky", "1")
			return r
		}, class: ErrHeadersNotSigned},
		{name: "content-sha256-mismatch", req: func() *http.Request { return put(okHash, "hellO", nil) }, class: ErrContentSHA256Mismatch, atRead: true},
		{name: "decoded-length-mismatch", req: func() *http.Request {
			return put(StreamingUnsignedPayloadTrailer, "5\r\nhello\r\n0\r\n\r\n", map[string]string{"X-Amz-Decoded-Content-Length": "6"})
		}, class: ErrIncompleteBody, atRead: true},
		{name: "decoded-length-exceeded", req: func() *http.Request {
			return put(StreamingUnsignedPayloadTrailer, "5\r\nhello\r\n0\r\n\r\n", map[string]string{"X-Amz-Decoded-Content-Length": "4"})
		}, class: ErrIncompleteBody, atRead: true},
		{name: "body-cut-short", req: func() *http.Request {
			return put(StreamingUnsignedPayloadTrailer, "5\r\nhel", map[string]string{"X-Amz-Decoded-Content-Length": "5"})
		}, class: ErrIncompleteBody, atRead: true},
		{name: "malformed-chunk-size", req: func() *http.Request {
			return put(StreamingUnsignedPayloadTrailer, "zz\r\nhello\r\n0\r\n\r\n", nil)
		}, class: ErrMalformedChunk, atRead: true},
		{name: "malformed-decoded-length", req: func() *http.Request {
			return put(StreamingUnsignedPayloadTrailer, "0\r\n\r\n", map[string]string{"X-Amz-Decoded-Content-Length": "-1"})
		}, class: ErrMalformedChunk},
		{name: "buffered-body-too-large", req: func() *http.Request {
			r := sdkSigned(t, "POST", "/", "kms", "", strings.Repeat("x", DefaultMaxBody+1), nil)
			r.ContentLength = -1 // length unknown up front (chunked transfer)
			return r
		}, class: ErrBodyTooLarge},
		{name: "buffered-content-length-too-large", req: func() *http.Request {
			return sdkSigned(t, "POST", "/", "kms", "", strings.Repeat("x", DefaultMaxBody+1), nil)
		}, class: ErrBodyTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := sdkVerifier(signTime.Add(tc.now))
			v.Service = tc.service
			a, err := v.Verify(tc.req())
			if tc.atRead {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				_, err = io.ReadAll(a.Body)
			}
			wantClass(t, err, tc.class)
			if hex64.MatchString(err.Error()) {
				t.Errorf("error text carries a signature-like value: %v", err)
			}
		})
	}
}

// TestRegionError checks that a wrong region is reported with the expected one.
func TestRegionError(t *testing.T) {
	v := sdkVerifier(signTime)
	v.Region = "us-east-1"
	_, err := v.Verify(sdkSigned(t, "GET", "/b/k", "s3", emptySHA256, "", nil))
	var re *RegionError
	if !errors.As(err, &re) || re.Expected != "us-east-1" || re.Got != sdkRegion || !errors.Is(err, ErrAuthHeaderMalformed) {
		t.Fatalf("err = %v", err)
	}
	_, err = v.Verify(presigned(t, "/b/k"))
	if !errors.As(err, &re) || re.Expected != "us-east-1" || !errors.Is(err, ErrQueryMalformed) {
		t.Fatalf("presigned err = %v", err)
	}
}

// TestKeyCacheRotation checks that a changed secret is not served a stale
// signing key from the cache.
func TestKeyCacheRotation(t *testing.T) {
	secret := sdkSecretKey
	v := sdkVerifier(signTime)
	v.Lookup = func(context.Context, string, string) (Credential, error) {
		return Credential{Secret: []byte(secret)}, nil
	}
	if _, err := v.Verify(sdkSigned(t, "GET", "/b/k", "s3", emptySHA256, "", nil)); err != nil {
		t.Fatal(err)
	}
	secret = "rotated" + sdkSecretKey
	_, err := v.Verify(sdkSigned(t, "GET", "/b/k", "s3", emptySHA256, "", nil))
	wantClass(t, err, ErrSignatureDoesNotMatch)
}
