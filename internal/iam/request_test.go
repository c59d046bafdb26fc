package iam

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

func TestClientIP(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.1:5000", "127.0.0.1"},
		{"[::1]:443", "::1"},
		{"[::ffff:10.0.0.1]:80", "10.0.0.1"},
		{"192.0.2.7", "192.0.2.7"},
	} {
		if got := ClientIP(tc.in); got != netip.MustParseAddr(tc.want) {
			t.Errorf("ClientIP(%q) = %v, want %s", tc.in, got, tc.want)
		}
	}
	if got := ClientIP("not an address"); got.IsValid() {
		t.Errorf("ClientIP(garbage) = %v, want the zero Addr", got)
	}
}

func TestRequestContext(t *testing.T) {
	if RequestFrom(context.Background()) != nil {
		t.Fatal("a bare context carries a request identity")
	}
	r := &Request{Principal: Principal{AccountID: "111122223333", Type: PrincipalUser, UserName: "alice"}, RequestID: "r1"}
	got := RequestFrom(WithRequest(context.Background(), r))
	if got != r {
		t.Fatalf("RequestFrom = %+v, want %+v", got, r)
	}
}

func TestGlobalConditions(t *testing.T) {
	at := time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC)
	user := Principal{AccountID: "111122223333", ARN: "arn:aws:iam::111122223333:user/alice", Type: PrincipalUser, UserName: "alice", UserID: "AIDAEXAMPLE"}
	session := Principal{AccountID: "111122223333", ARN: "arn:aws:sts::111122223333:assumed-role/reader/s1", Type: PrincipalAssumedRole,
		UserID: "AROAEXAMPLE:s1", RoleARN: "arn:aws:iam::111122223333:role/reader", SessionName: "s1"}
	for _, tc := range []struct {
		name   string
		r      Request
		want   map[string]string
		absent []string
	}{
		{"user over TLS", Request{Principal: user, SecureTransport: true, SourceIP: netip.MustParseAddr("10.1.2.3"), Time: at, Region: "us-east-1"},
			map[string]string{"aws:securetransport": "true", "aws:sourceip": "10.1.2.3", "aws:currenttime": "2026-12-02T03:04:05Z",
				"aws:epochtime": "1796180645", "aws:principalarn": user.ARN, "aws:principalaccount": "111122223333",
				"aws:principaltype": "User", "aws:username": "alice", "aws:userid": "AIDAEXAMPLE", "aws:requestedregion": "us-east-1",
				"aws:multifactorauthpresent": "false"}, nil},
		{"role session", Request{Principal: session, Time: at},
			map[string]string{"aws:securetransport": "false", "aws:principalarn": session.RoleARN, "aws:userid": "AROAEXAMPLE:s1", "aws:principaltype": "AssumedRole"},
			[]string{"aws:username", "aws:sourceip"}},
		{"anonymous", Request{Principal: Principal{Type: PrincipalAnonymous}, Time: at},
			map[string]string{"aws:principaltype": "Anonymous"},
			[]string{"aws:principalarn", "aws:principalaccount", "aws:userid", "aws:username"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.r.GlobalConditions()
			for k, v := range tc.want {
				if len(got[k]) != 1 || got[k][0] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			for _, k := range tc.absent {
				if _, ok := got[k]; ok {
					t.Errorf("%s present (%q), want absent", k, got[k])
				}
			}
		})
	}
}

func TestNewRequest(t *testing.T) {
	p := Principal{AccountID: "111122223333", Type: PrincipalUser, UserName: "alice"}
	signed := time.Now().Add(-3 * time.Second)
	r := NewRequest(p, "192.0.2.9:4321", true, "aws-cli/2.9", "req-1", "eu-west-1").Signed(AuthQueryString, SigV2, signed, "UNSIGNED-PAYLOAD")
	if r.SourceIP != netip.MustParseAddr("192.0.2.9") || !r.SecureTransport || r.UserAgent != "aws-cli/2.9" ||
		r.RequestID != "req-1" || r.Region != "eu-west-1" || r.Principal.UserName != "alice" {
		t.Fatalf("NewRequest = %+v", r)
	}
	if r.AuthType != AuthQueryString || r.SignatureVersion != SigV2 || r.ContentSHA256 != "UNSIGNED-PAYLOAD" ||
		r.SignatureAge < 3*time.Second || r.SignatureAge > time.Minute {
		t.Fatalf("Signed = %+v", r)
	}
	anon := NewRequest(Principal{Type: PrincipalAnonymous}, "192.0.2.9:4321", false, "", "req-2", "us-east-1")
	if anon.AuthType != "" || anon.SignatureVersion != "" {
		t.Fatalf("an unsigned request has auth %q/%q", anon.AuthType, anon.SignatureVersion)
	}
}
