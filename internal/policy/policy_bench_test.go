package policy

import (
	"fmt"
	"strings"
	"testing"
)

// bench20 is a 20-statement bucket policy of the shapes users write: principals by ARN and by
// account, wildcard actions and resources, a policy variable, string, IP, Bool, Null and ARN
// conditions, and deny statements that do not match the benchmarked request.
func bench20() string {
	var b strings.Builder
	b.WriteString(`{"Version":"2012-10-17","Id":"bench","Statement":[`)
	for i := range 20 {
		if i > 0 {
			b.WriteByte(',')
		}
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, `{"Sid":"s%d","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:user/u%d","arn:aws:iam::444455556666:root"]},"Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":"arn:aws:s3:::bucket-%d/*"}`, i, i, i)
		case 1:
			fmt.Fprintf(&b, `{"Sid":"s%d","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bucket/*","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}}`, i)
		case 2:
			fmt.Fprintf(&b, `{"Sid":"s%d","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::bucket","arn:aws:s3:::bucket/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`, i)
		case 3:
			fmt.Fprintf(&b, `{"Sid":"s%d","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:List*","Resource":"arn:aws:s3:::bucket","Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*","shared/%d/*"]},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}}`, i, i)
		case 4:
			fmt.Fprintf(&b, `{"Sid":"s%d","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/private-%d/*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/admin-*"},"Null":{"aws:SourceVpce":"true"}}}`, i, i)
		}
	}
	b.WriteString(`]}`)
	return b.String()
}

func benchRequest() *Request {
	return &Request{
		Principal: Principal{ARN: "arn:aws:iam::111122223333:user/alice", Account: "111122223333"},
		Action:    "s3:GetObject",
		Resource:  "arn:aws:s3:::bucket/home/alice/photo.jpg",
		Context: map[string][]string{
			"aws:securetransport":             {"true"},
			"aws:sourceip":                    {"10.1.2.3"},
			"aws:username":                    {"alice"},
			"aws:principalarn":                {"arn:aws:iam::111122223333:user/alice"},
			"aws:principalaccount":            {"111122223333"},
			"s3:x-amz-server-side-encryption": {"aws:kms"},
		},
	}
}

// BenchmarkEvaluate20 is one evaluation of a 20-statement bucket policy: the per-request cost
// a bucket policy adds to an S3 request. It must not allocate.
func BenchmarkEvaluate20(b *testing.B) {
	p := mustParse(b, bench20(), ResourceKind)
	r := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		if p.Evaluate(r) == Deny {
			b.Fatal("unexpected deny")
		}
	}
}

// BenchmarkEvaluate20Variables is BenchmarkEvaluate20 for a listing, where the StringLike
// conditions with ${aws:username} are evaluated too.
func BenchmarkEvaluate20Variables(b *testing.B) {
	p := mustParse(b, bench20(), ResourceKind)
	r := benchRequest()
	r.Action, r.Resource = "s3:ListBucket", "arn:aws:s3:::bucket"
	r.Context["s3:prefix"] = []string{"home/alice/docs/"}
	b.ReportAllocs()
	for b.Loop() {
		if p.Evaluate(r) != AllowAccount {
			b.Fatal("want AllowAccount")
		}
	}
}

// BenchmarkDecide20 is a full decision: identity policy plus 20-statement bucket policy.
func BenchmarkDecide20(b *testing.B) {
	in := Inputs{
		Identity:        []*Policy{mustParse(b, stmt(`"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"arn:aws:s3:::bucket/*"`), IdentityKind)},
		Resource:        mustParse(b, bench20(), ResourceKind),
		ResourceAccount: "111122223333",
	}
	r := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		if !Decide(r, in).Allowed {
			b.Fatal("want allowed")
		}
	}
}

// BenchmarkParse20 is the one-time cost of compiling the 20-statement policy.
func BenchmarkParse20(b *testing.B) {
	doc := bench20()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(doc, ResourceKind); err != nil {
			b.Fatal(err)
		}
	}
}
