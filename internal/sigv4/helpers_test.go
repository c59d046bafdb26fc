package sigv4

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wireRequest parses a request from its HTTP/1.1 wire form, as a server sees
// it (RequestURI, Host moved out of Header, Content-Length/Transfer-Encoding
// handled by net/http).
func wireRequest(t testing.TB, method, target string, headers [][2]string, body string) *http.Request {
	t.Helper()
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\n")
	hasLen := false
	for _, h := range headers {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
		if strings.EqualFold(h[0], "content-length") || strings.EqualFold(h[0], "transfer-encoding") {
			hasLen = true
		}
	}
	if body != "" && !hasLen {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(b.String())))
	if err != nil {
		t.Fatalf("parsing wire request: %v", err)
	}
	return r
}

// fixedNow returns a clock stuck at the given ISO 8601 basic time.
func fixedNow(t testing.TB, amzDate string) func() time.Time {
	t.Helper()
	ts, err := time.Parse(amzDateLayout, amzDate)
	if err != nil {
		t.Fatal(err)
	}
	return func() time.Time { return ts }
}

// keys returns a Lookup over a fixed map; session tokens are not checked.
func keys(m map[string]string) func(context.Context, string, string) (Credential, error) {
	return func(_ context.Context, ak, _ string) (Credential, error) {
		s, ok := m[ak]
		if !ok {
			return Credential{}, ErrInvalidAccessKeyID
		}
		return Credential{Secret: []byte(s), Owner: ak}, nil
	}
}

// readAll drains an Auth body, returning what was read and the final error
// (nil on io.EOF).
func readAll(t testing.TB, a *Auth) ([]byte, error) {
	t.Helper()
	b, err := io.ReadAll(a.Body)
	if cerr := a.Body.Close(); cerr != nil && err == nil {
		t.Errorf("Close: %v", cerr)
	}
	return b, err
}

// wantClass fails unless err is (or wraps) class.
func wantClass(t testing.TB, err, class error) {
	t.Helper()
	if class == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, class) {
		t.Fatalf("error = %v, want class %v", err, class)
	}
}

// refSigningKey is a test-side SigV4 key derivation, written separately from
// deriveKey, for signatures the SDK has no signer for (trailers).
func refSigningKey(secret, date, region, service string) []byte {
	k := []byte("AWS4" + secret)
	for _, s := range []string{date, region, service, "aws4_request"} {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(s))
		k = m.Sum(nil)
	}
	return k
}

// refTrailerSignature signs trailers (already sorted "name:value" lines).
func refTrailerSignature(key []byte, amzDate, scope, prevHex string, lines []string) string {
	var canon string
	for _, l := range lines {
		canon += l + "\n"
	}
	h := sha256.Sum256([]byte(canon))
	m := hmac.New(sha256.New, key)
	m.Write([]byte("AWS4-HMAC-SHA256-TRAILER\n" + amzDate + "\n" + scope + "\n" + prevHex + "\n" + hex.EncodeToString(h[:])))
	return hex.EncodeToString(m.Sum(nil))
}

func mustTime(t testing.TB, amzDate string) time.Time {
	t.Helper()
	ts, err := time.Parse(amzDateLayout, amzDate)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}
