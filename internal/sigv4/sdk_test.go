package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/encoding/httpbinding"
)

// These tests sign with aws-sdk-go-v2's signer, an independent
// implementation, and verify on a real loopback server so that net/http's
// handling of Host, Content-Length, Transfer-Encoding and the request-target
// is what the Verifier sees.

const (
	sdkAccessKey = "AKIATESTTESTTESTTEST"
	sdkSecretKey = "c2VjcmV0IGtleSBmb3IgdGVzdHMgb25seSEhISE"
	sdkRegion    = "eu-central-2"
)

var sdkCreds = aws.Credentials{AccessKeyID: sdkAccessKey, SecretAccessKey: sdkSecretKey}

// result is what the loopback handler observed for one request.
type result struct {
	auth    *Auth
	verr    error // from Verify
	body    []byte
	berr    error // from reading Auth.Body
	trailer http.Header
}

// loopback starts a server whose handler verifies each request with v and
// reports the outcome on the returned channel.
func loopback(t *testing.T, v *Verifier) (*httptest.Server, <-chan result) {
	t.Helper()
	ch := make(chan result, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res result
		res.auth, res.verr = v.Verify(r)
		if res.verr == nil {
			res.body, res.berr = io.ReadAll(res.auth.Body)
			res.auth.Body.Close()
			res.trailer = res.auth.Trailer
		} else {
			io.Copy(io.Discard, r.Body)
		}
		ch <- res
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

func send(t *testing.T, req *http.Request, ch <-chan result) result {
	t.Helper()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("round trip: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	select {
	case res := <-ch:
		return res
	default:
		t.Fatal("handler reported nothing")
		return result{}
	}
}

func sdkVerifier(now time.Time) *Verifier {
	return &Verifier{
		Region: sdkRegion,
		Lookup: keys(map[string]string{sdkAccessKey: sdkSecretKey}),
		Now:    func() time.Time { return now },
	}
}

// keyAlphabet holds the characters object keys and query values are drawn
// from: unreserved, reserved, space, percent and multi-byte UTF-8.
var keyAlphabet = []string{"a", "Z", "0", "-", "_", ".", "~", " ", "+", "=", "!", "*", "'", "(", ")",
	"&", "$", "@", ":", ",", ";", "?", "#", "[", "]", "%", "/", "é", "日本", "🙂", "\\", "^", "`", "{", "|", "<"}

func randString(rng *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(keyAlphabet[rng.IntN(len(keyAlphabet))])
	}
	return b.String()
}

// TestSDKHeaderAuthS3 signs S3-style requests with random keys, query
// parameters and headers the way the S3 client does (path escaped once with
// the SigV4 rule, no further escaping by the signer).
func TestSDKHeaderAuthS3(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	v := sdkVerifier(now)
	srv, ch := loopback(t, v)
	rng := rand.New(rand.NewPCG(1, 2))
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	for i := range 60 {
		key := randString(rng, 1+rng.IntN(12))
		if strings.Trim(key, "/.") == "" {
			key = "k" + key
		}
		t.Run(fmt.Sprintf("%02d", i), func(t *testing.T) {
			body := []byte(randString(rng, rng.IntN(200)))
			u, _ := url.Parse(srv.URL)
			u.Path = "/bucket/" + key
			u.RawPath = "/bucket/" + httpbinding.EscapePath(key, false)
			q := url.Values{}
			for range rng.IntN(4) {
				q.Add(randString(rng, 1+rng.IntN(5)), randString(rng, rng.IntN(6)))
			}
			if rng.IntN(3) == 0 {
				q.Set("acl", "")
			}
			u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
			req, _ := http.NewRequest(http.MethodPut, u.String(), bytes.NewReader(body))
			req.URL = u
			sum := sha256.Sum256(body)
			payload := hex.EncodeToString(sum[:])
			if rng.IntN(2) == 0 {
				payload = UnsignedPayload
			}
			req.Header.Set("X-Amz-Content-Sha256", payload)
			req.Header.Set("X-Amz-Meta-Note", "  spaced   out  value ")
			req.Header.Add("X-Amz-Meta-Multi", "one")
			req.Header.Add("X-Amz-Meta-Multi", "two")
			req.Header.Set("Content-Type", "application/octet-stream")
			req.Header.Set("X-Amz-Server-Side-Encryption", "aws:kms")
			if err := signer.SignHTTP(context.Background(), sdkCreds, req, payload, "s3", sdkRegion, now); err != nil {
				t.Fatal(err)
			}
			res := send(t, req, ch)
			if res.verr != nil {
				t.Fatalf("key %q query %q: Verify: %v", key, u.RawQuery, res.verr)
			}
			if res.berr != nil || !bytes.Equal(res.body, body) {
				t.Fatalf("body = %q, %v", res.body, res.berr)
			}
			if res.auth.Service != "s3" || res.auth.AccessKey != sdkAccessKey || res.auth.ContentSHA256 != payload || res.auth.DecodedLength != int64(len(body)) {
				t.Errorf("Auth = %+v", res.auth)
			}
		})
	}
}

// TestSDKLaxPathEscaping covers clients that send and sign the path with
// their own, partial, escaping (Go's default URL escaping here).
func TestSDKLaxPathEscaping(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	srv, ch := loopback(t, sdkVerifier(now))
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	for _, key := range []string{"a+b=c!d*e'f(g)h", "sp ace", "x:y@z$w,v;u", "~tilde"} {
		t.Run(key, func(t *testing.T) {
			u, _ := url.Parse(srv.URL)
			u.Path = "/bucket/" + key
			req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
			req.URL = u
			req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
			if err := signer.SignHTTP(context.Background(), sdkCreds, req, emptySHA256, "s3", sdkRegion, now); err != nil {
				t.Fatal(err)
			}
			if res := send(t, req, ch); res.verr != nil {
				t.Fatalf("wire path %q: %v", u.EscapedPath(), res.verr)
			}
		})
	}
}

// TestSDKHeaderAuthKMS signs KMS-style JSON requests: no
// x-amz-content-sha256, so the Verifier buffers and hashes the body.
func TestSDKHeaderAuthKMS(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	v := sdkVerifier(now)
	v.Service = "kms"
	v.MaxBody = 4096
	srv, ch := loopback(t, v)
	signer := v4.NewSigner()
	tests := []struct {
		name    string
		body    string
		token   string
		service string
		class   error
	}{
		{"encrypt", `{"KeyId":"alias/x","Plaintext":"aGVsbG8="}`, "", "kms", nil},
		{"empty-body", ``, "", "kms", nil},
		{"session-token", `{"KeyId":"k"}`, "FQoGZXIvYXdzEXAMPLE/token+with=chars", "kms", nil},
		{"wrong-service", `{}`, "", "s3", ErrAuthHeaderMalformed},
		{"too-large", `{"Plaintext":"` + strings.Repeat("A", 5000) + `"}`, "", "kms", ErrBodyTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "TrentService.Encrypt")
			sum := sha256.Sum256([]byte(tc.body))
			creds := sdkCreds
			creds.SessionToken = tc.token
			if err := signer.SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), tc.service, sdkRegion, now); err != nil {
				t.Fatal(err)
			}
			res := send(t, req, ch)
			wantClass(t, res.verr, tc.class)
			if tc.class != nil {
				return
			}
			if string(res.body) != tc.body || res.berr != nil || res.auth.Service != "kms" {
				t.Errorf("body %q err %v auth %+v", res.body, res.berr, res.auth)
			}
			if res.auth.ContentSHA256 != hex.EncodeToString(sum[:]) || res.auth.DecodedLength != int64(len(tc.body)) {
				t.Errorf("Auth = %+v", res.auth)
			}
		})
	}
}

