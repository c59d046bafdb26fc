package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// The worked example of AWS's "Example: Browser-Based Upload using HTTP POST (Using AWS
// Signature Version 4)": its policy, as base64, and the signature AWS computed for it.
const (
	awsPostPolicy    = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9"
	awsPostSignature = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
	awsPostAccessKey = "AKIAIOSFODNN7EXAMPLE"
	awsPostSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	awsPostCred      = "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"
)

// awsPostFields are the example form's fields, the key with ${filename} expanded.
func awsPostFields() map[string]string {
	return map[string]string{
		"key": "user/user1/photo.jpg", "acl": "public-read",
		"success_action_redirect": "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html",
		"content-type":            "image/jpeg", "x-amz-meta-uuid": "14365123651274",
		"x-amz-server-side-encryption": "AES256", "x-amz-credential": awsPostCred,
		"x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-date": "20151229T000000Z", "x-amz-meta-tag": "",
		"policy": awsPostPolicy, "x-amz-signature": awsPostSignature,
	}
}

func awsPostForm() *PostForm {
	return &PostForm{Policy: awsPostPolicy, Algorithm: algorithm, Credential: awsPostCred, Date: "20151229T000000Z", Signature: awsPostSignature}
}

func TestVerifyPost(t *testing.T) {
	v2sig := func(secret, policy string) string {
		m := hmac.New(sha1.New, []byte(secret))
		m.Write([]byte(policy))
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	cases := []struct {
		name   string
		now    string
		form   func(*PostForm)
		fields func(map[string]string)
		bucket string
		want   error
	}{
		{name: "AWS example verifies", now: "20151229T120000Z"},
		{name: "SigV2 form", now: "20151229T120000Z", form: func(f *PostForm) {
			*f = PostForm{Policy: awsPostPolicy, AccessKeyID: awsPostAccessKey, SignatureV2: v2sig(awsPostSecret, awsPostPolicy)}
		}},
		{name: "SigV2 wrong signature", now: "20151229T120000Z", want: ErrSignatureDoesNotMatch, form: func(f *PostForm) {
			*f = PostForm{Policy: awsPostPolicy, AccessKeyID: awsPostAccessKey, SignatureV2: v2sig("other", awsPostPolicy)}
		}},
		{name: "signature of another policy", now: "20151229T120000Z", want: ErrSignatureDoesNotMatch,
			form: func(f *PostForm) { f.Policy = strings.Replace(f.Policy, "eyAi", "eyAJ", 1) }},
		{name: "signature not hex", now: "20151229T120000Z", want: ErrPostFormMalformed,
			form: func(f *PostForm) { f.Signature = "zz" }},
		{name: "unknown access key", now: "20151229T120000Z", want: ErrInvalidAccessKeyID,
			form: func(f *PostForm) {
				f.Credential = strings.Replace(f.Credential, "AKIAIOSFODNN7EXAMPLE", "AKIANOBODY", 1)
			}},
		{name: "another region", now: "20151229T120000Z", want: ErrPostFormMalformed,
			form: func(f *PostForm) { f.Credential = strings.Replace(f.Credential, "us-east-1", "eu-west-1", 1) }},
		{name: "scope date not that of x-amz-date", now: "20151229T120000Z", want: ErrPostFormMalformed,
			form: func(f *PostForm) { f.Date = "20151228T000000Z" }},
		{name: "unsupported algorithm", now: "20151229T120000Z", want: ErrUnsupportedSignature,
			form: func(f *PostForm) { f.Algorithm = "AWS4-ECDSA-P256-SHA256" }},
		{name: "expired", now: "20151230T120000Z", want: ErrPolicyExpired},
		{name: "starts-with fails", now: "20151229T120000Z", want: ErrPolicyCondition,
			fields: func(m map[string]string) { m["key"] = "user/user2/photo.jpg" }},
		{name: "eq fails on case", now: "20151229T120000Z", want: ErrPolicyCondition,
			fields: func(m map[string]string) { m["acl"] = "Public-Read" }},
		{name: "bucket differs", now: "20151229T120000Z", want: ErrPolicyCondition, bucket: "otherbucket"},
		{name: "absent field fails its eq condition", now: "20151229T120000Z", want: ErrPolicyCondition,
			fields: func(m map[string]string) { delete(m, "x-amz-meta-uuid") }},
		{name: "field no condition covers", now: "20151229T120000Z", want: ErrPolicyExtraField,
			fields: func(m map[string]string) { m["x-amz-meta-other"] = "1" }},
		{name: "x-ignore field", now: "20151229T120000Z", fields: func(m map[string]string) { m["x-ignore-flash"] = "1" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := &Verifier{Region: "us-east-1", Service: "s3", Lookup: keys(map[string]string{awsPostAccessKey: awsPostSecret}), Now: fixedNow(t, tc.now)}
			f := awsPostForm()
			if tc.form != nil {
				tc.form(f)
			}
			fields := awsPostFields()
			if tc.fields != nil {
				tc.fields(fields)
			}
			bucket := "sigv4examplebucket"
			if tc.bucket != "" {
				bucket = tc.bucket
			}
			a, p, err := v.VerifyPost(context.Background(), f, bucket, fields)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.AccessKey != awsPostAccessKey || len(p.Conditions) != 11 {
				t.Errorf("auth %+v, %d conditions", a, len(p.Conditions))
			}
		})
	}
}
