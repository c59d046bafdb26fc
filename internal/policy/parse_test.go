package policy

import (
	"errors"
	"strings"
	"testing"
)

// stmt wraps statement members in a 2012-10-17 document.
func stmt(members string) string {
	return `{"Version":"2012-10-17","Statement":{` + members + `}}`
}

const (
	allowAll  = `"Effect":"Allow","Action":"s3:*","Resource":"*"`
	anyone    = `"Principal":"*"`
	rootOfOne = `"Principal":{"AWS":"arn:aws:iam::111122223333:root"}`
)

// TestParseRefuses checks that invalid documents are refused whole, with AWS's message.
func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		kind Kind
		want string
	}{
		{"leading space is fine, then not JSON", ` x`, IdentityKind, "Policies must be valid JSON and the first byte must be '{'"},
		{"empty document", ``, IdentityKind, "Policies must be valid JSON and the first byte must be '{'"},
		{"not JSON", `Version: 2012-10-17`, IdentityKind, "Policies must be valid JSON and the first byte must be '{'"},
		{"a list", `[{"Effect":"Allow"}]`, IdentityKind, "Policies must be valid JSON and the first byte must be '{'"},
		{"trailing data", stmt(allowAll) + `{}`, IdentityKind, "This policy contains invalid Json"},
		{"truncated", `{"Statement":{`, IdentityKind, "This policy contains invalid Json"},
		{"trailing comma", `{"Statement":{` + allowAll + `},}`, IdentityKind, "This policy contains invalid Json"},
		{"duplicate key", `{"Statement":{` + allowAll + `},"Statement":{` + allowAll + `}}`, IdentityKind, "Duplicate field Statement"},
		{"duplicate statement key", stmt(allowAll + `,"Effect":"Deny"`), IdentityKind, "Duplicate field Effect"},
		{"duplicate condition operator", stmt(allowAll + `,"Condition":{"Bool":{"aws:SecureTransport":"true"},"Bool":{"aws:SecureTransport":"false"}}`), IdentityKind, "Duplicate field Bool"},
		{"duplicate condition key", stmt(allowAll + `,"Condition":{"Bool":{"aws:SecureTransport":"true","aws:SecureTransport":"false"}}`), IdentityKind, "Duplicate field aws:SecureTransport"},
		{"duplicate principal type", stmt(allowAll + `,"Principal":{"AWS":"111122223333","AWS":"*"}`), ResourceKind, "Invalid principal in policy"},
		{"operator in lower case", stmt(allowAll + `,"Condition":{"stringequals":{"aws:username":"a"}}`), IdentityKind, "Invalid Condition type : stringequals"},
		{"qualifier in lower case", stmt(allowAll + `,"Condition":{"forallvalues:StringEquals":{"aws:username":"a"}}`), IdentityKind, "Invalid Condition type : forallvalues:StringEquals"},
		{"IfExists in lower case", stmt(allowAll + `,"Condition":{"StringEqualsifexists":{"aws:username":"a"}}`), IdentityKind, "Invalid Condition type : StringEqualsifexists"},
		{"unknown top-level key", `{"Version":"2012-10-17","Foo":1,"Statement":{` + allowAll + `}}`, IdentityKind, "Unknown field Foo"},
		{"unknown statement key", stmt(allowAll + `,"Resources":"*"`), IdentityKind, "Unknown field Resources"},
		{"bad version", `{"Version":"2012-10-18","Statement":{` + allowAll + `}}`, IdentityKind, "The policy failed legacy parsing: invalid Version"},
		{"numeric version", `{"Version":2012,"Statement":{` + allowAll + `}}`, IdentityKind, "The policy failed legacy parsing: invalid Version"},
		{"no statement", `{"Version":"2012-10-17"}`, IdentityKind, "Missing required field Statement"},
		{"empty statement list", `{"Version":"2012-10-17","Statement":[]}`, IdentityKind, "Could not parse the policy: Statement is empty!"},
		{"statement is a string", `{"Version":"2012-10-17","Statement":"x"}`, IdentityKind, "Statement must be an object or a list of objects"},
		{"statement list holds a string", `{"Version":"2012-10-17","Statement":["x"]}`, IdentityKind, "Statement must be an object or a list of objects"},
		{"missing Effect", stmt(`"Action":"s3:*","Resource":"*"`), IdentityKind, "Missing required field Effect"},
		{"bad Effect", stmt(`"Effect":"allow","Action":"s3:*","Resource":"*"`), IdentityKind, "Invalid effect: allow"},
		{"Effect is a list", stmt(`"Effect":["Allow"],"Action":"s3:*","Resource":"*"`), IdentityKind, `Invalid effect: ["Allow"]`},
		{"missing Action", stmt(`"Effect":"Allow","Resource":"*"`), IdentityKind, "Missing required field Action"},
		{"Action and NotAction", stmt(allowAll + `,"NotAction":"s3:Get*"`), IdentityKind, "Statement can not contain both Action and NotAction"},
		{"action without service", stmt(`"Effect":"Allow","Action":"GetObject","Resource":"*"`), IdentityKind, "Policy has invalid action"},
		{"action with empty name", stmt(`"Effect":"Allow","Action":"s3:","Resource":"*"`), IdentityKind, "Policy has invalid action"},
		{"action with a space", stmt(`"Effect":"Allow","Action":"s3:Get Object","Resource":"*"`), IdentityKind, "Policy has invalid action"},
		{"action is a number", stmt(`"Effect":"Allow","Action":3,"Resource":"*"`), IdentityKind, "Policy has invalid action"},
		{"action list is empty", stmt(`"Effect":"Allow","Action":[],"Resource":"*"`), IdentityKind, "Policy has invalid action"},
		{"action list holds an object", stmt(`"Effect":"Allow","Action":[{}],"Resource":"*"`), IdentityKind, "Policy has invalid action"},
		{"missing Resource", stmt(`"Effect":"Allow","Action":"s3:*"`), IdentityKind, "Missing required field Resource"},
		{"resource not an ARN", stmt(`"Effect":"Allow","Action":"s3:*","Resource":"bucket/*"`), IdentityKind, "Policy has invalid resource"},
		{"resource with too few parts", stmt(`"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:bucket"`), IdentityKind, "Policy has invalid resource"},
		{"resource with unclosed variable", stmt(`"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username"`), IdentityKind, "Policy has invalid resource"},
		{"Resource and NotResource", stmt(allowAll + `,"NotResource":"*"`), IdentityKind, "Statement can not contain both Resource and NotResource"},
		{"Principal in an identity policy", stmt(allowAll + `,` + anyone), IdentityKind, "Policy document should not specify a principal."},
		{"NotPrincipal in an identity policy", stmt(allowAll + `,"NotPrincipal":"*"`), IdentityKind, "Policy document should not specify a principal."},
		{"missing Principal in a bucket policy", stmt(allowAll), ResourceKind, "Missing required field Principal"},
		{"missing Principal in a trust policy", stmt(`"Effect":"Allow","Action":"sts:AssumeRole"`), TrustKind, "Missing required field Principal"},
		{"Resource in a trust policy", stmt(allowAll + `,` + anyone), TrustKind, "Has prohibited field Resource"},
		{"NotPrincipal in a trust policy", stmt(`"Effect":"Deny","Action":"sts:AssumeRole","NotPrincipal":"*"`), TrustKind, "Has prohibited field NotPrincipal"},
		{"NotPrincipal with Allow", stmt(allowAll + `,"NotPrincipal":{"AWS":"111122223333"}`), ResourceKind, "NotPrincipal is supported only with Effect Deny"},
		{"Principal and NotPrincipal", stmt(`"Effect":"Deny","Action":"s3:*","Resource":"*",` + anyone + `,"NotPrincipal":"*"`), ResourceKind, "Statement can not contain both Principal and NotPrincipal"},
		{"principal string not star", stmt(allowAll + `,"Principal":"111122223333"`), ResourceKind, "Invalid principal in policy"},
		{"principal empty object", stmt(allowAll + `,"Principal":{}`), ResourceKind, "Invalid principal in policy"},
		{"principal unknown type", stmt(allowAll + `,"Principal":{"IAM":"*"}`), ResourceKind, "Invalid principal in policy"},
		{"principal short account", stmt(allowAll + `,"Principal":{"AWS":"11112222333"}`), ResourceKind, "Invalid principal in policy"},
		{"principal malformed ARN", stmt(allowAll + `,"Principal":{"AWS":"arn:aws:iam:111122223333:root"}`), ResourceKind, "Invalid principal in policy"},
		{"principal ARN with region", stmt(allowAll + `,"Principal":{"AWS":"arn:aws:iam:us-east-1:111122223333:root"}`), ResourceKind, "Invalid principal in policy"},
		{"principal wildcard user", stmt(allowAll + `,"Principal":{"AWS":"arn:aws:iam::111122223333:user/*"}`), ResourceKind, "Invalid principal in policy"},
		{"principal group", stmt(allowAll + `,"Principal":{"AWS":"arn:aws:iam::111122223333:group/admins"}`), ResourceKind, "Invalid principal in policy"},
		{"principal s3 ARN", stmt(allowAll + `,"Principal":{"AWS":"arn:aws:s3:::bucket"}`), ResourceKind, "Invalid principal in policy"},
		{"principal session without name", stmt(allowAll + `,"Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/R"}`), ResourceKind, "Invalid principal in policy"},
		{"principal service star", stmt(allowAll + `,"Principal":{"Service":"*"}`), ResourceKind, "Invalid principal in policy"},
		{"principal canonical user not hex", stmt(allowAll + `,"Principal":{"CanonicalUser":"abc"}`), ResourceKind, "Invalid principal in policy"},
		{"principal value a number", stmt(allowAll + `,"Principal":{"AWS":111122223333}`), ResourceKind, "Invalid principal in policy"},
		{"unknown condition operator", stmt(allowAll + `,"Condition":{"StringEqualz":{"aws:username":"a"}}`), IdentityKind, "Invalid Condition type : StringEqualz"},
		{"unknown set qualifier", stmt(allowAll + `,"Condition":{"ForSomeValues:StringEquals":{"aws:username":"a"}}`), IdentityKind, "Invalid Condition type : ForSomeValues:StringEquals"},
		{"NullIfExists", stmt(allowAll + `,"Condition":{"NullIfExists":{"aws:username":"true"}}`), IdentityKind, "Invalid Condition type : NullIfExists"},
		{"condition is a list", stmt(allowAll + `,"Condition":[]`), IdentityKind, "Condition must be an object"},
		{"condition block is a string", stmt(allowAll + `,"Condition":{"StringEquals":"x"}`), IdentityKind, "Condition block StringEquals must be an object"},
		{"condition key without vendor", stmt(allowAll + `,"Condition":{"StringEquals":{"username":"a"}}`), IdentityKind, "Policy has an invalid condition key"},
		{"condition value an object", stmt(allowAll + `,"Condition":{"StringEquals":{"aws:username":{}}}`), IdentityKind, "Invalid Condition value for key aws:username"},
		{"condition value null", stmt(allowAll + `,"Condition":{"StringEquals":{"aws:username":null}}`), IdentityKind, "Invalid Condition value for key aws:username"},
		{"condition values empty", stmt(allowAll + `,"Condition":{"StringEquals":{"aws:username":[]}}`), IdentityKind, "Invalid Condition value for key aws:username"},
		{"numeric value not a number", stmt(allowAll + `,"Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}`), IdentityKind, `Invalid Condition value "ten" for NumericLessThan`},
		{"numeric value NaN", stmt(allowAll + `,"Condition":{"NumericLessThan":{"s3:max-keys":"NaN"}}`), IdentityKind, `Invalid Condition value "NaN" for NumericLessThan`},
		{"date value not a date", stmt(allowAll + `,"Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}`), IdentityKind, `Invalid Condition value "tomorrow" for DateLessThan`},
		{"bool value not a bool", stmt(allowAll + `,"Condition":{"Bool":{"aws:SecureTransport":"yes"}}`), IdentityKind, `Invalid Condition value "yes" for Bool`},
		{"ip value not an address", stmt(allowAll + `,"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.300/8"}}`), IdentityKind, `Invalid Condition value "10.0.0.300/8" for IpAddress`},
		{"binary value not base64", stmt(allowAll + `,"Condition":{"BinaryEquals":{"x:y":"!!"}}`), IdentityKind, `Invalid Condition value "!!" for BinaryEquals`},
		{"null value not a bool", stmt(allowAll + `,"Condition":{"Null":{"x:y":"maybe"}}`), IdentityKind, `Invalid Condition value "maybe" for Null`},
		{"bad variable in condition", stmt(allowAll + `,"Condition":{"StringEquals":{"x:y":"${}"}}`), IdentityKind, `Invalid Condition value "${}" for StringEquals`},
		{"bad default in variable", stmt(allowAll + `,"Condition":{"StringEquals":{"x:y":"${aws:username, anon}"}}`), IdentityKind, `Invalid Condition value "${aws:username, anon}" for StringEquals`},
		{"Sid not a string", stmt(allowAll + `,"Sid":1`), IdentityKind, "Statement ID (SID) must be a string"},
		{"IAM Sid not alphanumeric", stmt(allowAll + `,"Sid":"my sid"`), IdentityKind, "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"},
		{"duplicate Sid", `{"Statement":[{"Sid":"a",` + allowAll + `},{"Sid":"a",` + allowAll + `}]}`, IdentityKind, "Statement IDs (SID) in a single policy must be unique"},
		{"Id not a string", `{"Id":1,"Statement":{` + allowAll + `}}`, IdentityKind, "Policy Id must be a string"},
		{"second statement bad: whole document refused", `{"Statement":[{` + allowAll + `},{"Effect":"Allow","Action":"s3","Resource":"*"}]}`, IdentityKind, "Policy has invalid action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.doc, tt.kind)
			if p != nil {
				t.Fatalf("Parse returned a policy with error %v", err)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			if pe.Message != tt.want {
				t.Errorf("message %q, want %q", pe.Message, tt.want)
			}
			if want := reasonOf(tt.want); pe.Reason != want {
				t.Errorf("reason %v, want %v", pe.Reason, want)
			}
		})
	}
}

