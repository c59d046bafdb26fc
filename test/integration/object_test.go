package integration

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func newBucket(t *testing.T, e *env, name string) {
	t.Helper()
	if _, err := e.s3.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

func TestObjectPutGetHead(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "objects")
	body := randomBytes(1, 300_000)
	sum := md5.Sum(body)
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	put := must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{
		Bucket: aws.String("objects"), Key: aws.String("dir/file ü+=.bin"), Body: bytesReader(body),
		ContentType: aws.String("application/x-test"), ContentEncoding: aws.String("identity"),
		ContentDisposition: aws.String(`attachment; filename="f.bin"`), ContentLanguage: aws.String("de"),
		CacheControl: aws.String("max-age=60"), Expires: aws.Time(expires),
		Metadata: map[string]string{"color": "blue", "Mixed-Case": "v"},
	}))
	if *put.ETag != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Fatalf("PUT ETag %s, want MD5 %x", *put.ETag, sum)
	}
	if put.ChecksumCRC32 == nil {
		t.Fatal("PUT returned no CRC32 checksum although the SDK sent one")
	}

	t.Run("get", func(t *testing.T) {
		out := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("dir/file ü+=.bin")}))
		got := readAll(t, out.Body)
		if got != string(body) {
			t.Fatalf("body differs: %d bytes, want %d", len(got), len(body))
		}
		checks := map[string][2]string{
			"ETag":               {aws.ToString(out.ETag), *put.ETag},
			"ContentType":        {aws.ToString(out.ContentType), "application/x-test"},
			"ContentEncoding":    {aws.ToString(out.ContentEncoding), "identity"},
			"ContentDisposition": {aws.ToString(out.ContentDisposition), `attachment; filename="f.bin"`},
			"ContentLanguage":    {aws.ToString(out.ContentLanguage), "de"},
			"CacheControl":       {aws.ToString(out.CacheControl), "max-age=60"},
			"meta color":         {out.Metadata["color"], "blue"},
			"meta mixed-case":    {out.Metadata["mixed-case"], "v"},
			"checksum":           {aws.ToString(out.ChecksumCRC32), aws.ToString(put.ChecksumCRC32)},
		}
		for name, v := range checks {
			if v[0] != v[1] {
				t.Errorf("%s = %q, want %q", name, v[0], v[1])
			}
		}
		if aws.ToInt64(out.ContentLength) != int64(len(body)) {
			t.Errorf("ContentLength %d", aws.ToInt64(out.ContentLength))
		}
		if out.ExpiresString == nil || *out.ExpiresString != expires.Format(http.TimeFormat) {
			t.Errorf("Expires = %v", aws.ToString(out.ExpiresString))
		}
	})
	t.Run("head", func(t *testing.T) {
		out := must[*s3.HeadObjectOutput](t)(e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String("objects"), Key: aws.String("dir/file ü+=.bin")}))
		if aws.ToInt64(out.ContentLength) != int64(len(body)) || aws.ToString(out.ETag) != *put.ETag || out.Metadata["color"] != "blue" {
			t.Fatalf("head = len %d etag %s meta %v", aws.ToInt64(out.ContentLength), aws.ToString(out.ETag), out.Metadata)
		}
		if out.PartsCount != nil {
			t.Errorf("single-part HEAD reports PartsCount %d", *out.PartsCount)
		}
		_, err := e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String("objects"), Key: aws.String("nope")})
		wantAPIError(t, err, "NotFound", 404)
	})
	t.Run("get missing", func(t *testing.T) {
		_, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("nope")})
		wantAPIError(t, err, "NoSuchKey", 404)
	})
	t.Run("ranges", func(t *testing.T) {
		n := int64(len(body))
		for _, tc := range []struct {
			rng        string
			start, end int64 // inclusive
			status     int
		}{
			{"bytes=0-0", 0, 0, 206},
			{"bytes=10-99", 10, 99, 206},
			{"bytes=100-", 100, n - 1, 206},
			{"bytes=-500", n - 500, n - 1, 206},
			{"bytes=-999999999", 0, n - 1, 206},
			{"bytes=5-999999999", 5, n - 1, 206},
			{"bytes=9-3", 0, n - 1, 200}, // invalid: ignored
			{"bytes=0-1,5-6", 0, n - 1, 200},
			{"chunks=0-1", 0, n - 1, 200},
		} {
			t.Run(tc.rng, func(t *testing.T) {
				out, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("dir/file ü+=.bin"), Range: aws.String(tc.rng)})
				if err != nil {
					t.Fatal(err)
				}
				got := readAll(t, out.Body)
				if got != string(body[tc.start:tc.end+1]) {
					t.Fatalf("got %d bytes, want [%d,%d]", len(got), tc.start, tc.end)
				}
				if tc.status == 206 && aws.ToString(out.ContentRange) == "" {
					t.Fatal("no Content-Range on a partial response")
				}
				if tc.status == 200 && aws.ToString(out.ContentRange) != "" {
					t.Fatalf("Content-Range %s on a full response", *out.ContentRange)
				}
			})
		}
		for _, rng := range []string{"bytes=300000-", "bytes=400000-400010", "bytes=-0"} {
			_, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("dir/file ü+=.bin"), Range: aws.String(rng)})
			wantAPIError(t, err, "InvalidRange", 416)
		}
	})
	t.Run("conditionals", func(t *testing.T) {
		lm := must[*s3.HeadObjectOutput](t)(e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String("objects"), Key: aws.String("dir/file ü+=.bin")})).LastModified
		before, after := lm.Add(-time.Hour), lm.Add(time.Hour)
		in := func() *s3.GetObjectInput {
			return &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("dir/file ü+=.bin")}
		}
		cases := []struct {
			name   string
			mod    func(*s3.GetObjectInput)
			status int // 200, 304 or 412
		}{
			{"if-match hit", func(i *s3.GetObjectInput) { i.IfMatch = put.ETag }, 200},
			{"if-match star", func(i *s3.GetObjectInput) { i.IfMatch = aws.String("*") }, 200},
			{"if-match miss", func(i *s3.GetObjectInput) { i.IfMatch = aws.String(`"0123"`) }, 412},
			{"if-none-match hit", func(i *s3.GetObjectInput) { i.IfNoneMatch = put.ETag }, 304},
			{"if-none-match miss", func(i *s3.GetObjectInput) { i.IfNoneMatch = aws.String(`"0123"`) }, 200},
			{"if-modified-since before", func(i *s3.GetObjectInput) { i.IfModifiedSince = &before }, 200},
			{"if-modified-since after", func(i *s3.GetObjectInput) { i.IfModifiedSince = &after }, 304},
			{"if-unmodified-since after", func(i *s3.GetObjectInput) { i.IfUnmodifiedSince = &after }, 200},
			{"if-unmodified-since before", func(i *s3.GetObjectInput) { i.IfUnmodifiedSince = &before }, 412},
			{"if-match wins over unmodified-since", func(i *s3.GetObjectInput) { i.IfMatch = put.ETag; i.IfUnmodifiedSince = &before }, 200},
			{"if-none-match miss wins over modified-since", func(i *s3.GetObjectInput) {
				i.IfNoneMatch = aws.String(`"0123"`)
				i.IfModifiedSince = &after
			}, 200},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				i := in()
				tc.mod(i)
				out, err := e.s3.GetObject(c, i)
				switch tc.status {
				case 200:
					if err != nil {
						t.Fatal(err)
					}
					out.Body.Close()
				case 412:
					wantAPIError(t, err, "PreconditionFailed", 412)
				case 304:
					var re interface{ HTTPStatusCode() int }
					if !errors.As(err, &re) || re.HTTPStatusCode() != 304 {
						t.Fatalf("got %v, want 304", err)
					}
				}
			})
		}
	})
	t.Run("response overrides", func(t *testing.T) {
		out := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{
			Bucket: aws.String("objects"), Key: aws.String("dir/file ü+=.bin"),
			ResponseContentType: aws.String("text/plain"), ResponseContentDisposition: aws.String("inline"),
			ResponseCacheControl: aws.String("no-cache"), ResponseContentLanguage: aws.String("fr"),
			ResponseContentEncoding: aws.String("x-enc"), ResponseExpires: aws.Time(expires.Add(time.Hour)),
		}))
		out.Body.Close()
		if aws.ToString(out.ContentType) != "text/plain" || aws.ToString(out.ContentDisposition) != "inline" ||
			aws.ToString(out.CacheControl) != "no-cache" || aws.ToString(out.ContentLanguage) != "fr" || aws.ToString(out.ContentEncoding) != "x-enc" {
			t.Fatalf("overrides not applied: %s %s %s %s %s", aws.ToString(out.ContentType), aws.ToString(out.ContentDisposition),
				aws.ToString(out.CacheControl), aws.ToString(out.ContentLanguage), aws.ToString(out.ContentEncoding))
		}
	})
	t.Run("empty object", func(t *testing.T) {
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("objects"), Key: aws.String("empty"), Body: bytesReader(nil)}))
		out := must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("empty")}))
		if got := readAll(t, out.Body); got != "" || aws.ToString(out.ETag) != `"d41d8cd98f00b204e9800998ecf8427e"` {
			t.Fatalf("empty object: body %q etag %s", got, aws.ToString(out.ETag))
		}
	})
	t.Run("overwrite and delete", func(t *testing.T) {
		for _, v := range []string{"one", "two"} {
			must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("objects"), Key: aws.String("ow"), Body: stringsReader(v)}))
		}
		if got := readAll(t, must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("ow")})).Body); got != "two" {
			t.Fatalf("after overwrite got %q", got)
		}
		must[*s3.DeleteObjectOutput](t)(e.s3.DeleteObject(c, &s3.DeleteObjectInput{Bucket: aws.String("objects"), Key: aws.String("ow")}))
		must[*s3.DeleteObjectOutput](t)(e.s3.DeleteObject(c, &s3.DeleteObjectInput{Bucket: aws.String("objects"), Key: aws.String("ow")}))
		_, err := e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("ow")})
		wantAPIError(t, err, "NoSuchKey", 404)
	})
	t.Run("key too long", func(t *testing.T) {
		long := make([]byte, 1025)
		for i := range long {
			long[i] = 'k'
		}
		_, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("objects"), Key: aws.String(string(long)), Body: stringsReader("x")})
		wantAPIError(t, err, "KeyTooLongError", 400)
	})
	t.Run("metadata too large", func(t *testing.T) {
		big := make([]byte, 2100)
		for i := range big {
			big[i] = 'm'
		}
		_, err := e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("objects"), Key: aws.String("mt"), Body: stringsReader("x"), Metadata: map[string]string{"big": string(big)}})
		wantAPIError(t, err, "MetadataTooLarge", 400)
	})
}

