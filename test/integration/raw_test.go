package integration

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// raw sends a request signed with the SDK's own SigV4 signer, for shapes a typed client
// refuses to produce. pathQuery is relative to the endpoint.
func (e *env) raw(t *testing.T, method, pathQuery, body string, headers map[string]string, at time.Time) *http.Response {
	t.Helper()
	return e.rawAs(t, testAccessKey, testSecretKey, method, pathQuery, body, headers, at)
}

func (e *env) rawAs(t *testing.T, ak, sk, method, pathQuery, body string, headers map[string]string, at time.Time) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+pathQuery, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256([]byte(body))
	hash := hex.EncodeToString(sum[:])
	if v, ok := headers["X-Amz-Content-Sha256"]; ok {
		hash = v
	} else {
		req.Header.Set("X-Amz-Content-Sha256", hash)
	}
	err = v4.NewSigner().SignHTTP(ctx(t), aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, req, hash, "s3", e.region, at)
	if err != nil {
		t.Fatal(err)
	}
	return e.do(t, req)
}

// do sends req with the client that trusts the server, and closes the response body when the
// test ends.
func (e *env) do(t *testing.T, req *http.Request) *http.Response {
	t.Helper()
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

type rawError struct {
	Code      string `xml:"Code"`
	Message   string `xml:"Message"`
	RequestID string `xml:"RequestId"`
	Resource  string `xml:"Resource"`
	Region    string `xml:"Region"`
}

// wantRawError checks an XML error response.
func wantRawError(t *testing.T, resp *http.Response, code string, status int) rawError {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	var re rawError
	if err := xml.Unmarshal(body, &re); err != nil {
		t.Fatalf("error body is not XML: %q", body)
	}
	if re.Code != code {
		t.Fatalf("code %q, want %q; body %s", re.Code, code, body)
	}
	if re.RequestID == "" || re.RequestID != resp.Header.Get("x-amz-request-id") {
		t.Fatalf("RequestId %q does not match header %q", re.RequestID, resp.Header.Get("x-amz-request-id"))
	}
	return re
}

func md5b64(s string) string {
	sum := md5.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func nowUTC() time.Time { return time.Now().UTC() }

func mustRead(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signNoPayloadHeader signs req without an x-amz-content-sha256 header.
func (e *env) signNoPayloadHeader(t *testing.T, req *http.Request) *http.Request {
	t.Helper()
	err := v4.NewSigner().SignHTTP(ctx(t), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey}, req, hexSHA256(nil), "s3", e.region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return req
}

type s3PresignedRequest = v4.PresignedHTTPRequest

func presignGet(c context.Context, p *s3.PresignClient, bucket, key string, d time.Duration) (*s3PresignedRequest, error) {
	return p.PresignGetObject(c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}, s3.WithPresignExpires(d))
}

// presignV2GetQuery is the query string of a SigV2 presigned GET of resource ("/bucket/key"),
// valid for an hour.
func presignV2GetQuery(resource string) string {
	return "?" + presignV2Query("GET", resource)
}

// presignV2Query is the query string of a SigV2 presigned request, valid for an hour: method,
// resource ("/bucket/key", with its signed subresources in order, e.g. "?partNumber=1&uploadId=…")
// and the request's x-amz-* headers as "name:value" lines, lower case and sorted.
func presignV2Query(method, resource string, amzHeaders ...string) string {
	exp := fmt.Sprint(time.Now().Add(time.Hour).Unix())
	var amz string
	for _, h := range amzHeaders {
		amz += h + "\n"
	}
	sig := hmacSHA1([]byte(testSecretKey), []byte(method+"\n\n\n"+exp+"\n"+amz+resource))
	return "AWSAccessKeyId=" + testAccessKey + "&Expires=" + exp + "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
}

// sendHeaders signs req (UNSIGNED-PAYLOAD, with the secret given) for service, opens a TLS
// connection of its own to the server and writes the request line and headers, extra header
// lines ("Name: value") included, but no body: the caller sends as much body as it means to.
func (e *env) sendHeaders(t *testing.T, req *http.Request, service, secret string, extra ...string) *tls.Conn {
	t.Helper()
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(ctx(t), creds, req, "UNSIGNED-PAYLOAD", service, e.region, time.Now()); err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", strings.TrimPrefix(e.srv.URL, "https://"), &tls.Config{RootCAs: e.rootCAs(), ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", req.Method, req.URL.RequestURI(), req.Host, req.ContentLength)
	for k, v := range req.Header {
		fmt.Fprintf(conn, "%s: %s\r\n", k, v[0])
	}
	for _, h := range extra {
		fmt.Fprintf(conn, "%s\r\n", h)
	}
	io.WriteString(conn, "\r\n")
	return conn
}
