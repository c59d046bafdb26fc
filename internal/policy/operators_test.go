package policy

import "testing"

// TestConditionOperators evaluates one condition block against request contexts: whether the
// statement applies (true) or not.
func TestConditionOperators(t *testing.T) {
	type ctx = map[string][]string
	tests := []struct {
		name      string
		condition string // the Condition element's JSON
		context   ctx    // lower-cased keys, as Request.Context holds them
		want      bool
	}{
		// String operators.
		{"StringEquals matches", `{"StringEquals":{"s3:prefix":"home/"}}`, ctx{"s3:prefix": {"home/"}}, true},
		{"StringEquals differs", `{"StringEquals":{"s3:prefix":"home/"}}`, ctx{"s3:prefix": {"home"}}, false},
		{"StringEquals is case-sensitive", `{"StringEquals":{"s3:prefix":"home/"}}`, ctx{"s3:prefix": {"HOME/"}}, false},
		{"StringEquals values are ORed", `{"StringEquals":{"s3:prefix":["a","home/"]}}`, ctx{"s3:prefix": {"home/"}}, true},
		{"StringEquals star is literal", `{"StringEquals":{"s3:prefix":"home/*"}}`, ctx{"s3:prefix": {"home/x"}}, false},
		{"StringEquals missing key", `{"StringEquals":{"s3:prefix":"home/"}}`, ctx{}, false},
		{"StringEquals empty value list is missing", `{"StringEquals":{"s3:prefix":""}}`, ctx{"s3:prefix": {}}, false},
		{"StringEquals empty string value", `{"StringEquals":{"s3:prefix":""}}`, ctx{"s3:prefix": {""}}, true},
		{"StringEquals number value", `{"StringEquals":{"s3:max-keys":10}}`, ctx{"s3:max-keys": {"10"}}, true},
		{"StringEquals key is case-insensitive", `{"StringEquals":{"S3:Prefix":"home/"}}`, ctx{"s3:prefix": {"home/"}}, true},
		{"StringEquals multivalued request without qualifier matches any", `{"StringEquals":{"aws:tagkeys":"a"}}`, ctx{"aws:tagkeys": {"b", "a"}}, true},
		{"StringNotEquals differs", `{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}`, ctx{"s3:x-amz-server-side-encryption": {"AES256"}}, true},
		{"StringNotEquals equal", `{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}`, ctx{"s3:x-amz-server-side-encryption": {"aws:kms"}}, false},
		{"StringNotEquals equal to one of the values", `{"StringNotEquals":{"a:b":["x","y"]}}`, ctx{"a:b": {"y"}}, false},
		{"StringNotEquals missing key holds", `{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}`, ctx{}, true},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"a:b":"AbC"}}`, ctx{"a:b": {"aBc"}}, true},
		{"StringEqualsIgnoreCase differs", `{"StringEqualsIgnoreCase":{"a:b":"AbC"}}`, ctx{"a:b": {"aBd"}}, false},
		{"StringNotEqualsIgnoreCase equal", `{"StringNotEqualsIgnoreCase":{"a:b":"AbC"}}`, ctx{"a:b": {"ABC"}}, false},
		{"StringNotEqualsIgnoreCase missing", `{"StringNotEqualsIgnoreCase":{"a:b":"AbC"}}`, ctx{}, true},
		{"StringLike star", `{"StringLike":{"s3:prefix":"home/*"}}`, ctx{"s3:prefix": {"home/a/b"}}, true},
		{"StringLike star matches nothing", `{"StringLike":{"s3:prefix":"home/*"}}`, ctx{"s3:prefix": {"home/"}}, true},
		{"StringLike question mark", `{"StringLike":{"a:b":"a?c"}}`, ctx{"a:b": {"abc"}}, true},
		{"StringLike question mark needs one character", `{"StringLike":{"a:b":"a?c"}}`, ctx{"a:b": {"ac"}}, false},
		{"StringLike question mark is one rune", `{"StringLike":{"a:b":"caf?"}}`, ctx{"a:b": {"café"}}, true},
		{"StringLike is case-sensitive", `{"StringLike":{"a:b":"Home/*"}}`, ctx{"a:b": {"home/x"}}, false},
		{"StringLike several stars", `{"StringLike":{"a:b":"*a*b*c"}}`, ctx{"a:b": {"xxaxxbxbxc"}}, true},
		{"StringLike several stars no match", `{"StringLike":{"a:b":"*a*b*c"}}`, ctx{"a:b": {"xxaxxcxbx"}}, false},
		{"StringLike escaped star is literal", `{"StringLike":{"a:b":"a${*}"}}`, ctx{"a:b": {"a*"}}, true},
		{"StringLike escaped star is not a wildcard", `{"StringLike":{"a:b":"a${*}"}}`, ctx{"a:b": {"ab"}}, false},
		{"StringLike escaped question mark and dollar", `{"StringLike":{"a:b":"${?}${$}"}}`, ctx{"a:b": {"?$"}}, true},
		{"StringNotLike matches", `{"StringNotLike":{"a:b":"x*"}}`, ctx{"a:b": {"xy"}}, false},
		{"StringNotLike differs", `{"StringNotLike":{"a:b":"x*"}}`, ctx{"a:b": {"yx"}}, true},
		{"StringNotLike missing", `{"StringNotLike":{"a:b":"x*"}}`, ctx{}, true},

		// Numeric operators.
		{"NumericEquals", `{"NumericEquals":{"s3:max-keys":"10"}}`, ctx{"s3:max-keys": {"10"}}, true},
		{"NumericEquals decimal", `{"NumericEquals":{"s3:max-keys":10}}`, ctx{"s3:max-keys": {"10.0"}}, true},
		{"NumericEquals differs", `{"NumericEquals":{"s3:max-keys":10}}`, ctx{"s3:max-keys": {"11"}}, false},
		{"NumericEquals not a number", `{"NumericEquals":{"s3:max-keys":10}}`, ctx{"s3:max-keys": {"ten"}}, false},
		{"NumericNotEquals", `{"NumericNotEquals":{"s3:max-keys":10}}`, ctx{"s3:max-keys": {"11"}}, true},
		{"NumericNotEquals equal", `{"NumericNotEquals":{"s3:max-keys":10}}`, ctx{"s3:max-keys": {"10"}}, false},
		{"NumericNotEquals missing", `{"NumericNotEquals":{"s3:max-keys":10}}`, ctx{}, true},
		{"NumericLessThan", `{"NumericLessThan":{"s3:max-keys":10}}`, ctx{"s3:max-keys": {"9"}}, true},
		{"NumericLessThan equal", `{"NumericLessThan":{"s3:max-keys":10}}`, ctx{"s3:max-keys": {"10"}}, false},
		{"NumericLessThanEquals equal", `{"NumericLessThanEquals":{"s3:max-keys":"10"}}`, ctx{"s3:max-keys": {"10"}}, true},
		{"NumericLessThanEquals above", `{"NumericLessThanEquals":{"s3:max-keys":"10"}}`, ctx{"s3:max-keys": {"1000"}}, false},
		{"NumericGreaterThan", `{"NumericGreaterThan":{"s3:signatureAge":600000}}`, ctx{"s3:signatureage": {"600001"}}, true},
		{"NumericGreaterThan equal", `{"NumericGreaterThan":{"s3:signatureAge":600000}}`, ctx{"s3:signatureage": {"600000"}}, false},
		{"NumericGreaterThanEquals", `{"NumericGreaterThanEquals":{"a:b":-1.5}}`, ctx{"a:b": {"-1.5"}}, true},
		{"NumericEquals NaN is not a number", `{"NumericNotEquals":{"s3:max-keys":10}}`, ctx{"s3:max-keys": {"NaN"}}, true},
		{"NumericLessThan Inf is not a number", `{"NumericLessThan":{"s3:max-keys":10}}`, ctx{"s3:max-keys": {"-Inf"}}, false},
		{"NumericLessThan hex is not a number", `{"NumericLessThan":{"s3:max-keys":10}}`, ctx{"s3:max-keys": {"0x1"}}, false},
		{"NumericLessThan exponent", `{"NumericLessThan":{"s3:max-keys":10}}`, ctx{"s3:max-keys": {"1e0"}}, true},
		{"NumericLessThan missing", `{"NumericLessThan":{"s3:max-keys":10}}`, ctx{}, false},

		// Date operators.
		{"DateLessThan ISO", `{"DateLessThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`, ctx{"aws:currenttime": {"2019-12-31T23:59:59Z"}}, true},
		{"DateLessThan ISO later", `{"DateLessThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`, ctx{"aws:currenttime": {"2020-01-01T00:00:00Z"}}, false},
		{"DateLessThan epoch request", `{"DateLessThan":{"aws:EpochTime":"2020-01-01T00:00:00Z"}}`, ctx{"aws:epochtime": {"1577836799"}}, true},
		{"DateLessThanEquals epoch policy", `{"DateLessThanEquals":{"aws:CurrentTime":1577836800}}`, ctx{"aws:currenttime": {"2020-01-01T00:00:00Z"}}, true},
		{"DateEquals across zones", `{"DateEquals":{"aws:CurrentTime":"2020-01-01T01:00:00+01:00"}}`, ctx{"aws:currenttime": {"2020-01-01T00:00:00Z"}}, true},
		{"DateEquals date only", `{"DateEquals":{"aws:CurrentTime":"2020-01-01"}}`, ctx{"aws:currenttime": {"2020-01-01T00:00:00Z"}}, true},
		{"DateLessThan year", `{"DateLessThan":{"aws:CurrentTime":"2021"}}`, ctx{"aws:currenttime": {"2020-12-31T23:59:59Z"}}, true},
		{"DateGreaterThanEquals year and month", `{"DateGreaterThanEquals":{"aws:CurrentTime":"2021-02"}}`, ctx{"aws:currenttime": {"2021-01-31T23:59:59Z"}}, false},
		{"DateEquals basic format request", `{"DateEquals":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`, ctx{"aws:currenttime": {"20200101T000000Z"}}, true},
		{"DateNotEquals", `{"DateNotEquals":{"aws:CurrentTime":"2020-01-01"}}`, ctx{"aws:currenttime": {"2020-01-02T00:00:00Z"}}, true},
		{"DateGreaterThan", `{"DateGreaterThan":{"aws:TokenIssueTime":"2020-01-01T00:00:01Z"}}`, ctx{"aws:tokenissuetime": {"2021-06-01T12:00:00Z"}}, true},
		{"DateGreaterThan missing", `{"DateGreaterThan":{"aws:TokenIssueTime":"2020-01-01T00:00:01Z"}}`, ctx{}, false},
		{"DateGreaterThanEquals fractional seconds", `{"DateGreaterThanEquals":{"aws:CurrentTime":"2020-01-01T00:00:00.500Z"}}`, ctx{"aws:currenttime": {"2020-01-01T00:00:00Z"}}, false},
		{"Date request not a date", `{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01"}}`, ctx{"aws:currenttime": {"soon"}}, false},

		// Bool, Binary.
		{"Bool false", `{"Bool":{"aws:SecureTransport":"false"}}`, ctx{"aws:securetransport": {"false"}}, true},
		{"Bool JSON boolean", `{"Bool":{"aws:SecureTransport":false}}`, ctx{"aws:securetransport": {"false"}}, true},
		{"Bool differs", `{"Bool":{"aws:SecureTransport":"false"}}`, ctx{"aws:securetransport": {"true"}}, false},
		{"Bool request case", `{"Bool":{"aws:SecureTransport":"true"}}`, ctx{"aws:securetransport": {"True"}}, true},
		{"Bool request not a bool", `{"Bool":{"aws:SecureTransport":"true"}}`, ctx{"aws:securetransport": {"1"}}, false},
		{"Bool missing", `{"Bool":{"aws:SecureTransport":"false"}}`, ctx{}, false},
		{"BinaryEquals", `{"BinaryEquals":{"a:b":"aGVsbG8="}}`, ctx{"a:b": {"hello"}}, true},
		{"BinaryEquals differs", `{"BinaryEquals":{"a:b":"aGVsbG8="}}`, ctx{"a:b": {"hellO"}}, false},

		// IP address operators.
		{"IpAddress v4 range", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctx{"aws:sourceip": {"203.0.113.255"}}, true},
		{"IpAddress v4 outside", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctx{"aws:sourceip": {"203.0.114.0"}}, false},
		{"IpAddress bare address is /32", `{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}`, ctx{"aws:sourceip": {"203.0.113.7"}}, true},
		{"IpAddress bare address other", `{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}`, ctx{"aws:sourceip": {"203.0.113.8"}}, false},
		{"IpAddress non-canonical range", `{"IpAddress":{"aws:SourceIp":"203.0.113.9/24"}}`, ctx{"aws:sourceip": {"203.0.113.200"}}, true},
		{"IpAddress v6 range", `{"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}}`, ctx{"aws:sourceip": {"2001:db8:1234:5678:ffff::1"}}, true},
		{"IpAddress v6 outside", `{"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}}`, ctx{"aws:sourceip": {"2001:db8:1234:5679::1"}}, false},
		{"IpAddress v4 rule, v6 request", `{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`, ctx{"aws:sourceip": {"2001:db8::1"}}, false},
		{"IpAddress bad request value", `{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`, ctx{"aws:sourceip": {"localhost"}}, false},
		{"NotIpAddress inside", `{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","2001:DB8::/32"]}}`, ctx{"aws:sourceip": {"2001:db8::5"}}, false},
		{"NotIpAddress outside", `{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","2001:DB8::/32"]}}`, ctx{"aws:sourceip": {"198.51.100.1"}}, true},
		{"NotIpAddress missing", `{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`, ctx{}, true},

		// ARN operators.
		{"ArnEquals exact", `{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:topic"}}`, ctx{"aws:sourcearn": {"arn:aws:sns:us-east-1:111122223333:topic"}}, true},
		{"ArnEquals takes wildcards like ArnLike", `{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:*:111122223333:*"}}`, ctx{"aws:sourcearn": {"arn:aws:sns:us-east-1:111122223333:topic"}}, true},
		{"ArnLike is case-sensitive", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:Topic"}}`, ctx{"aws:sourcearn": {"arn:aws:sns:us-east-1:111122223333:topic"}}, false},
		{"ArnLike star stays inside its part", `{"ArnLike":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}}`, ctx{"aws:sourcearn": {"arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"}}, false},
		{"StringLike star crosses parts", `{"StringLike":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}}`, ctx{"aws:sourcearn": {"arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"}}, true},
		{"ArnLike resource part may hold colons", `{"ArnLike":{"aws:SourceArn":"arn:aws:logs:*:111122223333:log-group:*"}}`, ctx{"aws:sourcearn": {"arn:aws:logs:us-east-1:111122223333:log-group:g:log-stream:s"}}, true},
		{"ArnLike request not an ARN", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:*:*"}}`, ctx{"aws:sourcearn": {"topic"}}, false},
		{"ArnLike star pattern", `{"ArnLike":{"aws:SourceArn":"*"}}`, ctx{"aws:sourcearn": {"arn:aws:sns:us-east-1:111122223333:topic"}}, true},
		{"ArnNotEquals other", `{"ArnNotEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:topic"}}`, ctx{"aws:sourcearn": {"arn:aws:sns:us-east-1:111122223333:other"}}, true},
		{"ArnNotLike matching", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:*"}}`, ctx{"aws:sourcearn": {"arn:aws:sns:us-east-1:111122223333:topic"}}, false},
		{"ArnNotLike missing", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:*"}}`, ctx{}, true},

		// Null.
		{"Null true, key missing", `{"Null":{"s3:x-amz-server-side-encryption":"true"}}`, ctx{}, true},
		{"Null true, key present", `{"Null":{"s3:x-amz-server-side-encryption":"true"}}`, ctx{"s3:x-amz-server-side-encryption": {"aws:kms"}}, false},
		{"Null true, key present and empty string", `{"Null":{"a:b":"true"}}`, ctx{"a:b": {""}}, false},
		{"Null true, key with no values", `{"Null":{"a:b":"true"}}`, ctx{"a:b": {}}, true},
		{"Null false, key present", `{"Null":{"a:b":false}}`, ctx{"a:b": {"x"}}, true},
		{"Null false, key missing", `{"Null":{"a:b":false}}`, ctx{}, false},

		// IfExists.
		{"StringEqualsIfExists missing", `{"StringEqualsIfExists":{"a:b":"x"}}`, ctx{}, true},
		{"StringEqualsIfExists present and equal", `{"StringEqualsIfExists":{"a:b":"x"}}`, ctx{"a:b": {"x"}}, true},
		{"StringEqualsIfExists present and different", `{"StringEqualsIfExists":{"a:b":"x"}}`, ctx{"a:b": {"y"}}, false},
		{"StringNotEqualsIfExists missing", `{"StringNotEqualsIfExists":{"a:b":"x"}}`, ctx{}, true},
		{"StringNotEqualsIfExists present and equal", `{"StringNotEqualsIfExists":{"a:b":"x"}}`, ctx{"a:b": {"x"}}, false},
		{"NumericLessThanIfExists missing", `{"NumericLessThanIfExists":{"s3:max-keys":"10"}}`, ctx{}, true},
		{"NumericLessThanIfExists present above", `{"NumericLessThanIfExists":{"s3:max-keys":"10"}}`, ctx{"s3:max-keys": {"11"}}, false},
		{"DateLessThanIfExists missing", `{"DateLessThanIfExists":{"aws:TokenIssueTime":"2020-01-01"}}`, ctx{}, true},
		{"BoolIfExists missing", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, ctx{}, true},
		{"BoolIfExists present", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, ctx{"aws:multifactorauthpresent": {"true"}}, false},
		{"IpAddressIfExists missing", `{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx{}, true},
		{"NotIpAddressIfExists inside", `{"NotIpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx{"aws:sourceip": {"10.1.2.3"}}, false},
		{"ArnLikeIfExists missing", `{"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:s3:::b"}}`, ctx{}, true},
		{"ArnNotEqualsIfExists present and equal", `{"ArnNotEqualsIfExists":{"aws:SourceArn":"arn:aws:s3:::b"}}`, ctx{"aws:sourcearn": {"arn:aws:s3:::b"}}, false},
		{"BinaryEqualsIfExists missing", `{"BinaryEqualsIfExists":{"a:b":"aGVsbG8="}}`, ctx{}, true},

		// Set qualifiers.
		{"ForAllValues all listed", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b","c"]}}`, ctx{"aws:tagkeys": {"a", "c"}}, true},
		{"ForAllValues one not listed", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctx{"aws:tagkeys": {"a", "z"}}, false},
		{"ForAllValues missing key is true", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}`, ctx{}, true},
		{"ForAllValues empty set is true", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}`, ctx{"aws:tagkeys": {}}, true},
		{"ForAllValues StringLike", `{"ForAllValues:StringLike":{"aws:TagKeys":"key1*"}}`, ctx{"aws:tagkeys": {"key1:hr", "key1:personnel"}}, true},
		{"ForAllValues StringNotLike: one value like", `{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}`, ctx{"aws:tagkeys": {"key1:legal"}}, false},
		{"ForAllValues StringNotLike: none like", `{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}`, ctx{"aws:tagkeys": {"key2:audit"}}, true},
		{"ForAllValues StringNotLike: missing", `{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}`, ctx{}, true},
		{"ForAllValues IgnoreCase", `{"ForAllValues:StringEqualsIgnoreCase":{"aws:TagKeys":["A","B"]}}`, ctx{"aws:tagkeys": {"a", "b"}}, true},
		{"ForAnyValue one listed", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctx{"aws:tagkeys": {"z", "b"}}, true},
		{"ForAnyValue none listed", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctx{"aws:tagkeys": {"y", "z"}}, false},
		{"ForAnyValue missing key is false", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["a"]}}`, ctx{}, false},
		{"ForAnyValue StringNotEquals some other", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"a"}}`, ctx{"aws:tagkeys": {"a", "b"}}, true},
		{"ForAnyValue StringNotEquals all equal", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"a"}}`, ctx{"aws:tagkeys": {"a"}}, false},
		{"ForAnyValue StringNotEquals missing is false", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"a"}}`, ctx{}, false},
		{"ForAnyValue NumericLessThan", `{"ForAnyValue:NumericLessThan":{"a:n":"5"}}`, ctx{"a:n": {"9", "4"}}, true},
		{"ForAllValues NumericLessThan", `{"ForAllValues:NumericLessThan":{"a:n":"5"}}`, ctx{"a:n": {"9", "4"}}, false},
		{"ForAnyValue StringLikeIfExists missing", `{"ForAnyValue:StringLikeIfExists":{"a:b":"x*"}}`, ctx{}, true},

		// Several keys, several blocks: all must hold.
		{"two keys both hold", `{"StringEquals":{"a:b":"x","a:c":"y"}}`, ctx{"a:b": {"x"}, "a:c": {"y"}}, true},
		{"two keys one fails", `{"StringEquals":{"a:b":"x","a:c":"y"}}`, ctx{"a:b": {"x"}, "a:c": {"z"}}, false},
		{"two blocks both hold", `{"StringEquals":{"a:b":"x"},"Bool":{"aws:SecureTransport":"true"}}`, ctx{"a:b": {"x"}, "aws:securetransport": {"true"}}, true},
		{"two blocks one fails", `{"StringEquals":{"a:b":"x"},"Bool":{"aws:SecureTransport":"true"}}`, ctx{"a:b": {"x"}, "aws:securetransport": {"false"}}, false},
		{"empty condition holds", `{}`, ctx{}, true},

		// Policy variables in condition values.
		{"variable substituted", `{"StringEquals":{"s3:prefix":"home/${aws:username}/"}}`, ctx{"s3:prefix": {"home/alice/"}, "aws:username": {"alice"}}, true},
		{"variable other user", `{"StringEquals":{"s3:prefix":"home/${aws:username}/"}}`, ctx{"s3:prefix": {"home/bob/"}, "aws:username": {"alice"}}, false},
		{"variable key is case-insensitive", `{"StringEquals":{"s3:prefix":"home/${AWS:UserName}/"}}`, ctx{"s3:prefix": {"home/alice/"}, "aws:username": {"alice"}}, true},
		{"variable missing: no match", `{"StringEquals":{"s3:prefix":"home/${aws:username}/"}}`, ctx{"s3:prefix": {"home//"}}, false},
		{"variable missing under a negated operator: still no match", `{"StringNotEquals":{"s3:prefix":"home/${aws:username}/"}}`, ctx{"s3:prefix": {"x"}}, false},
		{"variable multivalued: no match", `{"StringEquals":{"a:b":"${aws:tagkeys}"}}`, ctx{"a:b": {"x"}, "aws:tagkeys": {"x", "y"}}, false},
		{"variable default used", `{"StringEquals":{"a:b":"${aws:userid, 'anonymous'}"}}`, ctx{"a:b": {"anonymous"}}, true},
		{"variable default not used when present", `{"StringEquals":{"a:b":"${aws:userid, 'anonymous'}"}}`, ctx{"a:b": {"anonymous"}, "aws:userid": {"AIDA1"}}, false},
		{"variable value is literal in StringLike", `{"StringLike":{"a:b":"${aws:username}"}}`, ctx{"a:b": {"alice"}, "aws:username": {"a*"}}, false},
		{"variable in StringLike with wildcard", `{"StringLike":{"a:b":"${aws:username}/*"}}`, ctx{"a:b": {"alice/x"}, "aws:username": {"alice"}}, true},
		{"variable in ArnLike", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:role/*"}}`, ctx{"aws:principalarn": {"arn:aws:iam::111122223333:role/R"}, "aws:principalaccount": {"111122223333"}}, true},
		{"variable value with wildcard bytes fails StringLike", `{"StringLike":{"a:b":"x${s3:prefix}"}}`, ctx{"a:b": {"xanything"}, "s3:prefix": {"\xff"}}, false},
		{"variable value with wildcard bytes is literal in StringEquals", `{"StringEquals":{"a:b":"x${s3:prefix}"}}`, ctx{"a:b": {"x\xff"}, "s3:prefix": {"\xff"}}, true},
		{"variable in IgnoreCase non-ASCII", `{"StringEqualsIgnoreCase":{"a:b":"${aws:username}"}}`, ctx{"a:b": {"ÉCOLE"}, "aws:username": {"école"}}, true},
		{"variable in IgnoreCase", `{"StringEqualsIgnoreCase":{"a:b":"${aws:username}"}}`, ctx{"a:b": {"ALICE"}, "aws:username": {"alice"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := stmt(`"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":` + tt.condition)
			p, err := Parse(doc, IdentityKind)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			r := &Request{
				Principal: Principal{ARN: "arn:aws:iam::111122223333:user/alice", Account: "111122223333"},
				Action:    "s3:GetObject",
				Resource:  "arn:aws:s3:::b/k",
				Context:   tt.context,
			}
			want := NotApplicable
			if tt.want {
				want = Allow
			}
			if got := p.Evaluate(r); got != want {
				t.Errorf("Evaluate = %v, want %v", got, want)
			}
		})
	}
}

// TestWildcards checks Action (case-insensitive) and Resource (case-sensitive) matching.
func TestWildcards(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		value   string
		fold    bool
		want    bool
	}{
		{"exact", "s3:GetObject", "s3:GetObject", false, true},
		{"folded", "s3:getobject", "S3:GetObject", true, true},
		{"not folded", "s3:getobject", "S3:GetObject", false, false},
		{"star all", "*", "", false, true},
		{"star suffix", "s3:Get*", "s3:GetObjectAcl", true, true},
		{"star middle", "s3:*Object", "s3:PutObject", true, true},
		{"star middle no", "s3:*Object", "s3:PutObjectAcl", true, false},
		{"question", "s3:Get?bject", "s3:GetObject", true, true},
		{"question at end", "b/?", "b/", false, false},
		{"two stars", "a*b*c", "abc", false, true},
		{"backtracking", "*aab", "aaaab", false, true},
		{"star then question", "*?", "x", false, true},
		{"star then question empty", "*?", "", false, false},
		{"longer pattern", "abc", "ab", false, false},
		{"longer value", "ab", "abc", false, false},
		{"unicode", "ü*", "über", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := compilePattern(tt.pattern, true, false)
			if got := wildMatch(p.text, tt.value, tt.fold); got != tt.want {
				t.Errorf("wildMatch(%q, %q) = %v, want %v", tt.pattern, tt.value, got, tt.want)
			}
		})
	}
}
