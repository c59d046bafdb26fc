package policy

import "testing"

func TestSmoke(t *testing.T) {
	p, err := Parse(`{"Version":"2012-10-17","Statement":[
	 {"Sid":"a","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:Get*","Resource":"arn:aws:s3:::b/home/${aws:username}/*"},
	 {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":false}}}]}`, ResourceKind)
	if err != nil {
		t.Fatal(err)
	}
	r := &Request{Principal: Principal{ARN: "arn:aws:iam::111122223333:user/alice", Account: "111122223333"},
		Action: "S3:GetObject", Resource: "arn:aws:s3:::b/home/alice/x",
		Context: map[string][]string{"aws:username": {"alice"}, "aws:securetransport": {"true"}}}
	if e := p.Evaluate(r); e != AllowAccount {
		t.Fatal(e)
	}
	r.Context["aws:securetransport"] = []string{"false"}
	if e := p.Evaluate(r); e != Deny {
		t.Fatal(e)
	}
}