// TestParseAccepts checks the forms AWS allows: strings or lists, one statement or a list, no
// Version, every principal form, every operator spelling.
func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		kind Kind
	}{
		{"no version", `{"Statement":{` + allowAll + `}}`, IdentityKind},
		{"2008 version", `{"Version":"2008-10-17","Statement":{` + allowAll + `}}`, IdentityKind},
		{"statement list", `{"Version":"2012-10-17","Id":"x","Statement":[{` + allowAll + `},{"Sid":"b","Effect":"Deny","Action":["s3:Put*","s3:Delete?bject"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}`, IdentityKind},
		{"action star", stmt(`"Effect":"Allow","Action":"*","Resource":"*"`), IdentityKind},
		{"NotAction NotResource", stmt(`"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:s3:::b/*"`), IdentityKind},
		{"bucket policy Sid with spaces", stmt(allowAll + `,"Sid":"Allow use of the key",` + anyone), ResourceKind},
		{"principal AWS star", stmt(allowAll + `,"Principal":{"AWS":"*"}`), ResourceKind},
		{"principal account id", stmt(allowAll + `,"Principal":{"AWS":"111122223333"}`), ResourceKind},
		{"principal list of ARNs", stmt(allowAll + `,"Principal":{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:user/path/to/alice","arn:aws:iam::111122223333:role/service-role/R","arn:aws:sts::111122223333:assumed-role/R/sess@example.com","arn:aws:sts::111122223333:federated-user/bob"]}`), ResourceKind},
		{"principal other partition", stmt(allowAll + `,"Principal":{"AWS":"arn:aws-cn:iam::111122223333:root"}`), ResourceKind},
		{"principal service", stmt(allowAll + `,"Principal":{"Service":["s3.amazonaws.com","logging.s3.amazonaws.com"]}`), ResourceKind},
		{"principal federated", stmt(`"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Principal":{"Federated":"cognito-identity.amazonaws.com"}`), TrustKind},
		{"principal canonical user", stmt(allowAll + `,"Principal":{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}`), ResourceKind},
		{"NotPrincipal with Deny", stmt(`"Effect":"Deny","Action":"s3:*","Resource":"*","NotPrincipal":{"AWS":["111122223333","arn:aws:iam::111122223333:user/a"]}`), ResourceKind},
		{"every operator", stmt(allowAll + `,"Condition":{
			"StringEquals":{"a:b":"x"},"StringNotEquals":{"a:b":["x","y"]},"StringEqualsIgnoreCase":{"a:b":"x"},
			"StringNotEqualsIgnoreCase":{"a:b":"x"},"StringLike":{"a:b":"x*"},"StringNotLike":{"a:b":"x?"},
			"NumericEquals":{"a:b":1},"NumericNotEquals":{"a:b":"1"},"NumericLessThan":{"a:b":1.5},"NumericLessThanEquals":{"a:b":-2},
			"NumericGreaterThan":{"a:b":"3"},"NumericGreaterThanEquals":{"a:b":3},
			"DateEquals":{"a:b":"2020-01-01T00:00:00Z"},"DateNotEquals":{"a:b":"2020-01-01"},"DateLessThan":{"a:b":1577836800},
			"DateLessThanEquals":{"a:b":"2020-01-01T00:00Z"},"DateGreaterThan":{"a:b":"2020-01-01T00:00:00.123+01:00"},"DateGreaterThanEquals":{"a:b":"1577836800"},
			"Bool":{"a:b":true},"BinaryEquals":{"a:b":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="},
			"IpAddress":{"a:b":["10.0.0.0/8","2001:DB8::/32","192.0.2.1"]},"NotIpAddress":{"a:b":"::1"},
			"ArnEquals":{"a:b":"arn:aws:s3:::b"},"ArnLike":{"a:b":"arn:aws:s3:::b/*"},"ArnNotEquals":{"a:b":"arn:*:*:*:*:*"},"ArnNotLike":{"a:b":"*"},
			"Null":{"a:b":"true"},
			"StringEqualsIfExists":{"a:b":"x"},"ForAllValues:StringLike":{"a:c":"x"},"ForAnyValue:StringNotEquals":{"a:c":"x"},
			"ForAnyValue:NumericLessThanIfExists":{"a:c":"1"}}`), IdentityKind},
		{"variables and escapes", stmt(`"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/${*}${?}${$}/${aws:userid, 'anonymous'}"`), IdentityKind},
		{"trust without resource", stmt(`"Effect":"Allow","Action":"sts:AssumeRole",` + rootOfOne), TrustKind},
		{"key policy", stmt(`"Effect":"Allow","Action":"kms:*","Resource":"*",` + rootOfOne), ResourceKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.doc, tt.kind)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if p.Kind() != tt.kind {
				t.Errorf("Kind() = %v, want %v", p.Kind(), tt.kind)
			}
		})
	}
}

