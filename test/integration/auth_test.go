package integration

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestAuthentication(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "authb")
	must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("authb"), Key: aws.String("k y"), Body: stringsReader("secret data")}))

	t.Run("wrong secret", func(t *testing.T) {
		cl := e.client(testAccessKey, "wrong-secret", nil)
		_, err := cl.ListBuckets(c, &s3.ListBucketsInput{})
		wantAPIError(t, err, "SignatureDoesNotMatch", 403)
	})
	t.Run("unknown access key", func(t *testing.T) {
		cl := e.client("AKIAUNKNOWN000000000", testSecretKey, nil)
		_, err := cl.ListBuckets(c, &s3.ListBucketsInput{})
		wantAPIError(t, err, "InvalidAccessKeyId", 403)
	})
	t.Run("anonymous", func(t *testing.T) {
		for _, u := range []string{"/", "/authb", "/authb/k%20y"} {
			resp, err := e.http.Get(e.srv.URL + u)
			if err != nil {
				t.Fatal(err)
			}
			wantRawError(t, resp, "AccessDenied", 403)
			resp.Body.Close()
		}
	})
	t.Run("clock skew", func(t *testing.T) {
		resp := e.raw(t, "GET", "/authb", "", nil, time.Now().Add(-20*time.Minute))
		wantRawError(t, resp, "RequestTimeTooSkewed", 403)
		resp = e.raw(t, "GET", "/authb", "", nil, time.Now().Add(16*time.Minute))
		wantRawError(t, resp, "RequestTimeTooSkewed", 403)
		resp = e.raw(t, "GET", "/authb", "", nil, time.Now().Add(-10*time.Minute))
		if resp.StatusCode != 200 {
			t.Fatalf("10 minutes of skew refused: %d", resp.StatusCode)
		}
	})
	t.Run("wrong region", func(t *testing.T) {
		e2 := *e
		e2.region = "eu-west-1"
		resp := e2.raw(t, "GET", "/authb", "", nil, time.Now())
		re := wantRawError(t, resp, "AuthorizationHeaderMalformed", 400)
		if re.Region != "us-east-1" {
			t.Fatalf("error names region %q, want us-east-1", re.Region)
		}
	})
	t.Run("payload hash mismatch", func(t *testing.T) {
		resp := e.raw(t, "PUT", "/authb/h", "actual body", map[string]string{"X-Amz-Content-Sha256": hexSHA256([]byte("another body"))}, time.Now())
		wantRawError(t, resp, "XAmzContentSHA256Mismatch", 400)
		_, err := e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String("authb"), Key: aws.String("h")})
		wantAPIError(t, err, "NotFound", 404)
	})
	t.Run("unsigned payload", func(t *testing.T) {
		resp := e.raw(t, "PUT", "/authb/u", "unsigned body", map[string]string{"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"}, time.Now())
		if resp.StatusCode != 200 {
			t.Fatalf("UNSIGNED-PAYLOAD PUT: %d %s", resp.StatusCode, mustRead(t, resp))
		}
	})
	t.Run("missing content sha256", func(t *testing.T) {
		req, _ := http.NewRequest("GET", e.srv.URL+"/authb", nil)
		signed := e.signNoPayloadHeader(t, req)
		resp, err := e.http.Do(signed)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		wantRawError(t, resp, "InvalidRequest", 400)
	})
	t.Run("unsigned x-amz header", func(t *testing.T) {
		req, _ := http.NewRequest("GET", e.srv.URL+"/authb", nil)
		signed := e.signNoPayloadHeader(t, req)
		signed.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		resp, err := e.http.Do(signed)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		wantRawError(t, resp, "AccessDenied", 403)
	})

	presign := s3.NewPresignClient(e.s3)
	t.Run("presigned get", func(t *testing.T) {
		p := must[*s3PresignedRequest](t)(presignGet(c, presign, "authb", "k y", 15*time.Minute))
		resp, err := e.http.Get(p.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(b) != "secret data" {
			t.Fatalf("presigned GET: %d %q", resp.StatusCode, b)
		}
	})
	t.Run("presigned put", func(t *testing.T) {
		p, err := presign.PresignPutObject(c, &s3.PutObjectInput{Bucket: aws.String("authb"), Key: aws.String("presigned-put")}, s3.WithPresignExpires(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("PUT", p.URL, strings.NewReader("via presigned url"))
		resp, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("presigned PUT: %d", resp.StatusCode)
		}
		g := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("authb"), Key: aws.String("presigned-put")}))
		if readAll(t, g.Body) != "via presigned url" {
			t.Fatal("presigned PUT stored wrong data")
		}
	})
	t.Run("presigned errors", func(t *testing.T) {
		p := must[*s3PresignedRequest](t)(presignGet(c, presign, "authb", "k y", 15*time.Minute))
		u, _ := url.Parse(p.URL)
		q := u.Query()
		cases := []struct {
			name   string
			mod    func(url.Values)
			code   string
			status int
		}{
			{"tampered signature", func(v url.Values) { v.Set("X-Amz-Signature", strings.Repeat("a", 64)) }, "SignatureDoesNotMatch", 403},
			{"tampered expiry", func(v url.Values) { v.Set("X-Amz-Expires", "900000") }, "AuthorizationQueryParametersError", 400},
			{"expired", func(v url.Values) {
				// The credential scope's day moves with the date (two hours ago may be
				// yesterday), or the request is malformed rather than expired.
				then := time.Now().UTC().Add(-2 * time.Hour)
				v.Set("X-Amz-Date", then.Format("20060102T150405Z"))
				scope := strings.Split(v.Get("X-Amz-Credential"), "/")
				scope[1] = then.Format("20060102")
				v.Set("X-Amz-Credential", strings.Join(scope, "/"))
			}, "AccessDenied", 403},
			{"date outside the credential's day", func(v url.Values) {
				v.Set("X-Amz-Date", time.Now().UTC().Add(-26*time.Hour).Format("20060102T150405Z"))
			}, "AuthorizationQueryParametersError", 400},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				v := url.Values{}
				for k, vs := range q {
					v[k] = append([]string(nil), vs...)
				}
				tc.mod(v)
				u2 := *u
				u2.RawQuery = v.Encode()
				resp, err := e.http.Get(u2.String())
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				wantRawError(t, resp, tc.code, tc.status)
			})
		}
		// A URL signed with a one-second lifetime, used after it lapsed.
		short := must[*s3PresignedRequest](t)(presignGet(c, presign, "authb", "k y", time.Second))
		time.Sleep(2100 * time.Millisecond)
		resp, err := e.http.Get(short.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		re := wantRawError(t, resp, "AccessDenied", 403)
		if re.Message != "Request has expired" {
			t.Fatalf("expired presign message %q", re.Message)
		}
	})
}

func TestRepeatedQueryParameter(t *testing.T) {
	e := startServer(t)
	newBucket(t, e, "repeat")
	resp := e.raw(t, "GET", "/repeat?list-type=2&prefix=a&prefix=b", "", nil, time.Now())
	wantRawError(t, resp, "InvalidArgument", 400)
}
