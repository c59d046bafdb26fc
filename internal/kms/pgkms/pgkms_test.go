package pgkms_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsrec"
	"github.com/coffer/coffer/internal/kms/kmstest"
	"github.com/coffer/coffer/internal/kms/pgkms"
	"github.com/coffer/coffer/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newNode opens a store on the database at url with a pool of its own, as one Coffer node
// would; the store and pool close when t ends.
func newNode(t *testing.T, url string) *pgkms.Store {
	t.Helper()
	return pgtest.OpenStore(t, url, pgkms.New)
}

func TestConformance(t *testing.T) {
	t.Parallel()
	kmstest.Run(t, func(t *testing.T) kms.Store { return newNode(t, pgtest.NewDatabase(t)) })
}

func TestUsage(t *testing.T) {
	t.Parallel()
	kmstest.RunUsage(t, func(t *testing.T) kmstest.UsageStore { return newNode(t, pgtest.NewDatabase(t)) })
}

// TestNodes runs kmstest's multi-node cases on two stores with their own pools on one
// database, as two Coffer nodes would run.
func TestNodes(t *testing.T) {
	t.Parallel()
	kmstest.RunNodes(t, func(t *testing.T) (kms.Store, kms.Store) {
		url := pgtest.NewDatabase(t)
		return newNode(t, url), newNode(t, url)
	})
}

// TestClosed: a closed store refuses reads and writes, and another store on the same
// database goes on serving.
func TestClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s, other := newNode(t, url), newNode(t, url)
	if err := s.CreateKey(ctx, &kms.Key{ID: "k1", Account: "111122223333"}, nil, 0); err != nil {
		t.Fatal(err)
	}
	s.Close()
	calls := []struct {
		name string
		call func() error
	}{
		{"GetKey", func() error { _, err := s.GetKey(ctx, "k1"); return err }},
		{"UpdateKey", func() error { _, err := s.UpdateKey(ctx, "k1", func(*kms.Key) error { return nil }); return err }},
		{"ScanKeys", func() error { return s.ScanKeys(ctx, func(*kms.Key) bool { return true }) }},
		{"PutCanary", func() error { return s.PutCanary(ctx, []byte("c")) }},
		{"UpgradeRecords", func() error {
			return s.UpgradeRecords(ctx, 9, func(*kms.Records) (bool, error) { return false, nil })
		}},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, pgkms.ErrClosed) {
				t.Fatalf("%s after Close = %v, want ErrClosed", tc.name, err)
			}
		})
	}
	if _, err := other.GetKey(ctx, "k1"); err != nil {
		t.Fatalf("the other store: %v", err)
	}
}

// TestRecordsAsKmsbolt: what the store keeps is kmsrec's record, the bytes kmsbolt keeps, so
// records (MACed above the store) move between the stores as they are.
func TestRecordsAsKmsbolt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s := newNode(t, url)
	k := &kms.Key{ID: "k1", Account: "111122223333", RecordFormat: kms.RecordFormatMAC, MAC: []byte{1, 2},
		Versions: []kms.Version{{Number: 1, Sealed: []byte{0, 0xff, 's'}, Slot: 4}}}
	a := &kms.Alias{Account: k.Account, Name: "alias/a", KeyID: k.ID, RecordFormat: kms.RecordFormatMAC, MAC: []byte{3}}
	if err := s.CreateKey(ctx, k, a, 0); err != nil {
		t.Fatal(err)
	}
	pool := pgtest.OpenPool(t, url)
	tests := []struct {
		name string
		sql  string
		arg  []byte
		want func() ([]byte, error)
	}{
		{"key", "SELECT rec FROM kms_keys WHERE id = $1", []byte(k.ID), func() ([]byte, error) { return kmsrec.Encode(k) }},
		{"alias", "SELECT rec FROM kms_aliases WHERE name = $1", []byte(a.Name), func() ([]byte, error) { return kmsrec.Encode(*a) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rec []byte
			if err := pool.QueryRow(ctx, tc.sql, tc.arg).Scan(&rec); err != nil {
				t.Fatal(err)
			}
			want, err := tc.want()
			if err != nil || !bytes.Equal(rec, want) {
				t.Fatalf("stored record %q, want kmsrec's %q (%v)", rec, want, err)
			}
		})
	}
}

