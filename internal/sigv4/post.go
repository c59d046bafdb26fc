package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
)

// PostForm holds the authentication fields of a browser upload form (POST Object). A SigV4
// form has Algorithm, Credential, Date and Signature; a legacy SigV2 form has AccessKeyID and
// SignatureV2. Policy is the base64 policy exactly as sent: it is the string to sign.
type PostForm struct {
	Policy     string
	Algorithm  string // x-amz-algorithm
	Credential string // x-amz-credential
	Date       string // x-amz-date
	Signature  string // x-amz-signature, hex
	// SessionToken is x-amz-security-token, the session token of temporary credentials.
	SessionToken string

	AccessKeyID string // AWSAccessKeyId
	SignatureV2 string // signature, base64 HMAC-SHA1
}

// SigV2 reports whether the form is signed the legacy way.
func (f *PostForm) SigV2() bool {
	return f.Algorithm == "" && f.Credential == "" && f.Date == "" && f.Signature == ""
}

// VerifyPost authenticates a browser upload form posted to bucket: first the signature over
// the policy (SigV4: HMAC-SHA256 under the signing key of the credential scope, whose region
// and service are checked and whose date is that of x-amz-date; SigV2: HMAC-SHA1 under the
// secret key), then the policy itself, its expiry and every condition, against the form's
// fields (lower-case names; the key with ${filename} expanded). The policy is returned for its
// content-length range, which the caller enforces on the file as it streams.
func (v *Verifier) VerifyPost(ctx context.Context, f *PostForm, bucket string, fields map[string]string) (*Auth, *PostPolicy, error) {
	a, err := v.verifyPostSignature(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	p, err := DecodePostPolicy(f.Policy)
	if err != nil {
		return nil, nil, err
	}
	if err := p.Check(v.now(), bucket, fields); err != nil {
		return nil, nil, err
	}
	return a, p, nil
}

func (v *Verifier) verifyPostSignature(ctx context.Context, f *PostForm) (*Auth, error) {
	if f.SigV2() {
		return v.verifyPostV2(ctx, f)
	}
	if f.Algorithm != algorithm {
		return nil, fmt.Errorf("%w: x-amz-algorithm %.32q", ErrUnsupportedSignature, f.Algorithm)
	}
	cred, err := parseCredential(f.Credential, ErrPostFormMalformed)
	if err != nil {
		return nil, err
	}
	t, err := parseAmzDate(f.Date)
	if err != nil {
		return nil, fmt.Errorf("%w: x-amz-date must be in ISO 8601 basic format", ErrPostFormMalformed)
	}
	if err := v.checkScope(&cred, t, ErrPostFormMalformed); err != nil {
		return nil, err
	}
	sig, err := parseSignature(f.Signature, ErrPostFormMalformed)
	if err != nil {
		return nil, err
	}
	c, err := v.lookup(ctx, cred.accessKey, f.SessionToken)
	if err != nil {
		return nil, err
	}
	key := v.keys.signingKey(cred.accessKey, c.Secret, cred.date, cred.region, cred.service)
	sg := newSigner(key)
	clear(key[:])
	if !hmac.Equal(sg.sign([]byte(f.Policy)), sig[:]) {
		return nil, ErrSignatureDoesNotMatch
	}
	return &Auth{AccessKey: cred.accessKey, Owner: c.Owner, Service: cred.service, Region: cred.region, Date: t, DecodedLength: -1}, nil
}

func (v *Verifier) verifyPostV2(ctx context.Context, f *PostForm) (*Auth, error) {
	if v.Service != "" && v.Service != "s3" {
		return nil, fmt.Errorf("%w: signature version 2 is for s3 only", ErrUnsupportedSignature)
	}
	got, err := base64.StdEncoding.DecodeString(f.SignatureV2)
	if err != nil || len(got) != sha1.Size {
		return nil, ErrSignatureDoesNotMatch
	}
	c, err := v.lookup(ctx, f.AccessKeyID, f.SessionToken)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha1.New, c.Secret)
	mac.Write([]byte(f.Policy))
	if !hmac.Equal(mac.Sum(nil), got) {
		return nil, ErrSignatureDoesNotMatch
	}
	return &Auth{AccessKey: f.AccessKeyID, Owner: c.Owner, Service: "s3", Region: v.Region, SigV2: true, DecodedLength: -1}, nil
}