// TestSDKPresign verifies URLs presigned by the SDK, with hoisted and
// unhoisted headers and random keys.
func TestSDKPresign(t *testing.T) {
	signTime := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	rng := rand.New(rand.NewPCG(3, 4))
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	for i := range 30 {
		key := "k" + randString(rng, rng.IntN(10))
		expires := 1 + rng.IntN(MaxPresignExpiry)
		method := []string{http.MethodGet, http.MethodPut, http.MethodHead}[rng.IntN(3)]
		t.Run(fmt.Sprintf("%02d", i), func(t *testing.T) {
			v := sdkVerifier(signTime.Add(time.Duration(rng.IntN(expires)) * time.Second))
			srv, ch := loopback(t, v)
			u, _ := url.Parse(srv.URL)
			u.Path = "/bucket/" + key
			u.RawPath = "/bucket/" + httpbinding.EscapePath(key, false)
			q := url.Values{"X-Amz-Expires": {strconv.Itoa(expires)}}
			if rng.IntN(2) == 0 {
				q.Set("response-content-disposition", `attachment; filename="`+randString(rng, 4)+`"`)
			}
			u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
			req, _ := http.NewRequest(method, u.String(), nil)
			req.URL = u
			req.Header.Set("X-Amz-Server-Side-Encryption-Customer-Algorithm", "AES256") // stays a signed header
			req.Header.Set("X-Amz-Acl", "private")                                      // hoisted into the query
			signed, hdr, err := signer.PresignHTTP(context.Background(), sdkCreds, req, UnsignedPayload, "s3", sdkRegion, signTime)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := http.NewRequest(method, signed, nil)
			for k, vs := range hdr {
				if !strings.EqualFold(k, "host") {
					out.Header[k] = vs
				}
			}
			res := send(t, out, ch)
			if res.verr != nil {
				t.Fatalf("presigned %s: %v", signed, res.verr)
			}
			if !res.auth.Presigned || res.auth.Expires != signTime.Add(time.Duration(expires)*time.Second) {
				t.Errorf("Auth = %+v", res.auth)
			}
			out2, _ := http.NewRequest(method, signed, nil)
			for k, vs := range hdr {
				if !strings.EqualFold(k, "host") {
					out2.Header[k] = vs
				}
			}
			out2.Header.Set("X-Amz-Server-Side-Encryption-Customer-Algorithm", "aws:kms")
			wantClass(t, send(t, out2, ch).verr, ErrSignatureDoesNotMatch)
		})
	}
}

