package kms_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/kms"
)

// benchKeyPolicy is a 20-statement key policy: the account root, then administrators, key
// users with encryption-context conditions, via-service grants and denies, none of which
// matches the root, so every request is checked against all of them.
func benchKeyPolicy(account string) string {
	st := []string{fmt.Sprintf(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"kms:*","Resource":"*"}`, account)}
	for i := 1; len(st) < 20; i++ {
		switch i % 4 {
		case 0:
			st = append(st, fmt.Sprintf(`{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::%s:role/admin-%d","arn:aws:iam::%s:user/ops-%d"]},"Action":["kms:Create*","kms:Describe*","kms:Enable*","kms:List*","kms:Put*","kms:Update*","kms:Revoke*","kms:Disable*","kms:Get*","kms:Delete*"],"Resource":"*"}`, account, i, account, i))
		case 1:
			st = append(st, fmt.Sprintf(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:role/app-%d"},"Action":["kms:Encrypt","kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*","Condition":{"StringLike":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::bucket-%d/*"}}}`, account, i, i))
		case 2:
			st = append(st, fmt.Sprintf(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*","Condition":{"StringEquals":{"kms:CallerAccount":"%s","kms:ViaService":"s3.us-east-1.amazonaws.com"},"IpAddress":{"aws:SourceIp":"10.%d.0.0/16"}}}`, account, i))
		case 3:
			st = append(st, fmt.Sprintf(`{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::%s:user/former-%d"},"Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`, account, i))
		}
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(st, ",") + `]}`
}

// BenchmarkGenerateDataKeyAuthz measures GenerateDataKey in process, where authorization is
// the largest share it can be, under the default key policy and under a 20-statement one,
// for a caller built from a request identity as the wire layer builds it. The two keys are
// used alternately in one loop, so that load from elsewhere on the machine falls on both
// alike; the metrics are the mean time of each and the relative cost of the large policy.
func BenchmarkGenerateDataKeyAuthz(b *testing.B) {
	s, db := newSvc(b, b.TempDir(), nil)
	defer db.Close()
	req := &iam.Request{
		Principal: iam.Principal{AccountID: acct1, ARN: root1.ARN, Root: true, Type: iam.PrincipalAccount, UserID: acct1},
		SourceIP:  netip.MustParseAddr("192.0.2.7"), SecureTransport: true, AuthType: iam.AuthHeader,
		SignatureVersion: iam.SigV4, Time: time.Now(), Region: "us-east-1",
	}
	c := kms.CallerFrom(req)
	ec := map[string]string{"aws:s3:arn": "arn:aws:s3:::bucket/object"}
	var keys [2]string
	for i, doc := range []string{"", benchKeyPolicy(acct1)} {
		m, err := s.CreateKey(b.Context(), root1, kms.CreateKeyInput{Policy: doc})
		if err != nil {
			b.Fatal(err)
		}
		keys[i] = m.KeyId
	}
	var spent [2]time.Duration
	n := 0
	for b.Loop() {
		for i, id := range keys {
			start := time.Now()
			out, err := s.GenerateDataKey(b.Context(), c, kms.GenerateDataKeyInput{KeyId: id, KeySpec: "AES_256", EncryptionContext: ec})
			spent[i] += time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
			clear(out.Plaintext)
		}
		n++
	}
	b.ReportMetric(float64(spent[0].Nanoseconds())/float64(n), "ns/default")
	b.ReportMetric(float64(spent[1].Nanoseconds())/float64(n), "ns/20stmt")
	b.ReportMetric(100*(float64(spent[1])/float64(spent[0])-1), "%slower")
}
