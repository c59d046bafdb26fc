package policy

import "testing"

// TestResourceVariables checks policy variables and escapes in Resource and NotResource.
func TestResourceVariables(t *testing.T) {
	type ctx = map[string][]string
	tests := []struct {
		name     string
		resource string // the Resource element's JSON
		not      bool   // NotResource instead of Resource
		value    string // the request's resource
		context  ctx
		want     bool
	}{
		{"username", `"arn:aws:s3:::b/${aws:username}/*"`, false, "arn:aws:s3:::b/alice/x", ctx{"aws:username": {"alice"}}, true},
		{"username other", `"arn:aws:s3:::b/${aws:username}/*"`, false, "arn:aws:s3:::b/bob/x", ctx{"aws:username": {"alice"}}, false},
		{"userid", `"arn:aws:s3:::b/${aws:userid}"`, false, "arn:aws:s3:::b/AROAEXAMPLE:sess", ctx{"aws:userid": {"AROAEXAMPLE:sess"}}, true},
		{"principal account in the account field", `"arn:aws:kms:*:${aws:PrincipalAccount}:key/*"`, false, "arn:aws:kms:us-east-1:111122223333:key/k", ctx{"aws:principalaccount": {"111122223333"}}, true},
		{"two variables", `"arn:aws:s3:::${aws:PrincipalAccount}-${aws:username}/*"`, false, "arn:aws:s3:::111122223333-alice/k", ctx{"aws:principalaccount": {"111122223333"}, "aws:username": {"alice"}}, true},
		{"missing variable", `"arn:aws:s3:::b/${aws:username}/*"`, false, "arn:aws:s3:::b//x", ctx{}, false},
		{"missing variable in NotResource: statement does not apply", `"arn:aws:s3:::b/${aws:username}/*"`, true, "arn:aws:s3:::other/x", ctx{}, false},
		{"NotResource with variable", `"arn:aws:s3:::b/${aws:username}/*"`, true, "arn:aws:s3:::b/bob/x", ctx{"aws:username": {"alice"}}, true},
		{"NotResource with variable, own folder", `"arn:aws:s3:::b/${aws:username}/*"`, true, "arn:aws:s3:::b/alice/x", ctx{"aws:username": {"alice"}}, false},
		{"default value", `"arn:aws:s3:::b/${aws:username, 'anonymous'}/*"`, false, "arn:aws:s3:::b/anonymous/x", ctx{}, true},
		{"value with a star is literal", `"arn:aws:s3:::b/${aws:username}/*"`, false, "arn:aws:s3:::b/alice/x", ctx{"aws:username": {"*"}}, false},
		{"value with a star matches itself", `"arn:aws:s3:::b/${aws:username}/*"`, false, "arn:aws:s3:::b/*/x", ctx{"aws:username": {"*"}}, true},
		{"value with wildcard bytes fails", `"arn:aws:s3:::b/${s3:prefix}"`, false, "arn:aws:s3:::b/anything", ctx{"s3:prefix": {"\xff"}}, false},
		{"escaped star", `"arn:aws:s3:::b/${*}"`, false, "arn:aws:s3:::b/*", ctx{}, true},
		{"escaped star is not a wildcard", `"arn:aws:s3:::b/${*}"`, false, "arn:aws:s3:::b/x", ctx{}, false},
		{"escaped question mark and dollar", `"arn:aws:s3:::b/${?}${$}{x}"`, false, "arn:aws:s3:::b/?${x}", ctx{}, true},
		{"long expansion beyond the stack buffer", `"arn:aws:s3:::b/${aws:username}/*"`, false, "arn:aws:s3:::b/" + string(make([]byte, 300)) + "/x", ctx{"aws:username": {string(make([]byte, 300))}}, true},
		{"raw bytes in the request resource match a wildcard", `"arn:aws:s3:::b/*"`, false, "arn:aws:s3:::b/\xff\xfe", ctx{}, true},
		{"raw bytes are not a question mark's one character twice", `"arn:aws:s3:::b/?"`, false, "arn:aws:s3:::b/\xff\xfe", ctx{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			element := "Resource"
			if tt.not {
				element = "NotResource"
			}
			p := mustParse(t, stmt(`"Effect":"Allow","Action":"s3:*","`+element+`":`+tt.resource), IdentityKind)
			r := &Request{Principal: Principal{ARN: "arn:aws:iam::111122223333:user/alice", Account: "111122223333"}, Action: "s3:GetObject", Resource: tt.value, Context: tt.context}
			if got := p.Evaluate(r) == Allow; got != tt.want {
				t.Errorf("applies = %v, want %v", got, tt.want)
			}
		})
	}
}