// chunkedBody encodes payload as aws-chunked with the given chunk sizes.
// Signed chunks use the SDK's stream signer (whose string to sign, with empty
// event headers, is S3's chunk string to sign); trailers are signed by the
// test-side reference signer.
type chunkedBody struct {
	signed   bool
	trailers []string // "name:value", sorted
	badChunk int      // 1-based index of a chunk whose signature is corrupted; 0 none
}

func (cb chunkedBody) encode(t *testing.T, payload []byte, sizes []int, seedHex string, signTime time.Time) []byte {
	t.Helper()
	seed, _ := hex.DecodeString(seedHex)
	ss := v4.NewStreamSigner(sdkCreds, "s3", sdkRegion, seed)
	var out bytes.Buffer
	prev := seedHex
	chunk := 0
	emit := func(data []byte) {
		chunk++
		fmt.Fprintf(&out, "%x", len(data))
		if cb.signed {
			sig, err := ss.GetSignature(context.Background(), nil, data, signTime)
			if err != nil {
				t.Fatal(err)
			}
			if chunk == cb.badChunk {
				sig[0] ^= 1
			}
			prev = hex.EncodeToString(sig)
			out.WriteString(";chunk-signature=" + prev)
		}
		out.WriteString("\r\n")
		out.Write(data)
		if len(data) > 0 {
			out.WriteString("\r\n")
		}
	}
	for _, n := range sizes {
		emit(payload[:n])
		payload = payload[n:]
	}
	emit(nil)
	for _, tr := range cb.trailers {
		out.WriteString(tr + "\r\n")
	}
	if cb.signed && len(cb.trailers) > 0 {
		scope := signTime.Format("20060102") + "/" + sdkRegion + "/s3/aws4_request"
		key := refSigningKey(sdkSecretKey, signTime.Format("20060102"), sdkRegion, "s3")
		out.WriteString("x-amz-trailer-signature:" + refTrailerSignature(key, signTime.Format(amzDateLayout), scope, prev, cb.trailers) + "\r\n")
	}
	out.WriteString("\r\n")
	return out.Bytes()
}

