package sigv4

import (
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"
)

type suiteFile struct {
	AccessKey string      `json:"accessKey"`
	SecretKey string      `json:"secretKey"`
	Region    string      `json:"region"`
	Service   string      `json:"service"`
	Date      string      `json:"date"`
	Cases     []suiteCase `json:"cases"`
}

type suiteCase struct {
	Name          string      `json:"name"`
	Method        string      `json:"method"`
	Path          string      `json:"path"`
	Query         [][2]string `json:"query"`
	Headers       [][2]string `json:"headers"`
	Body          string      `json:"body"`
	Authorization string      `json:"authorization"`
}

// TestAWSTestSuite verifies the requests of AWS's published SigV4 test suite
// (service "service", so non-S3 canonicalisation and buffered-body hashing),
// and checks that flipping any part the signature covers breaks it.
func TestAWSTestSuite(t *testing.T) {
	raw, err := os.ReadFile("testdata/aws-sig-v4-test-suite.json")
	if err != nil {
		t.Fatal(err)
	}
	var suite suiteFile
	if err := json.Unmarshal(raw, &suite); err != nil {
		t.Fatal(err)
	}
	if len(suite.Cases) < 20 {
		t.Fatalf("only %d suite cases loaded", len(suite.Cases))
	}
	v := &Verifier{
		Region: suite.Region,
		Lookup: keys(map[string]string{suite.AccessKey: suite.SecretKey}),
		Now:    fixedNow(t, suite.Date),
	}
	build := func(c suiteCase, mutate func(target *string, hs [][2]string, body *string)) (*Auth, error) {
		target := c.Path
		if len(c.Query) > 0 {
			var q []string
			for _, kv := range c.Query {
				q = append(q, url.QueryEscape(kv[0])+"="+url.QueryEscape(kv[1]))
			}
			target += "?" + strings.Join(q, "&")
		}
		hs := append([][2]string(nil), c.Headers...)
		hs = append(hs, [2]string{"Authorization", c.Authorization})
		body := c.Body
		if mutate != nil {
			mutate(&target, hs, &body)
		}
		return v.Verify(wireRequest(t, c.Method, target, hs, body))
	}
	for _, c := range suite.Cases {
		t.Run(c.Name, func(t *testing.T) {
			a, err := build(c, nil)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if a.AccessKey != suite.AccessKey || a.Service != suite.Service || a.Presigned {
				t.Errorf("Auth = %+v", a)
			}
			body, err := readAll(t, a)
			if err != nil || string(body) != c.Body {
				t.Errorf("body = %q, %v; want %q", body, err, c.Body)
			}
			t.Run("tampered-path", func(t *testing.T) {
				_, err := build(c, func(target *string, _ [][2]string, _ *string) { *target = "/x" + *target })
				wantClass(t, err, ErrSignatureDoesNotMatch)
			})
			t.Run("tampered-header", func(t *testing.T) {
				_, err := build(c, func(_ *string, hs [][2]string, _ *string) {
					for i := range hs {
						if hs[i][0] != "host" && hs[i][0] != "x-amz-date" && hs[i][0] != "Authorization" {
							hs[i][1] += "x"
							return
						}
					}
					hs[0][1] = "other.example.com" // only host and date: change the host
				})
				wantClass(t, err, ErrSignatureDoesNotMatch)
			})
			if c.Body != "" {
				t.Run("tampered-body", func(t *testing.T) {
					_, err := build(c, func(_ *string, _ [][2]string, body *string) { *body += "&x=y" })
					wantClass(t, err, ErrSignatureDoesNotMatch)
				})
			}
		})
	}
}
