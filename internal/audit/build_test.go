package audit

import (
	"crypto/tls"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/iam"
)

func TestNewEventIdentity(t *testing.T) {
	tests := []struct {
		name string
		p    iam.Principal
		want string // the userIdentity JSON
	}{
		{"root", iam.Principal{Type: iam.PrincipalAccount, AccountID: "111122223333", ARN: "arn:aws:iam::111122223333:root", AccessKey: "AKIAROOT", UserID: "111122223333", Root: true},
			`{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333","accessKeyId":"AKIAROOT"}`},
		{"iam user", iam.Principal{Type: iam.PrincipalUser, AccountID: "111122223333", ARN: "arn:aws:iam::111122223333:user/alice", AccessKey: "AKIAALICE", UserID: "AIDAALICE", UserName: "alice"},
			`{"type":"IAMUser","principalId":"AIDAALICE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAALICE","userName":"alice"}`},
		{"assumed role", iam.Principal{Type: iam.PrincipalAssumedRole, AccountID: "111122223333", ARN: "arn:aws:sts::111122223333:assumed-role/app/job", AccessKey: "ASIAJOB",
			UserID: "AROAAPP:job", RoleARN: "arn:aws:iam::111122223333:role/path/app", SessionName: "job"},
			`{"type":"AssumedRole","principalId":"AROAAPP:job","arn":"arn:aws:sts::111122223333:assumed-role/app/job","accountId":"111122223333","accessKeyId":"ASIAJOB",` +
				`"sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAAPP","arn":"arn:aws:iam::111122223333:role/path/app","accountId":"111122223333","userName":"app"},"attributes":{"mfaAuthenticated":"false"}}}`},
		{"anonymous", iam.Principal{Type: iam.PrincipalAnonymous},
			`{"type":"AWSAccount","accountId":"anonymous"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &iam.Request{Principal: tt.p, SourceIP: netip.MustParseAddr("192.0.2.7"), RequestID: "rid", UserAgent: "ua",
				Time: time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("x", 3600)), Region: "eu-west-1"}
			e := NewEvent(r, SourceKMS, "Encrypt")
			got, _ := json.Marshal(e.UserIdentity)
			if string(got) != tt.want {
				t.Errorf("userIdentity\n got %s\nwant %s", got, tt.want)
			}
			if e.EventTime != "2026-01-02T02:04:05Z" || e.AWSRegion != "eu-west-1" || e.SourceIPAddress != "192.0.2.7" || e.UserAgent != "ua" ||
				e.RequestID != "rid" || e.EventType != TypeAPICall || !e.ManagementEvent || e.EventCategory != CategoryManagement || e.EventName != "Encrypt" {
				t.Errorf("event = %+v", e)
			}
			if want := tt.p.AccountID; e.RecipientAccountID != want {
				t.Errorf("recipientAccountId = %q, want %q", e.RecipientAccountID, want)
			}
		})
	}
}

func TestInvokedByAndFail(t *testing.T) {
	r := &iam.Request{Principal: iam.Principal{Type: iam.PrincipalUser, AccountID: "111122223333", UserName: "u"}, SourceIP: netip.MustParseAddr("192.0.2.7"), Time: time.Now()}
	e := NewEvent(r, SourceKMS, "GenerateDataKey").InvokedBy(InvokedByS3).Fail("AccessDeniedException", "denied")
	if e.UserIdentity.InvokedBy != "s3.amazonaws.com" || e.SourceIPAddress != "s3.amazonaws.com" || e.UserAgent != "s3.amazonaws.com" {
		t.Errorf("invokedBy: %+v", e)
	}
	if e.ErrorCode != "AccessDeniedException" || e.ErrorMessage != "denied" {
		t.Errorf("fail: %+v", e)
	}
}

func TestServiceEvent(t *testing.T) {
	e := ServiceEvent("111122223333", "us-east-1", SourceKMS, "RotateKey")
	b, _ := json.Marshal(e)
	var m map[string]any
	json.Unmarshal(b, &m)
	if got := m["userIdentity"]; got.(map[string]any)["invokedBy"] != "AWS Internal" || got.(map[string]any)["accountId"] != "111122223333" || len(got.(map[string]any)) != 2 {
		t.Errorf("userIdentity = %v", got)
	}
	if m["eventType"] != "AwsServiceEvent" || m["sourceIPAddress"] != "AWS Internal" || m["requestParameters"] != nil || m["recipientAccountId"] != "111122223333" {
		t.Errorf("event = %s", b)
	}
	if _, ok := m["requestParameters"]; !ok {
		t.Errorf("requestParameters missing, want null: %s", b)
	}
}

func TestCipherSuiteName(t *testing.T) {
	suites := append(tls.CipherSuites(), tls.InsecureCipherSuites()...)
	for _, s := range suites {
		t.Run(s.Name, func(t *testing.T) {
			if got := cipherSuiteName(s.ID); got != tls.CipherSuiteName(s.ID) {
				t.Errorf("cipherSuiteName(%#04x) = %q, want %q", s.ID, got, tls.CipherSuiteName(s.ID))
			}
		})
	}
	if got := cipherSuiteName(0x1234); got != "0x1234" {
		t.Errorf("unknown suite: %q", got)
	}
}