func TestCopyObject(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "src")
	newBucket(t, e, "dst")
	body := randomBytes(2, 70_000)
	put := must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("src"), Key: aws.String("a b/c"), Body: bytesReader(body),
		ContentType: aws.String("text/x-src"), Metadata: map[string]string{"k": "src"}}))
	get := func(b, k string) *s3.GetObjectOutput {
		t.Helper()
		return must[*s3.GetObjectOutput](t)(e.s3.GetObject(c, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(k)}))
	}
	t.Run("copy keeps metadata", func(t *testing.T) {
		out := must[*s3.CopyObjectOutput](t)(e.s3.CopyObject(c, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy1"), CopySource: aws.String("src/a%20b/c")}))
		if aws.ToString(out.CopyObjectResult.ETag) != *put.ETag {
			t.Fatalf("copy ETag %s, want %s", aws.ToString(out.CopyObjectResult.ETag), *put.ETag)
		}
		g := get("dst", "copy1")
		if readAll(t, g.Body) != string(body) || aws.ToString(g.ContentType) != "text/x-src" || g.Metadata["k"] != "src" {
			t.Fatalf("copy lost data or metadata: %s %v", aws.ToString(g.ContentType), g.Metadata)
		}
	})
	t.Run("replace metadata", func(t *testing.T) {
		must[*s3.CopyObjectOutput](t)(e.s3.CopyObject(c, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy2"), CopySource: aws.String("src/a%20b/c"),
			MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("text/new"), Metadata: map[string]string{"k": "new"}}))
		g := get("dst", "copy2")
		g.Body.Close()
		if aws.ToString(g.ContentType) != "text/new" || g.Metadata["k"] != "new" {
			t.Fatalf("replace: %s %v", aws.ToString(g.ContentType), g.Metadata)
		}
	})
	t.Run("copy onto itself", func(t *testing.T) {
		_, err := e.s3.CopyObject(c, &s3.CopyObjectInput{Bucket: aws.String("src"), Key: aws.String("a b/c"), CopySource: aws.String("src/a%20b/c")})
		wantAPIError(t, err, "InvalidRequest", 400)
		must[*s3.CopyObjectOutput](t)(e.s3.CopyObject(c, &s3.CopyObjectInput{Bucket: aws.String("src"), Key: aws.String("a b/c"), CopySource: aws.String("src/a%20b/c"),
			MetadataDirective: types.MetadataDirectiveReplace, Metadata: map[string]string{"k": "self"}}))
		g := get("src", "a b/c")
		if readAll(t, g.Body) != string(body) || g.Metadata["k"] != "self" {
			t.Fatal("self copy with REPLACE lost data or metadata")
		}
	})
	t.Run("copy source conditions", func(t *testing.T) {
		etag := *must[*s3.HeadObjectOutput](t)(e.s3.HeadObject(c, &s3.HeadObjectInput{Bucket: aws.String("src"), Key: aws.String("a b/c")})).ETag
		past := time.Now().Add(-time.Hour)
		future := time.Now().Add(time.Hour)
		cases := []struct {
			name string
			mod  func(*s3.CopyObjectInput)
			ok   bool
		}{
			{"if-match hit", func(i *s3.CopyObjectInput) { i.CopySourceIfMatch = aws.String(etag) }, true},
			{"if-match miss", func(i *s3.CopyObjectInput) { i.CopySourceIfMatch = aws.String(`"beef"`) }, false},
			{"if-none-match hit", func(i *s3.CopyObjectInput) { i.CopySourceIfNoneMatch = aws.String(etag) }, false},
			{"if-modified-since future", func(i *s3.CopyObjectInput) { i.CopySourceIfModifiedSince = &future }, false},
			{"if-unmodified-since past", func(i *s3.CopyObjectInput) { i.CopySourceIfUnmodifiedSince = &past }, false},
			{"if-unmodified-since future", func(i *s3.CopyObjectInput) { i.CopySourceIfUnmodifiedSince = &future }, true},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				in := &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("cond"), CopySource: aws.String("src/a%20b/c")}
				tc.mod(in)
				_, err := e.s3.CopyObject(c, in)
				if tc.ok && err != nil {
					t.Fatal(err)
				}
				if !tc.ok {
					wantAPIError(t, err, "PreconditionFailed", 412)
				}
			})
		}
	})
	t.Run("missing source", func(t *testing.T) {
		_, err := e.s3.CopyObject(c, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("src/none")})
		wantAPIError(t, err, "NoSuchKey", 404)
		_, err = e.s3.CopyObject(c, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("nosrcbucket/none")})
		wantAPIError(t, err, "NoSuchBucket", 404)
	})
}

