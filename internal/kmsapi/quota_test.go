package kmsapi

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// TestCustomerKeyQuota: an account holds at most the quota of customer managed keys, keys
// pending deletion included as AWS counts them; the key that would pass it is refused with
// LimitExceededException, AWS managed keys do not count, and a deleted key frees its place.
func TestCustomerKeyQuota(t *testing.T) {
	e := newEnv(t, "")
	e.maxKeys = 2
	e.restart(t)
	kept := e.createKey(t, nil)
	pending := e.createKey(t, nil)
	if _, err := e.client.ScheduleKeyDeletion(ctx(), &awskms.ScheduleKeyDeletionInput{KeyId: &pending, PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		run  func() error
		want string
	}{
		{"a third key", func() error { _, err := e.client.CreateKey(ctx(), &awskms.CreateKeyInput{}); return err }, "LimitExceededException"},
		{"an asymmetric third key", func() error {
			_, err := e.client.CreateKey(ctx(), &awskms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
			return err
		}, "LimitExceededException"},
		{"the AWS managed key of a service", func() error {
			_, err := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: aws.String("alias/aws/s3")})
			return err
		}, ""},
		{"a key after the pending one is deleted", func() error {
			e.clock.Add(8 * 24 * time.Hour)
			if err := e.svc.Tick(ctx()); err != nil {
				return err
			}
			_, err := e.client.CreateKey(ctx(), &awskms.CreateKeyInput{})
			return err
		}, ""},
		{"a key after the quota is full again", func() error { _, err := e.client.CreateKey(ctx(), &awskms.CreateKeyInput{}); return err }, "LimitExceededException"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := st.run()
			wantCode(t, err, st.want)
			if st.want != "" && !strings.Contains(err.Error(), "The number of customer managed keys in account "+testAccount+" exceeds the limit of 2.") {
				t.Fatalf("message: %v", err)
			}
		})
	}
	keys, err := e.client.ListKeys(ctx(), &awskms.ListKeysInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.Keys) != 3 { // kept, the new one and the AWS managed key
		t.Fatalf("%d keys listed, want 3 (%s kept)", len(keys.Keys), kept)
	}
}
