package sigv4

import (
	"errors"
	"net/http/httptest"
	"testing"
	"time"
)

// TestPresignedV2 checks the query-string example of AWS's S3 SigV2 documentation
// (RESTAuthentication, "Query string request authentication"): GET /johnsmith/photos/puppy.jpg,
// Expires 1175139620, signature NpgCjnDzrM+WFzoENXmpNDUsSn8=.
func TestPresignedV2(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	const good = "/johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620"
	verifier := func(now time.Time) *Verifier {
		return &Verifier{Region: "us-east-1", Now: func() time.Time { return now },
			Lookup: keys(map[string]string{"AKIAIOSFODNN7EXAMPLE": secret})}
	}
	before := time.Unix(1175139000, 0)
	cases := []struct {
		name   string
		target string
		now    time.Time
		want   error
	}{
		{"valid", good, before, nil},
		{"expired", good, time.Unix(1175139621, 0), ErrRequestExpired},
		{"other path", "/johnsmith/photos/kitten.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620", before, ErrSignatureDoesNotMatch},
		{"other expiry", "/johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139621", before, ErrSignatureDoesNotMatch},
		{"plus decoded as space", "/johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM+WFzoENXmpNDUsSn8%3D&Expires=1175139620", before, ErrSignatureDoesNotMatch},
		{"unknown key", "/johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIAOTHER&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620", before, ErrInvalidAccessKeyID},
		{"missing expires", "/johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D", before, ErrQueryMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.target, nil)
			r.Host = "s3.amazonaws.com"
			a, err := verifier(tc.now).Verify(r)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err == nil && (a.AccessKey != "AKIAIOSFODNN7EXAMPLE" || !a.Presigned || a.Service != "s3") {
				t.Fatalf("auth = %+v", a)
			}
		})
	}
	t.Run("not for kms", func(t *testing.T) {
		v := verifier(before)
		v.Service = "kms"
		if _, err := v.Verify(httptest.NewRequest("GET", good, nil)); !errors.Is(err, ErrUnsupportedSignature) {
			t.Fatalf("got %v", err)
		}
	})
}
