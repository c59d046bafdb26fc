package policy

import (
	"reflect"
	"testing"
)

// TestStatements checks the as-written view of a policy's statements.
func TestStatements(t *testing.T) {
	p := mustParse(t, `{"Version":"2012-10-17","Statement":[
		{"Sid":"Read","Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"Bool":{"aws:SecureTransport":"true"}}},
		{"Effect":"Deny","Principal":"*","NotAction":"s3:Get*","NotResource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}`, ResourceKind)
	want := []Statement{
		{Sid: "Read", Effect: Allow, Actions: []string{"s3:GetObject", "s3:GetObjectVersion"}, Resources: []string{"arn:aws:s3:::b/*"}, ConditionKeys: []string{"aws:sourceip", "aws:securetransport"}},
		{Effect: Deny, Actions: []string{"s3:Get*"}, NotAction: true, Resources: []string{"arn:aws:s3:::b", "arn:aws:s3:::b/*"}, NotResource: true},
	}
	if got := p.Statements(); !reflect.DeepEqual(got, want) {
		t.Errorf("Statements() =\n%+v\nwant\n%+v", got, want)
	}
	trust := mustParse(t, stmt(`"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"ec2.amazonaws.com"}`), TrustKind)
	if got := trust.Statements(); len(got) != 1 || got[0].Resources != nil {
		t.Errorf("trust Statements() = %+v, want one without resources", got)
	}
}
