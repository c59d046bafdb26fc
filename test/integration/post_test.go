package integration

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const postBucket = "forms"

// postCase is one browser upload: the form's fields (auth fields come from sign), and what
// the server must answer.
type postCase struct {
	name   string
	policy []any       // conditions besides those on the auth fields
	fields []formField // in form order; nil "file" means none
	// sign overrides the SigV4 signing (expired policies, other keys, SigV2).
	sign     func(t *testing.T, p postPolicy) []formField
	filename string
	http     bool // post over the plain-HTTP listener
	status   int
	code     string // error code, "" for success
	message  string // part of the error message
	key      string // object written, read back with the SDK
	check    func(t *testing.T, e *env, resp *http.Response)
}

func TestPostObject(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	must[*s3.CreateBucketOutput](t)(e.s3.CreateBucket(c, &s3.CreateBucketInput{Bucket: aws.String(postBucket)}))
	big := string(randomBytes(7, 1<<20+123))
	sha := sha256.Sum256([]byte("checked"))
	shaB64 := base64.StdEncoding.EncodeToString(sha[:])
	bucketCond := map[string]string{"bucket": postBucket}

	cases := []postCase{
		{name: "plain upload answers 204", policy: []any{bucketCond, []any{"eq", "$key", "a.txt"}},
			fields: []formField{{"key", "a.txt"}, {"file", "hello form"}}, status: 204, key: "a.txt"},
		{name: "filename in key and 201 PostResponse",
			policy:   []any{bucketCond, []any{"starts-with", "$key", "user/"}, map[string]string{"success_action_status": "201"}},
			fields:   []formField{{"key", "user/${filename}"}, {"success_action_status", "201"}, {"file", "named"}},
			filename: "photo.jpg", status: 201, key: "user/photo.jpg",
			check: func(t *testing.T, e *env, resp *http.Response) {
				var pr struct{ Location, Bucket, Key, ETag string }
				if err := xml.Unmarshal(mustRead(t, resp), &pr); err != nil {
					t.Fatal(err)
				}
				if pr.Bucket != postBucket || pr.Key != "user/photo.jpg" || pr.ETag != etagOf("named") || !strings.HasSuffix(pr.Location, "/forms/user/photo.jpg") {
					t.Errorf("PostResponse = %+v", pr)
				}
			}},
		{name: "success_action_status 200", policy: []any{bucketCond, []any{"eq", "$key", "s200"}, []any{"eq", "$success_action_status", "200"}},
			fields: []formField{{"key", "s200"}, {"success_action_status", "200"}, {"file", "x"}}, status: 200, key: "s200"},
		{name: "redirect 303 with bucket key etag",
			policy: []any{bucketCond, []any{"eq", "$key", "r/1"}, []any{"starts-with", "$success_action_redirect", "https://app.example/"}},
			fields: []formField{{"key", "r/1"}, {"success_action_redirect", "https://app.example/done?x=1"}, {"file", "redirected"}},
			status: 303, key: "r/1",
			check: func(t *testing.T, e *env, resp *http.Response) {
				want := "https://app.example/done?x=1&bucket=forms&key=r%2F1&etag=" + url.QueryEscape(etagOf("redirected"))
				if got := resp.Header.Get("Location"); got != want {
					t.Errorf("Location = %q, want %q", got, want)
				}
			}},
		{name: "headers and metadata stored, names case-insensitive",
			policy: []any{bucketCond, []any{"eq", "$key", "meta"}, []any{"starts-with", "$Content-Type", "text/"},
				map[string]string{"x-amz-meta-color": "Blue"}, []any{"starts-with", "$Cache-Control", ""}},
			fields: []formField{{"KEY", "meta"}, {"content-type", "text/plain"}, {"X-Amz-Meta-Color", "Blue"}, {"Cache-Control", "no-cache"}, {"file", "m"}},
			status: 204, key: "meta",
			check: func(t *testing.T, e *env, _ *http.Response) {
				o := must[*s3.HeadObjectOutput](t)(e.s3.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(postBucket), Key: aws.String("meta")}))
				if aws.ToString(o.ContentType) != "text/plain" || o.Metadata["color"] != "Blue" || aws.ToString(o.CacheControl) != "no-cache" {
					t.Errorf("stored Content-Type %q, metadata %v, Cache-Control %q", aws.ToString(o.ContentType), o.Metadata, aws.ToString(o.CacheControl))
				}
			}},
		{name: "checksum field verified and stored",
			policy: []any{bucketCond, []any{"eq", "$key", "sum"}, []any{"starts-with", "$x-amz-checksum-sha256", ""}},
			fields: []formField{{"key", "sum"}, {"x-amz-checksum-sha256", shaB64}, {"file", "checked"}}, status: 204, key: "sum",
			check: func(t *testing.T, e *env, resp *http.Response) {
				if got := resp.Header.Get("x-amz-checksum-sha256"); got != shaB64 {
					t.Errorf("x-amz-checksum-sha256 = %q", got)
				}
			}},
		{name: "large file streamed", policy: []any{bucketCond, []any{"eq", "$key", "big"}, []any{"content-length-range", 1, 2 << 20}},
			fields: []formField{{"key", "big"}, {"file", big}}, status: 204, key: "big"},
		{name: "x-ignore field needs no condition and fields after the file are ignored",
			policy: []any{bucketCond, []any{"eq", "$key", "ign"}},
			fields: []formField{{"key", "ign"}, {"x-ignore-flash", "1"}, {"file", "i"}, {"submit", "Upload"}}, status: 204, key: "ign"},
		{name: "legacy SigV2 form", policy: []any{bucketCond, []any{"eq", "$key", "v2"}},
			fields: []formField{{"key", "v2"}, {"file", "two"}}, status: 204, key: "v2",
			sign: func(t *testing.T, p postPolicy) []formField { return signPostV2(t, testAccessKey, testSecretKey, p) }},

		{name: "expired policy", policy: []any{bucketCond, []any{"eq", "$key", "k"}},
			fields: []formField{{"key", "k"}, {"file", "x"}}, status: 403, code: "AccessDenied", message: "Policy expired",
			sign: func(t *testing.T, p postPolicy) []formField {
				p.expires = time.Now().Add(-time.Minute)
				return signPostV4(t, testAccessKey, testSecretKey, "us-east-1", time.Now(), p)
			}},
		{name: "bad signature", policy: []any{bucketCond, []any{"eq", "$key", "k"}},
			fields: []formField{{"key", "k"}, {"file", "x"}}, status: 403, code: "SignatureDoesNotMatch",
			sign: func(t *testing.T, p postPolicy) []formField {
				return signPostV4(t, testAccessKey, "not-the-secret", "us-east-1", time.Now(), p)
			}},
		{name: "unknown access key", policy: []any{bucketCond, []any{"eq", "$key", "k"}},
			fields: []formField{{"key", "k"}, {"file", "x"}}, status: 403, code: "InvalidAccessKeyId",
			sign: func(t *testing.T, p postPolicy) []formField {
				return signPostV4(t, "AKIANOBODY0000000000", testSecretKey, "us-east-1", time.Now(), p)
			}},
		{name: "credential for another region", policy: []any{bucketCond, []any{"eq", "$key", "k"}},
			fields: []formField{{"key", "k"}, {"file", "x"}}, status: 400, code: "InvalidArgument",
			sign: func(t *testing.T, p postPolicy) []formField {
				return signPostV4(t, testAccessKey, testSecretKey, "eu-west-1", time.Now(), p)
			}},
		{name: "eq condition fails", policy: []any{bucketCond, []any{"eq", "$key", "k"}},
			fields: []formField{{"key", "other"}, {"file", "x"}}, status: 403, code: "AccessDenied",
			message: `Invalid according to Policy: Policy Condition failed: ["eq", "$key", "k"]`},
		{name: "eq condition is case-sensitive", policy: []any{bucketCond, []any{"eq", "$key", "k"}, map[string]string{"x-amz-meta-a": "Yes"}},
			fields: []formField{{"key", "k"}, {"x-amz-meta-a", "yes"}, {"file", "x"}}, status: 403, code: "AccessDenied"},
		{name: "starts-with condition fails", policy: []any{bucketCond, []any{"starts-with", "$key", "user/"}},
			fields: []formField{{"key", "admin/x"}, {"file", "x"}}, status: 403, code: "AccessDenied"},
		{name: "Content-Type list must all match", policy: []any{bucketCond, []any{"eq", "$key", "k"}, []any{"starts-with", "$Content-Type", "image/"}},
			fields: []formField{{"key", "k"}, {"Content-Type", "image/png, text/html"}, {"file", "x"}}, status: 403, code: "AccessDenied"},
		{name: "wrong bucket condition", policy: []any{map[string]string{"bucket": "elsewhere"}, []any{"eq", "$key", "k"}},
			fields: []formField{{"key", "k"}, {"file", "x"}}, status: 403, code: "AccessDenied", message: `["eq", "$bucket", "elsewhere"]`},
		{name: "field not covered by a condition", policy: []any{bucketCond, []any{"eq", "$key", "k"}},
			fields: []formField{{"key", "k"}, {"x-amz-meta-extra", "1"}, {"file", "x"}}, status: 403, code: "AccessDenied",
			message: "Extra input fields: x-amz-meta-extra"},
		{name: "over content-length-range is not stored", policy: []any{bucketCond, []any{"eq", "$key", "over"}, []any{"content-length-range", 0, 100000}},
			fields: []formField{{"key", "over"}, {"file", big}}, status: 400, code: "EntityTooLarge",
			check: func(t *testing.T, e *env, _ *http.Response) { wantNoObject(t, e, "over") }},
		{name: "over a small content-length-range", policy: []any{bucketCond, []any{"eq", "$key", "over2"}, []any{"content-length-range", 0, 3}},
			fields: []formField{{"key", "over2"}, {"file", "four"}}, status: 400, code: "EntityTooLarge",
			check: func(t *testing.T, e *env, _ *http.Response) { wantNoObject(t, e, "over2") }},
		{name: "under content-length-range", policy: []any{bucketCond, []any{"eq", "$key", "under"}, []any{"content-length-range", 10, 100}},
			fields: []formField{{"key", "under"}, {"file", "tiny"}}, status: 400, code: "EntityTooSmall",
			check: func(t *testing.T, e *env, _ *http.Response) { wantNoObject(t, e, "under") }},
		{name: "missing key field", policy: []any{bucketCond},
			fields: []formField{{"file", "x"}}, status: 400, code: "InvalidArgument"},
		{name: "file missing", policy: []any{bucketCond, []any{"eq", "$key", "k"}},
			fields: []formField{{"key", "k"}}, status: 400, code: "InvalidArgument"},
		{name: "file not last: key after it is never read", policy: []any{bucketCond, []any{"eq", "$key", "k"}},
			fields: []formField{{"file", "x"}, {"key", "k"}}, status: 400, code: "InvalidArgument"},
		{name: "over-large form field", policy: []any{bucketCond, []any{"eq", "$key", "k"}, []any{"starts-with", "$x-amz-meta-big", ""}},
			fields: []formField{{"key", "k"}, {"x-amz-meta-big", strings.Repeat("b", 25<<10)}, {"file", "x"}}, status: 400, code: "MaxPostPreDataLengthExceededError"},
		{name: "over-large policy", policy: []any{bucketCond, []any{"eq", "$key", "k"}, []any{"starts-with", "$x-amz-meta-pad", strings.Repeat("p", 25<<10)}},
			fields: []formField{{"key", "k"}, {"file", "x"}}, status: 400, code: "MaxPostPreDataLengthExceededError"},
		{name: "tagging refused as on PutObject", policy: []any{bucketCond, []any{"eq", "$key", "k"}, []any{"starts-with", "$tagging", ""}},
			fields: []formField{{"key", "k"}, {"tagging", "<Tagging><TagSet/></Tagging>"}, {"file", "x"}}, status: 501, code: "NotImplemented"},
		{name: "public ACL refused as on PutObject", policy: []any{bucketCond, []any{"eq", "$key", "k"}, map[string]string{"acl": "public-read"}},
			fields: []formField{{"key", "k"}, {"acl", "public-read"}, {"file", "x"}}, status: 400, code: "AccessControlListNotSupported"},
		{name: "SSE-KMS field in a SigV2 form", policy: []any{bucketCond, []any{"eq", "$key", "k"}, map[string]string{"x-amz-server-side-encryption": "aws:kms"}},
			fields: []formField{{"key", "k"}, {"x-amz-server-side-encryption", "aws:kms"}, {"file", "x"}}, status: 400, code: "InvalidArgument",
			message: "require AWS Signature Version 4", sign: func(t *testing.T, p postPolicy) []formField { return signPostV2(t, testAccessKey, testSecretKey, p) }},
		{name: "SSE-C field over plain HTTP", http: true,
			policy: []any{bucketCond, []any{"eq", "$key", "k"}, []any{"starts-with", "$x-amz-server-side-encryption-customer-algorithm", ""}},
			fields: []formField{{"key", "k"}, {"x-amz-server-side-encryption-customer-algorithm", "AES256"}, {"file", "x"}}, status: 400, code: "InvalidRequest"},
		{name: "wrong checksum", policy: []any{bucketCond, []any{"eq", "$key", "bad"}, []any{"starts-with", "$x-amz-checksum-sha256", ""}},
			fields: []formField{{"key", "bad"}, {"x-amz-checksum-sha256", shaB64}, {"file", "not checked"}}, status: 400, code: "BadDigest",
			check: func(t *testing.T, e *env, _ *http.Response) { wantNoObject(t, e, "bad") }},
		{name: "Content-MD5 field verified", policy: []any{bucketCond, []any{"eq", "$key", "md5"}, []any{"starts-with", "$Content-MD5", ""}},
			fields: []formField{{"key", "md5"}, {"Content-MD5", md5b64("summed")}, {"file", "summed"}}, status: 204, key: "md5"},
		{name: "wrong Content-MD5 field is not stored", policy: []any{bucketCond, []any{"eq", "$key", "badmd5"}, []any{"starts-with", "$Content-MD5", ""}},
			fields: []formField{{"key", "badmd5"}, {"Content-MD5", md5b64("other")}, {"file", "summed"}}, status: 400, code: "BadDigest",
			check: func(t *testing.T, e *env, _ *http.Response) { wantNoObject(t, e, "badmd5") }},
		{name: "malformed Content-MD5 field", policy: []any{bucketCond, []any{"eq", "$key", "k"}, []any{"starts-with", "$Content-MD5", ""}},
			fields: []formField{{"key", "k"}, {"Content-MD5", "not-md5"}, {"file", "x"}}, status: 400, code: "InvalidDigest"},
		{name: "anonymous form", fields: []formField{{"key", "k"}, {"file", "x"}}, status: 403, code: "AccessDenied",
			sign: func(*testing.T, postPolicy) []formField { return nil }},
		{name: "signature field missing", policy: []any{bucketCond, []any{"eq", "$key", "k"}},
			fields: []formField{{"key", "k"}, {"file", "x"}}, status: 400, code: "InvalidArgument",
			sign: func(t *testing.T, p postPolicy) []formField {
				return signPostV4(t, testAccessKey, testSecretKey, "us-east-1", time.Now(), p)[:4]
			}},
		{name: "policy not JSON", fields: []formField{{"key", "k"}, {"file", "x"}}, status: 400, code: "InvalidPolicyDocument", message: "Invalid Policy: Invalid JSON.",
			sign: func(t *testing.T, p postPolicy) []formField {
				f := signPostV2(t, testAccessKey, testSecretKey, p)
				f[1].value = base64.StdEncoding.EncodeToString([]byte(`{"expiration": 1`))
				return signedV2(f, testSecretKey)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := postPolicy{expires: time.Now().Add(time.Hour), conditions: tc.policy}
			var auth []formField
			if tc.sign != nil {
				auth = tc.sign(t, p)
			} else {
				auth = signPostV4(t, testAccessKey, testSecretKey, "us-east-1", time.Now(), p)
			}
			body, ct := buildForm(t, append(auth, tc.fields...), tc.filename)
			base := e.srv.URL
			if tc.http {
				base = e.srv.HTTPURL
			}
			resp := e.postForm(t, base, postBucket, body, ct)
			if tc.code != "" {
				if re := wantRawError(t, resp, tc.code, tc.status); !strings.Contains(re.Message, tc.message) {
					t.Errorf("message %q does not say %q", re.Message, tc.message)
				}
			} else if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, mustRead(t, resp))
			}
			if tc.key != "" {
				file := fieldValue(tc.fields, "file")
				if got := resp.Header.Get("ETag"); got != etagOf(file) {
					t.Errorf("ETag %q, want %q", got, etagOf(file))
				}
				o := must[*s3.GetObjectOutput](t)(e.s3.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(postBucket), Key: aws.String(tc.key)}))
				if got := readAll(t, o.Body); got != file {
					t.Errorf("read back %d bytes, want %d", len(got), len(file))
				}
			}
			if tc.check != nil {
				tc.check(t, e, resp)
			}
		})
	}
}

