package integration

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

type staticCreds struct{}

func (staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecretKey, Source: "test"}, nil
}

type httpClient struct{ tr *http.Transport }

func (h *httpClient) Do(r *http.Request) (*http.Response, error) { return h.tr.RoundTrip(r) }

func asError[T error](err error, target *T) bool { return errors.As(err, target) }
