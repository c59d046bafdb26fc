package kmsapi

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

func TestRotation(t *testing.T) {
	e := newEnv(t, "")
	id := e.createKey(t, nil)
	encrypt := func() []byte {
		out, err := e.client.Encrypt(ctx(), &awskms.EncryptInput{KeyId: &id, Plaintext: []byte("v")})
		if err != nil {
			t.Fatal(err)
		}
		return out.CiphertextBlob
	}
	material := func() string {
		d, err := e.client.DescribeKey(ctx(), &awskms.DescribeKeyInput{KeyId: &id})
		if err != nil {
			t.Fatal(err)
		}
		return *d.KeyMetadata.CurrentKeyMaterialId
	}
	blobs := [][]byte{encrypt()}
	first := material()

	t.Run("status starts disabled", func(t *testing.T) {
		st, err := e.client.GetKeyRotationStatus(ctx(), &awskms.GetKeyRotationStatusInput{KeyId: &id})
		if err != nil || st.KeyRotationEnabled {
			t.Fatalf("status %+v %v", st, err)
		}
	})
	t.Run("period limits", func(t *testing.T) {
		for _, d := range []int32{89, 2561} {
			_, err := e.client.EnableKeyRotation(ctx(), &awskms.EnableKeyRotationInput{KeyId: &id, RotationPeriodInDays: aws.Int32(d)})
			wantCode(t, err, "ValidationException")
		}
	})
	t.Run("on demand", func(t *testing.T) {
		if _, err := e.client.RotateKeyOnDemand(ctx(), &awskms.RotateKeyOnDemandInput{KeyId: &id}); err != nil {
			t.Fatal(err)
		}
		if material() == first {
			t.Fatal("material id unchanged after rotation")
		}
		blobs = append(blobs, encrypt())
		list, err := e.client.ListKeyRotations(ctx(), &awskms.ListKeyRotationsInput{KeyId: &id})
		if err != nil || len(list.Rotations) != 1 || list.Rotations[0].RotationType != types.RotationTypeOnDemand || *list.Rotations[0].KeyMaterialId != material() {
			t.Fatalf("rotations %+v %v", list.Rotations, err)
		}
	})
	t.Run("automatic with the scheduler", func(t *testing.T) {
		if _, err := e.client.EnableKeyRotation(ctx(), &awskms.EnableKeyRotationInput{KeyId: &id, RotationPeriodInDays: aws.Int32(90)}); err != nil {
			t.Fatal(err)
		}
		st, err := e.client.GetKeyRotationStatus(ctx(), &awskms.GetKeyRotationStatusInput{KeyId: &id})
		if err != nil || !st.KeyRotationEnabled || *st.RotationPeriodInDays != 90 || st.NextRotationDate.Sub(e.clock.Now().Add(90*24*time.Hour)).Abs() > time.Minute {
			t.Fatalf("status %+v %v", st, err)
		}
		before := material()
		e.clock.Add(89 * 24 * time.Hour)
		if err := e.svc.Tick(ctx()); err != nil {
			t.Fatal(err)
		}
		if material() != before {
			t.Fatal("rotated before the period")
		}
		e.clock.Add(2 * 24 * time.Hour)
		if err := e.svc.Tick(ctx()); err != nil {
			t.Fatal(err)
		}
		if material() == before {
			t.Fatal("not rotated when due")
		}
		blobs = append(blobs, encrypt())
		list, _ := e.client.ListKeyRotations(ctx(), &awskms.ListKeyRotationsInput{KeyId: &id})
		if len(list.Rotations) != 2 || list.Rotations[1].RotationType != types.RotationTypeAutomatic {
			t.Fatalf("rotations %+v", list.Rotations)
		}
		st, _ = e.client.GetKeyRotationStatus(ctx(), &awskms.GetKeyRotationStatusInput{KeyId: &id})
		if st.NextRotationDate.Sub(e.clock.Now().Add(90*24*time.Hour)).Abs() > time.Minute {
			t.Fatalf("next rotation %v", st.NextRotationDate)
		}
	})
	t.Run("every version still decrypts", func(t *testing.T) {
		for i, b := range blobs {
			if _, err := e.client.Decrypt(ctx(), &awskms.DecryptInput{CiphertextBlob: b}); err != nil {
				t.Fatalf("blob %d: %v", i, err)
			}
		}
		e.restart(t)
		for i, b := range blobs {
			if _, err := e.client.Decrypt(ctx(), &awskms.DecryptInput{CiphertextBlob: b}); err != nil {
				t.Fatalf("after restart, blob %d: %v", i, err)
			}
		}
	})
	t.Run("on demand conflicts with a due automatic rotation", func(t *testing.T) {
		e.clock.Add(90*24*time.Hour - 10*time.Minute)
		_, err := e.client.RotateKeyOnDemand(ctx(), &awskms.RotateKeyOnDemandInput{KeyId: &id})
		wantCode(t, err, "ConflictException")
		e.clock.Add(10 * time.Minute)
		if err := e.svc.Tick(ctx()); err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, encrypt())
	})
	t.Run("disable", func(t *testing.T) {
		if _, err := e.client.DisableKeyRotation(ctx(), &awskms.DisableKeyRotationInput{KeyId: &id}); err != nil {
			t.Fatal(err)
		}
		before := material()
		e.clock.Add(400 * 24 * time.Hour)
		if err := e.svc.Tick(ctx()); err != nil {
			t.Fatal(err)
		}
		if material() != before {
			t.Fatal("rotated while rotation is disabled")
		}
	})
	t.Run("on-demand limit", func(t *testing.T) {
		k := e.createKey(t, nil)
		for i := 0; i < 25; i++ {
			if _, err := e.client.RotateKeyOnDemand(ctx(), &awskms.RotateKeyOnDemandInput{KeyId: &k}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := e.client.RotateKeyOnDemand(ctx(), &awskms.RotateKeyOnDemandInput{KeyId: &k})
		wantCode(t, err, "LimitExceededException")
		list, err := e.client.ListKeyRotations(ctx(), &awskms.ListKeyRotationsInput{KeyId: &k, Limit: aws.Int32(10)})
		if err != nil || len(list.Rotations) != 10 || !list.Truncated {
			t.Fatalf("paged rotations %d %v", len(list.Rotations), err)
		}
	})
	t.Run("not rotatable", func(t *testing.T) {
		k := e.createKey(t, &awskms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
		_, err := e.client.EnableKeyRotation(ctx(), &awskms.EnableKeyRotationInput{KeyId: &k})
		wantCode(t, err, "UnsupportedOperationException")
		_, err = e.client.RotateKeyOnDemand(ctx(), &awskms.RotateKeyOnDemandInput{KeyId: &k})
		wantCode(t, err, "UnsupportedOperationException")
	})
}
