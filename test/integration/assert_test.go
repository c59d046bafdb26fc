package integration

import (
	"errors"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// wantAPIError fails unless err is the S3 error code with the HTTP status.
func wantAPIError(t *testing.T, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %s (%d)", code, status)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want API error %s", err, code)
	}
	if code != "" && ae.ErrorCode() != code {
		t.Fatalf("got code %q (%v), want %q", ae.ErrorCode(), err, code)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("no HTTP response in %v", err)
	}
	if re.HTTPStatusCode() != status {
		t.Fatalf("got status %d (%v), want %d", re.HTTPStatusCode(), err, status)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
