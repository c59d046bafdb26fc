package sigv4

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestSessionTokenReachesLookup: the session token of temporary credentials, as the SDK sends
// it (x-amz-security-token header, X-Amz-Security-Token in a presigned URL), reaches Lookup,
// whose errors end verification and whose Owner comes back in Auth.
func TestSessionTokenReachesLookup(t *testing.T) {
	const token = "CofferST1session/token+with=odd&chars"
	creds := aws.Credentials{AccessKeyID: "ASIAEXAMPLE000000001", SecretAccessKey: sdkSecretKey, SessionToken: token}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	header := func(t *testing.T) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "http://example.com/b/k", nil)
		r.Header.Set("X-Amz-Content-Sha256", emptySHA256)
		if err := signer.SignHTTP(context.Background(), creds, r, emptySHA256, "s3", sdkRegion, signTime); err != nil {
			t.Fatal(err)
		}
		return r
	}
	presign := func(t *testing.T) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "http://example.com/b/k?X-Amz-Expires=900", nil)
		u, _, err := signer.PresignHTTP(context.Background(), creds, r, UnsignedPayload, "s3", sdkRegion, signTime)
		if err != nil {
			t.Fatal(err)
		}
		return httptest.NewRequest(http.MethodGet, u, nil)
	}
	cases := []struct {
		name    string
		req     func(*testing.T) *http.Request
		lookErr error
	}{
		{"header", header, nil},
		{"presigned", presign, nil},
		{"header, token refused", header, ErrInvalidToken},
		{"presigned, token expired", presign, ErrExpiredToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			v := &Verifier{Region: sdkRegion, Now: func() time.Time { return signTime },
				Lookup: func(_ context.Context, ak, tok string) (Credential, error) {
					got = tok
					if tc.lookErr != nil {
						return Credential{}, tc.lookErr
					}
					return Credential{Secret: []byte(sdkSecretKey), Owner: "owner of " + ak}, nil
				}}
			a, err := v.Verify(tc.req(t))
			if got != token {
				t.Errorf("Lookup got token %q, want %q", got, token)
			}
			if tc.lookErr != nil {
				wantClass(t, err, tc.lookErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Owner != "owner of ASIAEXAMPLE000000001" {
				t.Errorf("Owner = %v", a.Owner)
			}
		})
	}
}