// TestSDKStreaming sends the three aws-chunked modes over loopback with
// random chunk sizes, with Content-Length and (as botocore does) with
// Transfer-Encoding: chunked instead.
func TestSDKStreaming(t *testing.T) {
	signTime := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	srv, ch := loopback(t, sdkVerifier(signTime.Add(time.Minute)))
	rng := rand.New(rand.NewPCG(5, 6))
	modes := []struct {
		name     string
		sha      string
		enc      chunkedBody
		trailers bool
	}{
		{"signed", StreamingPayload, chunkedBody{signed: true}, false},
		{"signed-trailer", StreamingPayloadTrailer, chunkedBody{signed: true, trailers: []string{"x-amz-checksum-crc32:AAAAAA==", "x-amz-checksum-sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}}, true},
		{"unsigned-trailer", StreamingUnsignedPayloadTrailer, chunkedBody{trailers: []string{"x-amz-checksum-crc32:Xg5djw=="}}, true},
		{"signed-bad-chunk", StreamingPayload, chunkedBody{signed: true, badChunk: 2}, false},
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	for _, m := range modes {
		for _, te := range []bool{false, true} {
			for i := range 4 {
				t.Run(fmt.Sprintf("%s/te=%v/%d", m.name, te, i), func(t *testing.T) {
					payload := make([]byte, rng.IntN(200000))
					for j := range payload {
						payload[j] = byte(rng.Uint32())
					}
					var sizes []int
					for left := len(payload); left > 0; {
						n := min(left, 1+rng.IntN(70000))
						sizes = append(sizes, n)
						left -= n
					}
					if m.enc.badChunk > len(sizes) {
						sizes = append(sizes[:0], 1, len(payload)-1)
						if len(payload) < 2 {
							payload, sizes = []byte("ab"), []int{1, 1}
						}
					}
					req, _ := http.NewRequest(http.MethodPut, srv.URL+"/bucket/obj", nil)
					req.Header.Set("X-Amz-Content-Sha256", m.sha)
					req.Header.Set("Content-Encoding", "aws-chunked")
					req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(payload)))
					if m.trailers {
						var names []string
						for _, tr := range m.enc.trailers {
							names = append(names, tr[:strings.IndexByte(tr, ':')])
						}
						req.Header.Set("X-Amz-Trailer", strings.Join(names, ","))
					}
					// Sign without the body to learn the seed, then encode.
					probe := req.Clone(context.Background())
					var encLen int64 = -1
					if !te {
						// The encoded length depends only on sizes and mode.
						encLen = int64(len(m.enc.encode(t, payload, sizes, strings.Repeat("0", 64), signTime)))
						probe.ContentLength = encLen
					}
					if err := signer.SignHTTP(context.Background(), sdkCreds, probe, m.sha, "s3", sdkRegion, signTime); err != nil {
						t.Fatal(err)
					}
					authz := probe.Header.Get("Authorization")
					seed := authz[strings.LastIndex(authz, "=")+1:]
					body := m.enc.encode(t, payload, sizes, seed, signTime)
					probe.Body = io.NopCloser(bytes.NewReader(body))
					if te {
						probe.ContentLength = -1
						probe.TransferEncoding = []string{"chunked"}
					}
					res := send(t, probe, ch)
					if res.verr != nil {
						t.Fatalf("Verify: %v", res.verr)
					}
					if m.enc.badChunk > 0 {
						wantClass(t, res.berr, ErrSignatureDoesNotMatch)
						return
					}
					if res.berr != nil || !bytes.Equal(res.body, payload) {
						t.Fatalf("decoded %d bytes (want %d), err %v", len(res.body), len(payload), res.berr)
					}
					if res.auth.DecodedLength != int64(len(payload)) {
						t.Errorf("DecodedLength = %d", res.auth.DecodedLength)
					}
					for _, tr := range m.enc.trailers {
						name, value, _ := strings.Cut(tr, ":")
						if got := res.trailer.Get(name); got != value {
							t.Errorf("trailer %s = %q, want %q", name, got, value)
						}
					}
				})
			}
		}
	}
}
