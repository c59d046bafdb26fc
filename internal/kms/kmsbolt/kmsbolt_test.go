package kmsbolt_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsbolt"
	"github.com/coffer/coffer/internal/kms/kmstest"
	bolt "go.etcd.io/bbolt"
)

func TestConformance(t *testing.T) {
	kmstest.Run(t, func(t *testing.T) kms.Store {
		s, _ := openStore(t)
		return s
	})
}

// openStore opens a store on a new database, closed when the test ends.
func openStore(t *testing.T) (*kmsbolt.Store, *bolt.DB) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := kmsbolt.New(db)
	if err != nil {
		t.Fatal(err)
	}
	return s, db
}

func TestBucketsArePrefixed(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := kmsbolt.New(db); err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if len(name) < 4 || string(name[:4]) != "kms." {
				t.Errorf("bucket %q is not prefixed kms.", name)
			}
			return nil
		})
	})
}

// TestScanKeysSkipsDamagedRecord: one unreadable record is reported, and every other key is
// still scanned, so the scheduler keeps deleting and rotating them.
func TestScanKeysSkipsDamagedRecord(t *testing.T) {
	s, db := openStore(t)
	ctx := context.Background()
	for _, id := range []string{"a-key", "c-key"} {
		if err := s.CreateKey(ctx, &kms.Key{ID: id, Account: "111122223333"}, nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("kms.keys")).Put([]byte("b-key"), []byte("{not json"))
	}); err != nil {
		t.Fatal(err)
	}
	var seen []string
	err := s.ScanKeys(ctx, func(k *kms.Key) bool { seen = append(seen, k.ID); return true })
	if err == nil || !strings.Contains(err.Error(), "b-key") {
		t.Fatalf("damaged record not reported: %v", err)
	}
	if strings.Join(seen, ",") != "a-key,c-key" {
		t.Fatalf("scanned %v, want both readable keys", seen)
	}
}

// TestMACedRecordsAreCanonical: a record of the MACed format whose bytes are not the JSON
// encoding of what they decode to is damaged, though it decodes to the same fields (a field
// name re-cased: encoding/json matches names case-insensitively); a record from before MACs
// decodes as before. Damaged aliases and grants are named, the others still served.
func TestMACedRecordsAreCanonical(t *testing.T) {
	s, db := openStore(t)
	ctx := context.Background()
	const acct = "111122223333"
	for _, id := range []string{"old", "new"} {
		k := &kms.Key{ID: id, Account: acct, Policy: "p"}
		if id == "new" {
			k.RecordFormat = kms.RecordFormatMAC
		}
		a := &kms.Alias{Account: acct, Name: "alias/" + id, KeyID: id, RecordFormat: k.RecordFormat}
		if err := s.CreateKey(ctx, k, a, 0); err != nil {
			t.Fatal(err)
		}
		if err := s.PutGrant(ctx, kms.Grant{KeyID: id, GrantID: "g", RecordFormat: k.RecordFormat}); err != nil {
			t.Fatal(err)
		}
	}
	recase := func(bucket, key, from, to string) {
		err := db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte(bucket))
			return b.Put([]byte(key), []byte(strings.Replace(string(b.Get([]byte(key))), from, to, 1)))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"old", "new"} {
		recase("kms.keys", id, `"Policy"`, `"policy"`)
		recase("kms.aliases", acct+"\x00alias/"+id, `"KeyID"`, `"keyID"`)
		recase("kms.grants", id+"\x00g", `"GrantID"`, `"grantID"`)
	}
	if k, err := s.GetKey(ctx, "old"); err != nil || k.Policy != "p" {
		t.Fatalf("record from before MACs: %+v %v", k, err)
	}
	if _, err := s.GetKey(ctx, "new"); !errors.Is(err, kms.ErrStoreDamaged) {
		t.Fatalf("re-cased MACed key record: %v, want ErrStoreDamaged", err)
	}
	if _, err := s.GetAlias(ctx, acct, "alias/new"); !errors.Is(err, kms.ErrStoreDamaged) {
		t.Fatalf("re-cased MACed alias record: %v, want ErrStoreDamaged", err)
	}
	as, err := s.ListAliases(ctx, acct, "", 0)
	if err != nil || len(as) != 2 || as[0].KeyID != "" || as[0].Name != "alias/new" || as[1].KeyID != "old" {
		t.Fatalf("ListAliases = %+v %v; want alias/new listed without a key, alias/old whole", as, err)
	}
	if _, err := s.ListGrants(ctx, "new"); !errors.Is(err, kms.ErrStoreDamaged) {
		t.Fatalf("re-cased MACed grant record: %v, want ErrStoreDamaged", err)
	}
	var seen []string
	err = s.ScanGrants(ctx, func(g kms.Grant) bool { seen = append(seen, g.KeyID); return true })
	if !errors.Is(err, kms.ErrStoreDamaged) || strings.Join(seen, ",") != "old" {
		t.Fatalf("ScanGrants saw %v, err %v; want the readable grant and the damaged one reported", seen, err)
	}
}

// TestKeyQuotaCountsOldStore: a store from before the key count (no count entry) counts its
// keys once when a key is next created, damaged records included, and holds the quota.
func TestKeyQuotaCountsOldStore(t *testing.T) {
	ctx := context.Background()
	s, db := openStore(t)
	const acct = "111122223333"
	for _, id := range []string{"k1", "k2"} {
		if err := s.CreateKey(ctx, &kms.Key{ID: id, Account: acct, Manager: kms.ManagerCustomer}, nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	err := db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket([]byte("kms.keys")).Put([]byte("k2"), []byte("damaged")); err != nil {
			return err
		}
		return tx.Bucket([]byte("kms.keys.count")).Delete([]byte(acct))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateKey(ctx, &kms.Key{ID: "k3", Account: acct, Manager: kms.ManagerCustomer}, nil, 2); !errors.Is(err, kms.ErrStoreQuota) {
		t.Fatalf("CreateKey past the quota on a recounted store = %v, want ErrStoreQuota", err)
	}
	if err := s.CreateKey(ctx, &kms.Key{ID: "k3", Account: acct, Manager: kms.ManagerCustomer}, nil, 3); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateKey(ctx, &kms.Key{ID: "k4", Account: acct, Manager: kms.ManagerCustomer}, nil, 3); !errors.Is(err, kms.ErrStoreQuota) {
		t.Fatalf("CreateKey after the recount was stored = %v, want ErrStoreQuota", err)
	}
}

func TestUsage(t *testing.T) {
	kmstest.RunUsage(t, func(t *testing.T) kmstest.UsageStore {
		s, _ := openStore(t)
		return s
	})
}

// TestNodes runs kmstest's multi-node cases on one store used by both, as the nodes share a
// database: the cases hold for any backend.
func TestNodes(t *testing.T) {
	kmstest.RunNodes(t, func(t *testing.T) (kms.Store, kms.Store) {
		s, _ := openStore(t)
		return s, s
	})
}