// TestPostObjectRouting checks the requests around POST Object: other POSTs to a bucket still
// need a signature, and a signed one that is not a form is refused as S3 refuses it.
func TestPostObjectRouting(t *testing.T) {
	e := startServer(t)
	must[*s3.CreateBucketOutput](t)(e.s3.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String(postBucket)}))
	t.Run("signed POST that is not a form", func(t *testing.T) {
		resp := e.raw(t, http.MethodPost, "/"+postBucket, "a=b", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, nowUTC())
		wantRawError(t, resp, "PreconditionFailed", http.StatusPreconditionFailed)
	})
	t.Run("unsigned POST that is not a form", func(t *testing.T) {
		resp := e.postForm(t, e.srv.URL, postBucket, []byte("a=b"), "application/x-www-form-urlencoded")
		wantRawError(t, resp, "AccessDenied", http.StatusForbidden)
	})
	t.Run("form without a boundary", func(t *testing.T) {
		resp := e.postForm(t, e.srv.URL, postBucket, []byte("x"), "multipart/form-data")
		wantRawError(t, resp, "MalformedPOSTRequest", http.StatusBadRequest)
	})
	t.Run("virtual-host-style form", func(t *testing.T) {
		p := postPolicy{expires: time.Now().Add(time.Hour), conditions: []any{map[string]string{"bucket": postBucket}, []any{"eq", "$key", "vhost"}}}
		body, ct := buildForm(t, append(signPostV4(t, testAccessKey, testSecretKey, "us-east-1", time.Now(), p), formField{"key", "vhost"}, formField{"file", "v"}), "")
		resp := e.postForm(t, "https://"+postBucket+".localhost:"+portOf(strings.TrimPrefix(e.srv.URL, "https://")), "", body, ct)
		if resp.StatusCode != http.StatusNoContent || !strings.HasSuffix(resp.Header.Get("Location"), postBucket+".localhost:"+portOf(strings.TrimPrefix(e.srv.URL, "https://"))+"/vhost") {
			t.Fatalf("status %d, Location %q: %s", resp.StatusCode, resp.Header.Get("Location"), mustRead(t, resp))
		}
		o := must[*s3.GetObjectOutput](t)(e.s3.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(postBucket), Key: aws.String("vhost")}))
		if got := readAll(t, o.Body); got != "v" {
			t.Errorf("read back %q", got)
		}
	})
	t.Run("truncated form", func(t *testing.T) {
		p := postPolicy{expires: time.Now().Add(time.Hour), conditions: []any{map[string]string{"bucket": postBucket}, []any{"eq", "$key", "cut"}}}
		body, ct := buildForm(t, append(signPostV4(t, testAccessKey, testSecretKey, "us-east-1", time.Now(), p), formField{"key", "cut"}, formField{"file", strings.Repeat("z", 50000)}), "")
		resp := e.postForm(t, e.srv.URL, postBucket, body[:len(body)-200], ct)
		wantRawError(t, resp, "MalformedPOSTRequest", http.StatusBadRequest)
		wantNoObject(t, e, "cut")
	})
}

func wantNoObject(t *testing.T, e *env, key string) {
	t.Helper()
	_, err := e.s3.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(postBucket), Key: aws.String(key)})
	var nf *types.NotFound
	if err == nil || !errors.As(err, &nf) {
		t.Errorf("object %q: %v, want NotFound", key, err)
	}
}

func etagOf(s string) string {
	sum := md5.Sum([]byte(s))
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func fieldValue(fields []formField, name string) string {
	for _, f := range fields {
		if f.name == name {
			return f.value
		}
	}
	return ""
}

// signedV2 re-signs a SigV2 form whose policy a test replaced.
func signedV2(f []formField, sk string) []formField {
	f[2].value = base64.StdEncoding.EncodeToString(hmacSHA1([]byte(sk), []byte(f[1].value)))
	return f
}