// TestErrorMessage checks that *Error prints its message only.
func TestErrorMessage(t *testing.T) {
	_, err := Parse(`{}`, IdentityKind)
	if err == nil || err.Error() != "Missing required field Statement" || strings.Contains(err.Error(), "policy:") {
		t.Fatalf("error %v", err)
	}
}

// reasonOf is the Reason each message is classified as.
func reasonOf(msg string) Reason {
	for _, r := range []struct {
		prefix string
		reason Reason
	}{
		{"Policies must be valid JSON", ReasonSyntax}, {"This policy contains invalid Json", ReasonSyntax},
		{"Duplicate field", ReasonSyntax}, {"Statement must be", ReasonSyntax}, {"Policy Id", ReasonSyntax},
		{"Unknown field", ReasonUnknownField}, {"Missing required field", ReasonMissingField},
		{"Could not parse the policy", ReasonMissingField}, {"The policy failed legacy", ReasonVersion},
		{"Statement ID", ReasonSid}, {"Invalid effect", ReasonEffect},
		{"Policy document should not specify", ReasonProhibitedField}, {"Has prohibited field", ReasonProhibitedField},
		{"Statement can not contain both Principal", ReasonPrincipal}, {"NotPrincipal", ReasonPrincipal}, {"Invalid principal", ReasonPrincipal},
		{"Statement can not contain both Action", ReasonAction}, {"Policy has invalid action", ReasonAction},
		{"Statement can not contain both Resource", ReasonResource}, {"Policy has invalid resource", ReasonResource},
	} {
		if strings.HasPrefix(msg, r.prefix) {
			return r.reason
		}
	}
	return ReasonCondition
}