func TestDeleteObjects(t *testing.T) {
	e := startServer(t)
	c := ctx(t)
	newBucket(t, e, "del")
	for _, k := range []string{"a", "b", "c", "d"} {
		must[*s3.PutObjectOutput](t)(e.s3.PutObject(c, &s3.PutObjectInput{Bucket: aws.String("del"), Key: aws.String(k), Body: stringsReader(k)}))
	}
	ids := func(keys ...string) []types.ObjectIdentifier {
		var out []types.ObjectIdentifier
		for _, k := range keys {
			out = append(out, types.ObjectIdentifier{Key: aws.String(k)})
		}
		return out
	}
	out := must[*s3.DeleteObjectsOutput](t)(e.s3.DeleteObjects(c, &s3.DeleteObjectsInput{Bucket: aws.String("del"), Delete: &types.Delete{Objects: ids("a", "b", "missing")}}))
	if len(out.Deleted) != 3 || len(out.Errors) != 0 {
		t.Fatalf("verbose delete: %d deleted, %d errors", len(out.Deleted), len(out.Errors))
	}
	out = must[*s3.DeleteObjectsOutput](t)(e.s3.DeleteObjects(c, &s3.DeleteObjectsInput{Bucket: aws.String("del"), Delete: &types.Delete{Objects: ids("c"), Quiet: aws.Bool(true)}}))
	if len(out.Deleted) != 0 || len(out.Errors) != 0 {
		t.Fatalf("quiet delete reported %d deleted", len(out.Deleted))
	}
	left := must[*s3.ListObjectsV2Output](t)(e.s3.ListObjectsV2(c, &s3.ListObjectsV2Input{Bucket: aws.String("del")}))
	if len(left.Contents) != 1 || *left.Contents[0].Key != "d" {
		t.Fatalf("left after deletes: %+v", left.Contents)
	}
	body := "<Delete><Quiet>true</Quiet></Delete>"
	resp := e.raw(t, "POST", "/del?delete", body, map[string]string{"Content-MD5": md5b64(body)}, time.Now())
	wantRawError(t, resp, "MalformedXML", 400)
}
