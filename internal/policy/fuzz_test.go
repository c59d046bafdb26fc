package policy

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseEvaluate checks that Parse never panics on any document and that whatever it accepts
// evaluates (and decides, and answers IsPublic) without panicking. Seeds are every corpus
// policy, under each kind.
func FuzzParseEvaluate(f *testing.F) {
	seeds := 0
	dirs, err := os.ReadDir(corpusDir)
	if err != nil {
		f.Fatal(err)
	}
	for _, d := range dirs {
		doc, err := os.ReadFile(filepath.Join(corpusDir, d.Name(), "policy.json"))
		if err != nil {
			continue
		}
		for k := IdentityKind; k <= TrustKind; k++ {
			f.Add(string(doc), uint8(k), "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/a", "alice")
			seeds++
		}
	}
	// Shapes the corpus lacks: every operator family with qualifiers, variables and escapes.
	for _, doc := range []string{
		stmt(`"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username, 'x'}/${*}${?}${$}/*","Condition":{"ForAnyValue:StringLikeIfExists":{"s3:prefix":["${aws:username}/*","a?"]},"NumericLessThanEquals":{"s3:max-keys":"10"},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01"},"BinaryEquals":{"a:b":"aGk="},"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","::1"]},"ArnNotLike":{"aws:SourceArn":"arn:aws:*:*:*:x/*"},"Null":{"a:c":"false"}}`),
		stmt(`"Effect":"Deny","NotPrincipal":{"AWS":["111122223333","arn:aws:iam::111122223333:user/alice"]},"NotAction":"s3:Get*","NotResource":"arn:aws:s3:::b/*"`),
		stmt(`"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com","Federated":"x","CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"*","Resource":"*"`),
	} {
		f.Add(doc, uint8(ResourceKind), "s3:ListBucket", "arn:aws:s3:::b/alice/x", "alice")
		seeds++
	}
	if seeds < 30 {
		f.Fatalf("only %d seeds loaded from %s", seeds, corpusDir)
	}
	f.Fuzz(func(t *testing.T, doc string, kind uint8, action, resource, value string) {
		p, err := Parse(doc, Kind(kind%3))
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T, want *Error", err)
			}
			return
		}
		ctx := map[string][]string{
			"aws:username": {value}, "aws:sourceip": {value}, "aws:currenttime": {value},
			"s3:prefix": {value, value}, "aws:securetransport": {value}, "s3:max-keys": {value},
			"kms:encryptioncontextkeys": {}, "aws:sourcearn": {value},
		}
		principals := []Principal{
			{Anonymous: true},
			{ARN: "arn:aws:iam::111122223333:root", Account: "111122223333"},
			{ARN: "arn:aws:iam::111122223333:user/" + value, Account: "111122223333"},
			{ARN: "arn:aws:sts::444455556666:assumed-role/R/" + value, Account: "444455556666", RoleARN: "arn:aws:iam::444455556666:role/R"},
			{Service: value},
		}
		for _, pr := range principals {
			r := &Request{Principal: pr, Action: action, Resource: resource, Context: ctx}
			_ = p.Evaluate(r)
			_ = Decide(r, Inputs{Identity: []*Policy{p}, Session: []*Policy{p}, Resource: p, ResourceAccount: "111122223333", ResourceAuthoritative: kind&4 != 0})
		}
		_ = p.IsPublic()
	})
}
