package sigv4

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCanonicalURI(t *testing.T) {
	tests := []struct {
		name, raw, s3, other string
	}{
		{"root", "/", "/", "/"},
		{"empty", "", "/", "/"},
		// Normalisation cases of the AWS test suite (get-slash, get-slashes,
		// get-relative, get-relative-relative, get-slash-dot-slash,
		// get-slash-pointless-dot, get-space); S3 keeps them verbatim.
		{"get-slash", "//", "//", "/"},
		{"get-slashes", "//example//", "//example//", "/example/"},
		{"get-relative", "/example/..", "/example/..", "/"},
		{"get-relative-relative", "/example1/example2/../..", "/example1/example2/../..", "/"},
		{"get-slash-dot-slash", "/./", "/./", "/"},
		{"get-slash-pointless-dot", "/./example", "/./example", "/example"},
		{"get-space", "/example%20space/", "/example%20space/", "/example%2520space/"},
		{"s3-dollar", "/test$file.text", "/test%24file.text", "/test%24file.text"},
		{"s3-lax-escapes", "/b/a+b=c!d*e'(f)", "/b/a%2Bb%3Dc%21d%2Ae%27%28f%29", "/b/a%2Bb%3Dc%21d%2Ae%27%28f%29"},
		{"s3-escaped-slash-in-key", "/b/a%2Fb", "/b/a%2Fb", "/b/a%252Fb"},
		{"s3-lowercase-escape", "/b/%e1%88%b4", "/b/%E1%88%B4", "/b/%25e1%2588%25b4"},
		{"unreserved", "/-._~azAZ09", "/-._~azAZ09", "/-._~azAZ09"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := appendS3URI(nil, tc.raw)
			if !ok || string(got) != tc.s3 {
				t.Errorf("s3: %q, %v; want %q", got, ok, tc.s3)
			}
			if got := string(appendNormalizedURI(nil, tc.raw)); got != tc.other {
				t.Errorf("other: %q; want %q", got, tc.other)
			}
		})
	}
	if _, ok := appendS3URI(nil, "/b/%zz"); ok {
		t.Error("bad escape accepted")
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"", ""},
		{"acl", "acl="},
		{"b=2&a=1&a=0", "a=0&a=1&b=2"},
		{"prefix=a+b%20c", "prefix=a%20b%20c"},
		{"k=%2B%3D%21%2A%7E", "k=%2B%3D%21%2A~"},
		{"%E1%88%B4=bar", "%E1%88%B4=bar"},
		{"x=1&&y", "x=1&y="},
		{"X-Amz-Signature=abc&z=1", "z=1"},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			params, ok := parseQuery(tc.raw)
			if !ok {
				t.Fatal("rejected")
			}
			if got := string(appendCanonicalQuery(nil, params, "X-Amz-Signature")); got != tc.want {
				t.Errorf("%q; want %q", got, tc.want)
			}
		})
	}
}

// TestServerSideHeaders checks the headers net/http takes out of r.Header.
func TestServerSideHeaders(t *testing.T) {
	chunked := wireRequest(t, "PUT", "/b/k", [][2]string{{"Host", "h.example:8080"}, {"Transfer-Encoding", "chunked"}, {"X-Multi", "a"}, {"X-Multi", " b  c "}}, "3\r\nabc\r\n0\r\n\r\n")
	plain := wireRequest(t, "PUT", "/b/k", [][2]string{{"Host", "h.example"}}, "abc")
	tests := []struct {
		name string
		r    *http.Request
		hdr  string
		want string
	}{
		{"host-with-port", chunked, "host", "host:h.example:8080\n"},
		{"transfer-encoding", chunked, "transfer-encoding", "transfer-encoding:chunked\n"},
		{"no-content-length-when-chunked", chunked, "content-length", "content-length:\n"},
		{"multi-value", chunked, "x-multi", "x-multi:a,b c\n"},
		{"content-length", plain, "content-length", "content-length:3\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(appendCanonicalHeaders(nil, tc.r, []string{tc.hdr})); got != tc.want {
				t.Errorf("%q; want %q", got, tc.want)
			}
		})
	}
}

func TestRequestDate(t *testing.T) {
	want := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		headers map[string]string
		class   error
	}{
		{"x-amz-date", map[string]string{"X-Amz-Date": "20130524T000000Z"}, nil},
		{"date-only", map[string]string{"Date": "Fri, 24 May 2013 00:00:00 GMT"}, nil},
		{"x-amz-date-wins", map[string]string{"X-Amz-Date": "20130524T000000Z", "Date": "Sat, 25 May 2013 00:00:00 GMT"}, nil},
		{"none", map[string]string{}, ErrMissingDate},
		{"bad-date", map[string]string{"Date": "tomorrow"}, ErrMissingDate},
		{"extended-format", map[string]string{"X-Amz-Date": "2013-05-24T00:00:00Z"}, ErrMissingDate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "http://h/", nil)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			got, err := requestDate(r)
			wantClass(t, err, tc.class)
			if err == nil && !got.Equal(want) {
				t.Errorf("date %v", got)
			}
		})
	}
}

func TestHeaderValueTrim(t *testing.T) {
	for in, want := range map[string]string{
		"  a   b   c  ":         "a b c",
		"\"a   b   c\"":         "\"a b c\"",
		"a\tb":                  "a\tb",
		"":                      "",
		strings.Repeat(" ", 10): "",
	} {
		if got := string(appendHeaderValue(nil, in)); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
}
