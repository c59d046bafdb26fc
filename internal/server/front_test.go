package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestFrontRecoversPanics: a handler's panic is logged at error level with the request id and
// answered 500 in the wire shape of the request; http.ErrAbortHandler passes through.
func TestFrontRecoversPanics(t *testing.T) {
	boom := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	cases := []struct {
		name   string
		target string
		want   string
	}{
		{"S3", "", "<Code>InternalError</Code>"},
		{"KMS", "TrentService.Encrypt", `"__type":"KMSInternalException"`},
		{"IAM", "iam", "<Code>ServiceFailure</Code>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			f := &front{s3: boom, kms: boom, iam: boom, log: slog.New(slog.NewTextHandler(&logs, nil))}
			r := httptest.NewRequest(http.MethodPost, "/b/k", nil)
			if tc.target == "iam" {
				r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIA/20261202/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00")
			} else if tc.target != "" {
				r.Header.Set("X-Amz-Target", tc.target)
			}
			w := httptest.NewRecorder()
			f.ServeHTTP(w, r)
			id := w.Header().Get("x-amz-request-id")
			if w.Code != 500 || !strings.Contains(w.Body.String(), tc.want) {
				t.Fatalf("status %d body %q, want 500 with %s", w.Code, w.Body, tc.want)
			}
			if l := logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, "request_id="+id) || !strings.Contains(l, "panic=boom") {
				t.Fatalf("log %q lacks the error level, request id or panic", l)
			}
		})
	}
	t.Run("abort passes through", func(t *testing.T) {
		abort := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
		f := &front{s3: abort, log: slog.New(slog.DiscardHandler)}
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Fatalf("recovered %v, want http.ErrAbortHandler", p)
			}
		}()
		f.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	})
}

// TestFrontRoutes: KMS by its target header, IAM and STS by the credential scope service of
// a header-signed or presigned request, S3 otherwise.
func TestFrontRoutes(t *testing.T) {
	cases := []struct {
		name, target, authz, query string
		want                       int
	}{
		{"unsigned", "", "", "", routeS3},
		{"s3 header", "", "AWS4-HMAC-SHA256 Credential=AKIAX/20261202/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00", "", routeS3},
		{"kms", "TrentService.Encrypt", "AWS4-HMAC-SHA256 Credential=AKIAX/20261202/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00", "", routeKMS},
		{"iam header", "", "AWS4-HMAC-SHA256 Credential=AKIAX/20261202/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00", "", routeIAM},
		{"sts header", "", "AWS4-HMAC-SHA256 Credential=AKIAX/20261202/eu-west-1/sts/aws4_request,SignedHeaders=host,Signature=00", "", routeIAM},
		{"sts presigned", "", "", "Action=GetCallerIdentity&X-Amz-Credential=AKIAX%2F20261202%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Signature=00", routeIAM},
		{"s3 presigned", "", "", "X-Amz-Credential=AKIAX%2F20261202%2Fus-east-1%2Fs3%2Faws4_request", routeS3},
		{"sigv2", "", "AWS AKIAX:c2lnbmF0dXJl", "", routeS3},
		{"garbage credential", "", "AWS4-HMAC-SHA256 Credential=iam", "", routeS3},
		{"object named iam", "", "", "", routeS3},
	}
	f := &front{s3: http.NotFoundHandler(), kms: http.NotFoundHandler(), iam: http.NotFoundHandler()}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/iam/sts?"+tc.query, nil)
			if tc.target != "" {
				r.Header.Set("X-Amz-Target", tc.target)
			}
			if tc.authz != "" {
				r.Header.Set("Authorization", tc.authz)
			}
			if got := f.route(r); got != tc.want {
				t.Fatalf("route = %d, want %d", got, tc.want)
			}
		})
	}
}

// FuzzScopeService: any Authorization header or query yields "" or a service name of lower-case
// letters, digits and dashes, and never panics.
func FuzzScopeService(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIAX/20261202/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00", "")
	f.Add("", "X-Amz-Credential=AKIAX%2F20261202%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Signature=00")
	f.Add("Credential=", "X-Amz-Credential=")
	f.Add("AWS AKIAX:sig", "a=b")
	f.Fuzz(func(t *testing.T, authz, query string) {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.URL.RawQuery = query
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		if s := scopeService(r); strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			t.Fatalf("scopeService = %q", s)
		}
	})
}