// TestDamagedRecords: a record changed in the database (not JSON, or a MACed record no
// longer canonical) is reported by the scans after every readable record was seen, listed
// with only its identity, and ErrStoreDamaged when read; the others serve.
func TestDamagedRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s := newNode(t, url)
	const acct = "111122223333"
	for _, id := range []string{"a-key", "b-key", "c-key"} {
		if err := s.CreateKey(ctx, &kms.Key{ID: id, Account: acct, RecordFormat: kms.RecordFormatMAC}, nil, 0); err != nil {
			t.Fatal(err)
		}
		if err := s.PutGrant(ctx, kms.Grant{KeyID: id, GrantID: "g", RecordFormat: kms.RecordFormatMAC}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutAlias(ctx, kms.Alias{Account: acct, Name: "alias/b", KeyID: "b-key", RecordFormat: kms.RecordFormatMAC}, true); err != nil {
		t.Fatal(err)
	}
	pool := pgtest.OpenPool(t, url)
	for _, sql := range []string{
		"UPDATE kms_keys SET rec = 'not json' WHERE id = 'b-key'",
		`UPDATE kms_grants SET rec = convert_to(replace(convert_from(rec, 'UTF8'), '"GrantID"', '"grantID"'), 'UTF8') WHERE key_id = 'b-key'`,
		`UPDATE kms_aliases SET rec = convert_to(replace(convert_from(rec, 'UTF8'), '"KeyID"', '"keyID"'), 'UTF8')`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	err := s.ScanKeys(ctx, func(k *kms.Key) bool { seen = append(seen, k.ID); return true })
	if !errors.Is(err, kms.ErrStoreDamaged) || !strings.Contains(err.Error(), "b-key") || strings.Join(seen, ",") != "a-key,c-key" {
		t.Fatalf("ScanKeys saw %v, err %v; want both readable keys and b-key reported", seen, err)
	}
	seen = nil
	err = s.ScanGrants(ctx, func(g kms.Grant) bool { seen = append(seen, g.KeyID); return true })
	if !errors.Is(err, kms.ErrStoreDamaged) || strings.Join(seen, ",") != "a-key,c-key" {
		t.Fatalf("ScanGrants saw %v, err %v; want both readable grants and the damaged one reported", seen, err)
	}
	if _, err := s.GetKey(ctx, "b-key"); !errors.Is(err, kms.ErrStoreDamaged) {
		t.Fatalf("GetKey of the damaged key = %v", err)
	}
	if _, err := s.ListGrants(ctx, "b-key"); !errors.Is(err, kms.ErrStoreDamaged) {
		t.Fatalf("ListGrants of the damaged grant = %v", err)
	}
	if _, err := s.GetAlias(ctx, acct, "alias/b"); !errors.Is(err, kms.ErrStoreDamaged) {
		t.Fatalf("GetAlias of the re-cased alias = %v", err)
	}
	ks, err := s.ListKeys(ctx, acct, "", 0)
	if err != nil || len(ks) != 3 || ks[1].ID != "b-key" || ks[1].Account != acct || ks[1].RecordFormat != 0 || ks[2].RecordFormat != kms.RecordFormatMAC {
		t.Fatalf("ListKeys = %+v, %v; want b-key listed by identity only", ks, err)
	}
	as, err := s.ListAliases(ctx, acct, "", 0)
	if err != nil || len(as) != 1 || as[0].Name != "alias/b" || as[0].KeyID != "" {
		t.Fatalf("ListAliases = %+v, %v; want alias/b without its key", as, err)
	}
}

// TestKeyQuotaRecountsLostCount: an account whose count row is gone counts its keys once when
// a key is next created, damaged records included, and holds the quota.
func TestKeyQuotaRecountsLostCount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s := newNode(t, url)
	const acct = "111122223333"
	for _, id := range []string{"k1", "k2"} {
		if err := s.CreateKey(ctx, &kms.Key{ID: id, Account: acct, Manager: kms.ManagerCustomer}, nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	pool := pgtest.OpenPool(t, url)
	for _, sql := range []string{"UPDATE kms_keys SET rec = 'damaged' WHERE id = 'k2'", "DELETE FROM kms_key_counts"} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		id    string
		quota int
		want  error
	}{
		{"k3", 2, kms.ErrStoreQuota},
		{"k3", 3, nil},
		{"k4", 3, kms.ErrStoreQuota},
	}
	for _, st := range steps {
		if err := s.CreateKey(ctx, &kms.Key{ID: st.id, Account: acct, Manager: kms.ManagerCustomer}, nil, st.quota); !errors.Is(err, st.want) {
			t.Fatalf("CreateKey %s under %d = %v, want %v", st.id, st.quota, err, st.want)
		}
	}
}

// TestScanPages: scans see every record once across the pages of their statements.
func TestScanPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s := newNode(t, url)
	const n = 600 // more than two pages
	for _, sql := range []string{
		`INSERT INTO kms_keys (id, account, rec) SELECT convert_to(id, 'UTF8'), '111122223333', convert_to('{"ID":"' || id || '"}', 'UTF8')
			FROM (SELECT 'k' || lpad(i::text, 4, '0') AS id FROM generate_series(1, 600) AS i) AS ids`,
		`INSERT INTO kms_grants (key_id, grant_id, rec) SELECT id, 'g', convert_to('{"KeyID":"' || convert_from(id, 'UTF8') || '","GrantID":"g"}', 'UTF8')
			FROM kms_keys`,
	} {
		if _, err := pgtest.OpenPool(t, url).Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	keys, grants, calls := map[string]bool{}, map[string]bool{}, 0
	if err := s.ScanKeys(ctx, func(k *kms.Key) bool { keys[k.ID] = true; calls++; return true }); err != nil {
		t.Fatal(err)
	}
	if err := s.ScanGrants(ctx, func(g kms.Grant) bool { grants[g.KeyID] = true; calls++; return true }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != n || len(grants) != n || calls != 2*n {
		t.Fatalf("scanned %d keys, %d grants in %d calls; want %d each, once", len(keys), len(grants), calls, n)
	}
}
