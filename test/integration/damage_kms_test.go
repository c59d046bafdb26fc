package integration

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"
	bolt "go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/kms"
)

// TestDamagedKMSRecords changes KMS records in meta.db the way someone with write access to the
// file but not the root key could, keeping each record well-formed (canonical JSON), and starts
// a real server on it: the changed key or alias answers KMSInternalException through the SDK,
// never another key or policy; every other key keeps working; admin check reports the record.
func TestDamagedKMSRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child servers")
	}
	b := damageFixture(t)
	openToAll := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*"}]}`
	// rewriteKey decodes a key record, changes it and stores it as canonical JSON again.
	rewriteKey := func(id string, change func(*kms.Key)) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			kb := tx.Bucket([]byte("kms.keys"))
			var k kms.Key
			if err := json.Unmarshal(kb.Get([]byte(id)), &k); err != nil {
				return err
			}
			change(&k)
			v, err := json.Marshal(&k)
			if err != nil {
				return err
			}
			return kb.Put([]byte(id), v)
		}
	}
	cases := []struct {
		name   string
		damage func(tx *bolt.Tx) error
		// failing are the references that must answer KMSInternalException.
		failing []string
	}{
		{"key policy opened to everyone", rewriteKey(b.kms[1], func(k *kms.Key) { k.Policy = openToAll }), []string{b.kms[1]}},
		// Unnoticed, the scheduler would destroy the key at once (its deletion date is zero).
		{"key state set to PendingDeletion", rewriteKey(b.kms[2], func(k *kms.Key) { k.State = kms.StatePendingDeletion }), []string{b.kms[2]}},
		{"key record without its MAC, policy opened", rewriteKey(b.kms[1], func(k *kms.Key) {
			k.RecordFormat, k.MAC, k.Policy = 0, nil, openToAll
		}), []string{b.kms[1]}},
		{"alias retargeted to another key", func(tx *bolt.Tx) error {
			ab := tx.Bucket([]byte("kms.aliases"))
			c := ab.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				var a kms.Alias
				if err := json.Unmarshal(v, &a); err != nil {
					return err
				}
				if a.Name == "alias/damage" {
					a.KeyID = b.kms[2]
					nv, err := json.Marshal(&a)
					if err != nil {
						return err
					}
					return ab.Put(append([]byte(nil), k...), nv)
				}
			}
			return errors.New("alias/damage not found")
		}, []string{"alias/damage"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, b.dir)
			withDB(t, dir, tc.damage)
			o := startDamaged(t, dir)
			if o.refused != "" {
				t.Fatalf("server refused: %s", o.refused)
			}
			kc := awskms.New(o.e.kms().Options(), func(o *awskms.Options) { o.RetryMaxAttempts = 1 })
			c := ctx(t)
			for _, ref := range append(append([]string(nil), b.kms...), "alias/damage") {
				_, err := kc.Encrypt(c, &awskms.EncryptInput{KeyId: aws.String(ref), Plaintext: []byte("x")})
				var ae smithy.APIError
				switch {
				case slices.Contains(tc.failing, ref) && (!errors.As(err, &ae) || ae.ErrorCode() != "KMSInternalException"):
					t.Errorf("Encrypt %s = %v, want KMSInternalException", ref, err)
				case !slices.Contains(tc.failing, ref) && err != nil:
					t.Errorf("Encrypt %s: %v", ref, err)
				}
			}
			o.stop()
			db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o600, &bolt.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			db.View(func(tx *bolt.Tx) error {
				for _, id := range b.kms {
					if tx.Bucket([]byte("kms.keys")).Get([]byte(id)) == nil {
						t.Errorf("key %s was deleted", id)
					}
				}
				return nil
			})
			db.Close()
			rep := checkDamaged(t, dir)
			if f := strings.Join(rep.Findings, "\n"); !strings.Contains(f, "damaged") && !strings.Contains(f, "MAC") {
				t.Fatalf("admin check findings: %q", rep.Findings)
			}
		})
	}
}
