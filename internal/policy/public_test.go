package policy

import "testing"

// TestIsPublic checks S3's meaning of a public bucket policy, statement by statement.
func TestIsPublic(t *testing.T) {
	const grant = `"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"`
	tests := []struct {
		name      string
		statement string
		want      bool
	}{
		{"star", grant + `,"Principal":"*"`, true},
		{"AWS star", grant + `,"Principal":{"AWS":"*"}`, true},
		{"star among fixed principals", grant + `,"Principal":{"AWS":["111122223333","*"]}`, true},
		{"account", grant + `,"Principal":{"AWS":"111122223333"}`, false},
		{"user", grant + `,"Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"}`, false},
		{"service", grant + `,"Principal":{"Service":"cloudtrail.amazonaws.com"}`, false},
		{"canonical user", grant + `,"Principal":{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}`, false},
		{"federated", grant + `,"Principal":{"Federated":"graph.facebook.com"}`, true},
		{"deny to star", `"Effect":"Deny","Action":"s3:*","Resource":"*","Principal":"*"`, false},
		{"deny with NotPrincipal", `"Effect":"Deny","Action":"s3:*","Resource":"*","NotPrincipal":{"AWS":"111122223333"}`, false},
		{"fixed SourceVpc", grant + `,"Principal":"*","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-91237329"}}`, false},
		{"wildcard SourceVpc", grant + `,"Principal":"*","Condition":{"StringLike":{"aws:SourceVpc":"vpc-*"}}`, true},
		{"literal star SourceVpc", grant + `,"Principal":"*","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-*"}}`, true},
		{"variable SourceAccount", grant + `,"Principal":"*","Condition":{"StringEquals":{"aws:SourceAccount":"${aws:PrincipalAccount}"}}`, true},
		{"fixed SourceVpce list", grant + `,"Principal":"*","Condition":{"StringEquals":{"aws:SourceVpce":["vpce-1","vpce-2"]}}`, false},
		{"one wildcard in the list", grant + `,"Principal":"*","Condition":{"StringLike":{"aws:SourceVpce":["vpce-1","vpce-*"]}}`, true},
		{"fixed SourceArn", grant + `,"Principal":"*","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:111122223333:trail/t"}}`, false},
		{"wildcard SourceArn", grant + `,"Principal":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}`, true},
		{"fixed SourceAccount", grant + `,"Principal":"*","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}`, false},
		{"fixed SourceOwner", grant + `,"Principal":"*","Condition":{"StringEquals":{"aws:SourceOwner":"111122223333"}}`, false},
		{"fixed PrincipalOrgID", grant + `,"Principal":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}`, false},
		{"fixed PrincipalAccount", grant + `,"Principal":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}`, false},
		{"fixed KMS key id", grant + `,"Principal":"*","Condition":{"StringEquals":{"s3:x-amz-server-side-encryption-aws-kms-key-id":"arn:aws:kms:us-east-1:111122223333:key/k"}}`, false},
		{"fixed userid", grant + `,"Principal":"*","Condition":{"StringEquals":{"aws:userid":"AIDAEXAMPLE"}}`, false},
		{"userid of a role's sessions", grant + `,"Principal":"*","Condition":{"StringLike":{"aws:userid":"AROAEXAMPLE:*"}}`, false},
		{"userid wildcard", grant + `,"Principal":"*","Condition":{"StringLike":{"aws:userid":"AROA*"}}`, true},
		{"access point of a fixed account", grant + `,"Principal":"*","Condition":{"StringLike":{"s3:DataAccessPointArn":"arn:aws:s3:us-west-2:123456789012:accesspoint/*"}}`, false},
		{"access point of any account", grant + `,"Principal":"*","Condition":{"StringLike":{"s3:DataAccessPointArn":"arn:aws:s3:us-west-2:*:accesspoint/*"}}`, true},
		{"fixed access point account", grant + `,"Principal":"*","Condition":{"StringEquals":{"s3:DataAccessPointAccount":"123456789012"}}`, false},
		{"SourceIp /24", grant + `,"Principal":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, false},
		{"SourceIp /8", grant + `,"Principal":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, false},
		{"SourceIp /1", grant + `,"Principal":"*","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/1"}}`, true},
		{"SourceIp IPv6 /32", grant + `,"Principal":"*","Condition":{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, false},
		{"SourceIp IPv6 /16", grant + `,"Principal":"*","Condition":{"IpAddress":{"aws:SourceIp":"2001::/16"}}`, true},
		{"SourceIp one broad among narrow", grant + `,"Principal":"*","Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","0.0.0.0/0"]}}`, true},
		{"NotIpAddress does not limit", grant + `,"Principal":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, true},
		{"StringNotEquals does not limit", grant + `,"Principal":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}`, true},
		{"IfExists does not limit", grant + `,"Principal":"*","Condition":{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}`, true},
		{"ForAllValues does not limit", grant + `,"Principal":"*","Condition":{"ForAllValues:StringEquals":{"aws:SourceVpce":"vpce-1"}}`, true},
		{"other key does not limit", grant + `,"Principal":"*","Condition":{"StringEquals":{"s3:prefix":"home/"}}`, true},
		{"SecureTransport does not limit", grant + `,"Principal":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}`, true},
		{"one limiting key among others", grant + `,"Principal":"*","Condition":{"Bool":{"aws:SecureTransport":"true"},"StringEquals":{"aws:SourceVpce":"vpce-1"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, stmt(tt.statement), ResourceKind)
			if got := p.IsPublic(); got != tt.want {
				t.Errorf("IsPublic() = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("one public statement among fixed ones", func(t *testing.T) {
		p := mustParse(t, `{"Version":"2012-10-17","Statement":[{`+grant+`,"Principal":{"Service":"cloudtrail.amazonaws.com"}},{`+grant+`,"Principal":{"AWS":"444455556666"}},{`+grant+`,"Principal":"*"}]}`, ResourceKind)
		if !p.IsPublic() {
			t.Error("IsPublic() = false, want true")
		}
	})
}
