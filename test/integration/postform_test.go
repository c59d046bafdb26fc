package integration

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"testing"
	"time"
)

// Browser upload forms, built and signed the way AWS documents them in "Authenticating
// Requests in Browser-Based Uploads Using POST (AWS Signature Version 4)": the policy is a JSON
// document, its base64 form is the string to sign, and the signature is the hex HMAC-SHA256 of
// it under the SigV4 signing key of the credential scope. The aws-sdk-go-v2 has no POST
// presigner, so this is an independent implementation.

// formField is one field of a form; a field named "file" carries the file's bytes.
type formField struct{ name, value string }

// postPolicy is what a test puts in a form's policy.
type postPolicy struct {
	expires    time.Time
	conditions []any // {"field": "value"} maps or ["op", ...] lists, as in the JSON
}

// signingKeyV4 derives the SigV4 signing key of a credential scope.
func signingKeyV4(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	for _, part := range []string{region, service, "aws4_request"} {
		k = hmacSHA256(k, part)
	}
	return k
}

// signPostV4 returns the authentication fields of a SigV4 form signed at time at: its
// policy gets the conditions on x-amz-algorithm, x-amz-credential and x-amz-date added.
func signPostV4(t *testing.T, ak, sk, region string, at time.Time, p postPolicy) []formField {
	t.Helper()
	cred := ak + "/" + at.Format("20060102") + "/" + region + "/s3/aws4_request"
	amzDate := at.UTC().Format("20060102T150405Z")
	conds := append([]any{}, p.conditions...)
	conds = append(conds, map[string]string{"x-amz-algorithm": "AWS4-HMAC-SHA256"},
		map[string]string{"x-amz-credential": cred}, map[string]string{"x-amz-date": amzDate})
	policy := encodePolicy(t, p.expires, conds)
	sig := hmacSHA256(signingKeyV4(sk, at.Format("20060102"), region, "s3"), policy)
	return []formField{
		{"x-amz-algorithm", "AWS4-HMAC-SHA256"}, {"x-amz-credential", cred}, {"x-amz-date", amzDate},
		{"policy", policy}, {"x-amz-signature", hex.EncodeToString(sig)},
	}
}

// signPostV2 returns the authentication fields of a legacy SigV2 form.
func signPostV2(t *testing.T, ak, sk string, p postPolicy) []formField {
	t.Helper()
	policy := encodePolicy(t, p.expires, p.conditions)
	return []formField{{"AWSAccessKeyId", ak}, {"policy", policy}, {"signature", base64.StdEncoding.EncodeToString(hmacSHA1([]byte(sk), []byte(policy)))}}
}

func hmacSHA1(key, msg []byte) []byte {
	m := hmac.New(sha1.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

func encodePolicy(t *testing.T, expires time.Time, conds []any) string {
	t.Helper()
	doc, err := json.Marshal(map[string]any{"expiration": expires.UTC().Format("2006-01-02T15:04:05.000Z"), "conditions": conds})
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(doc)
}

// buildForm encodes fields as multipart/form-data in their order; a "file" field is the
// upload, named filename.
func buildForm(t *testing.T, fields []formField, filename string) (body []byte, contentType string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range fields {
		var err error
		if f.name == "file" {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="file"; filename="`+filename+`"`)
			h.Set("Content-Type", "application/octet-stream")
			w, werr := mw.CreatePart(h)
			if werr == nil {
				_, err = w.Write([]byte(f.value))
			} else {
				err = werr
			}
		} else {
			err = mw.WriteField(f.name, f.value)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), mw.FormDataContentType()
}

// postForm posts a form to baseURL/bucket without following redirects.
func (e *env) postForm(t *testing.T, baseURL, bucket string, body []byte, contentType string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, baseURL+"/"+bucket, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	c := *e.http
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
