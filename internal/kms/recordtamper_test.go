package kms_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/coffer/coffer/internal/kms"
	bolt "go.etcd.io/bbolt"
)

// tamperStore is a store with two keys of alice: A with alias/a and a grant to bob, B with
// alias/b; and a ciphertext under each.
type tamperStore struct {
	dir      string
	db       *bolt.DB
	a, b     string // key ids
	grant    string // grant id on A
	ctA, ctB []byte
	ec       map[string]string
	aliasA   string // the bolt keys of the records
	aliasB   string
	grantOfA string
}

func newTamperStore(t testing.TB) *tamperStore {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	// NoSync: thousands of trials rewrite one record; durability is not what they test.
	db, err := bolt.Open(filepath.Join(dir, "meta.db"), 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := openSvcOn(t, db, dir)
	ts := &tamperStore{dir: dir, db: db, ec: map[string]string{"app": "tamper"}}
	for _, k := range []struct {
		id    *string
		alias string
		ct    *[]byte
	}{{&ts.a, "alias/a", &ts.ctA}, {&ts.b, "alias/b", &ts.ctB}} {
		// Each key has its own policy, so that moving one to the other key changes something.
		policy := fmt.Sprintf(`{"Version":"2012-10-17","Id":"%s","Statement":[{"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"kms:*","Resource":"*"}]}`, k.alias, alice.ARN)
		m, err := s.CreateKey(ctx, alice, kms.CreateKeyInput{Description: "tamper " + k.alias, Policy: policy, Tags: []kms.Tag{{TagKey: "t", TagValue: "v"}}})
		if err != nil {
			t.Fatal(err)
		}
		*k.id = m.KeyId
		if err := s.CreateAlias(ctx, alice, k.alias, m.KeyId); err != nil {
			t.Fatal(err)
		}
		out, err := s.Encrypt(ctx, alice, kms.EncryptInput{KeyId: m.KeyId, Plaintext: []byte("secret of " + k.alias), EncryptionContext: ts.ec})
		if err != nil {
			t.Fatal(err)
		}
		*k.ct = out.CiphertextBlob
	}
	_, gid, err := s.CreateGrant(ctx, alice, kms.CreateGrantInput{KeyId: ts.a, GranteePrincipal: bob.ARN, Name: "tamper-grant",
		Operations: []string{"Encrypt", "Decrypt"}, Constraints: &kms.GrantConstraints{EncryptionContextSubset: ts.ec}})
	if err != nil {
		t.Fatal(err)
	}
	ts.grant = gid
	ts.aliasA, ts.aliasB = alice.Account+"\x00alias/a", alice.Account+"\x00alias/b"
	ts.grantOfA = ts.a + "\x00" + gid
	return ts
}

func (ts *tamperStore) get(t testing.TB, bucket, key string) []byte {
	t.Helper()
	var v []byte
	ts.db.View(func(tx *bolt.Tx) error {
		v = slices.Clone(tx.Bucket([]byte(bucket)).Get([]byte(key)))
		return nil
	})
	if v == nil {
		t.Fatalf("no record %q in %s", key, bucket)
	}
	return v
}

func (ts *tamperStore) put(t testing.TB, bucket, key string, v []byte) {
	t.Helper()
	if err := ts.db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte(bucket)).Put([]byte(key), v) }); err != nil {
		t.Fatal(err)
	}
}

// use is one use of a key; each names what it uses.
type use struct {
	name string
	run  func(ctx context.Context, s *kms.Service, ts *tamperStore) error
}

var (
	useA = []use{
		{"describe A", func(ctx context.Context, s *kms.Service, ts *tamperStore) error {
			_, err := s.DescribeKey(ctx, alice, ts.a)
			return err
		}},
		{"decrypt under A", func(ctx context.Context, s *kms.Service, ts *tamperStore) error {
			return decryptsTo(ctx, s, alice, ts.ctA, ts.ec, "secret of alias/a")
		}},
		{"bob encrypts under A by his grant", func(ctx context.Context, s *kms.Service, ts *tamperStore) error {
			_, err := s.Encrypt(ctx, bob, kms.EncryptInput{KeyId: s.KeyARN(alice.Account, ts.a), Plaintext: []byte("x"), EncryptionContext: ts.ec})
			return err
		}},
	}
	useAliasA = use{"encrypt by alias/a", func(ctx context.Context, s *kms.Service, ts *tamperStore) error {
		return encryptsUnder(ctx, s, "alias/a", ts.a)
	}}
	useB = []use{
		{"decrypt under B", func(ctx context.Context, s *kms.Service, ts *tamperStore) error {
			return decryptsTo(ctx, s, alice, ts.ctB, ts.ec, "secret of alias/b")
		}},
		{"encrypt by alias/b", func(ctx context.Context, s *kms.Service, ts *tamperStore) error {
			return encryptsUnder(ctx, s, "alias/b", ts.b)
		}},
		{"list keys", func(ctx context.Context, s *kms.Service, ts *tamperStore) error {
			ks, _, err := s.ListKeys(ctx, alice, kms.Page{})
			if err == nil && len(ks) != 2 {
				err = fmt.Errorf("%d keys listed", len(ks))
			}
			return err
		}},
	}
)

// encryptsUnder encrypts by reference ref and checks that key id encrypted.
func encryptsUnder(ctx context.Context, s *kms.Service, ref, id string) error {
	out, err := s.Encrypt(ctx, alice, kms.EncryptInput{KeyId: ref, Plaintext: []byte("x")})
	if err == nil && out.KeyId != s.KeyARN(alice.Account, id) {
		return fmt.Errorf("%s encrypted under %s, want %s", ref, out.KeyId, id)
	}
	return err
}

// expect checks, on a service opened afresh on the damaged store, that every use in damaged
// fails as a damaged record (KMSInternalException on the wire, never another key or policy)
// and every use in working succeeds.
func (ts *tamperStore) expect(t *testing.T, what string, damaged, working []use) {
	t.Helper()
	ctx := context.Background()
	s := openSvcOn(t, ts.db, ts.dir)
	for _, u := range damaged {
		if err := u.run(ctx, s, ts); !errors.Is(err, kms.ErrStoreDamaged) {
			t.Fatalf("%s: %s = %v, want a damaged record", what, u.name, err)
		}
	}
	for _, u := range working {
		if err := u.run(ctx, s, ts); err != nil {
			t.Fatalf("%s: %s: %v", what, u.name, err)
		}
	}
}

// TestRecordByteFlips changes every byte of a stored key record, alias record and grant
// record, one at a time and in two ways (one bit; a random other value), as someone with
// write access to meta.db would, and opens a new service on each: every change is detected
// (the key or alias it touches fails as a damaged record, never as another key or policy)
// and the other key keeps working. No change is harmless: a MACed record has one canonical
// byte form and its MAC covers every field.
func TestRecordByteFlips(t *testing.T) {
	ts := newTamperStore(t)
	untouched := ts.get(t, "kms.keys", ts.a)
	ts.expect(t, "untouched", nil, append(append(slices.Clone(useA), useAliasA), useB...))
	rng := rand.New(rand.NewPCG(12, 2026))
	cases := []struct {
		name, bucket, key string
		damaged, working  []use
	}{
		{"key record", "kms.keys", ts.a, append(slices.Clone(useA), useAliasA), useB},
		// A damaged alias is unusable; the key it named works by id.
		{"alias record", "kms.aliases", ts.aliasA, []use{useAliasA}, append(slices.Clone(useA), useB...)},
		// A damaged grant makes its key unusable: what the key's grants allow is unknown.
		{"grant record", "kms.grants", ts.grantOfA, append(slices.Clone(useA), useAliasA), useB},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			orig := ts.get(t, tc.bucket, tc.key)
			for i := range orig {
				for _, x := range []byte{1 << (i % 8), byte(1 + rng.IntN(255))} {
					v := slices.Clone(orig)
					v[i] ^= x
					ts.put(t, tc.bucket, tc.key, v)
					ts.expect(t, fmt.Sprintf("byte %d (%q) ^ %#02x", i, orig[i], x), tc.damaged, tc.working)
				}
			}
			ts.put(t, tc.bucket, tc.key, orig)
			t.Logf("%d bytes, %d changes, all detected", len(orig), 2*len(orig))
		})
	}
	if got := ts.get(t, "kms.keys", ts.a); string(got) != string(untouched) {
		t.Fatal("a trial left a record changed")
	}
	ts.expect(t, "restored", nil, append(append(slices.Clone(useA), useAliasA), useB...))
}

// TestRecordSwaps moves whole records and fields between records, which a per-record
// checksum would not see: each is detected.
func TestRecordSwaps(t *testing.T) {
	ts := newTamperStore(t)
	keyA, keyB := ts.get(t, "kms.keys", ts.a), ts.get(t, "kms.keys", ts.b)
	aliasA, aliasB := ts.get(t, "kms.aliases", ts.aliasA), ts.get(t, "kms.aliases", ts.aliasB)
	grant := ts.get(t, "kms.grants", ts.grantOfA)
	// rewrite decodes a key record, changes it and stores it in canonical JSON again.
	rewrite := func(t *testing.T, rec []byte, change func(*kms.Key)) []byte {
		var k kms.Key
		if err := json.Unmarshal(rec, &k); err != nil {
			t.Fatal(err)
		}
		change(&k)
		v, err := json.Marshal(&k)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var policyB string
	var macB []byte
	rewrite(t, keyB, func(k *kms.Key) { policyB, macB = k.Policy, k.MAC })
	useAliasB := useB[1]
	cases := []struct {
		name             string
		damage           func(t *testing.T)
		damaged, working []use
	}{
		{"records of two keys swapped", func(t *testing.T) {
			ts.put(t, "kms.keys", ts.a, keyB)
			ts.put(t, "kms.keys", ts.b, keyA)
		}, append(slices.Clone(useA), useAliasA, useB[0], useAliasB), nil},
		{"B's policy in A's record", func(t *testing.T) {
			ts.put(t, "kms.keys", ts.a, rewrite(t, keyA, func(k *kms.Key) { k.Policy = policyB }))
		}, useA, useB},
		{"B's policy and MAC in A's record", func(t *testing.T) {
			ts.put(t, "kms.keys", ts.a, rewrite(t, keyA, func(k *kms.Key) { k.Policy, k.MAC = policyB, macB }))
		}, useA, useB},
		{"B's record under A's id", func(t *testing.T) {
			ts.put(t, "kms.keys", ts.a, rewrite(t, keyB, func(k *kms.Key) { k.ID = ts.a }))
		}, useA, useB},
		{"alias/a retargeted to B", func(t *testing.T) {
			var a kms.Alias
			json.Unmarshal(aliasA, &a)
			a.KeyID = ts.b
			v, _ := json.Marshal(a)
			ts.put(t, "kms.aliases", ts.aliasA, v)
		}, []use{useAliasA}, append(slices.Clone(useA), useB...)},
		{"alias/b's record under alias/a", func(t *testing.T) {
			ts.put(t, "kms.aliases", ts.aliasA, aliasB)
		}, []use{useAliasA}, append(slices.Clone(useA), useB...)},
		{"A's grant moved to B", func(t *testing.T) {
			ts.put(t, "kms.grants", ts.b+"\x00"+ts.grant, grant)
		}, useB[:2], useA},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.damage(t)
			ts.expect(t, tc.name, tc.damaged, tc.working)
			ts.put(t, "kms.keys", ts.a, keyA)
			ts.put(t, "kms.keys", ts.b, keyB)
			ts.put(t, "kms.aliases", ts.aliasA, aliasA)
			ts.db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("kms.grants")).Delete([]byte(ts.b + "\x00" + ts.grant))
			})
			ts.expect(t, "restored", nil, append(append(slices.Clone(useA), useAliasA), useB...))
		})
	}
}

// FuzzKeyRecordEdits applies edits (each 3 bytes: a big-endian offset into the record and the
// byte to put there) to a stored key record: whatever the edits, a record that differs from
// the stored one is a damaged record, never a usable key. The checked-in corpus holds edits of
// field names, the format, the MAC, the policy and the sealed material.
func FuzzKeyRecordEdits(f *testing.F) {
	ents, err := os.ReadDir(filepath.Join("testdata", "fuzz", "FuzzKeyRecordEdits"))
	if err != nil || len(ents) == 0 {
		f.Fatalf("no seed corpus in testdata/fuzz/FuzzKeyRecordEdits: %v", err)
	}
	ts := newTamperStore(f)
	orig := ts.get(f, "kms.keys", ts.a)
	// Edits at places found in this run's record: its lengths vary with its times.
	edit := func(at string, d int, b ...byte) []byte {
		i := bytes.Index(orig, []byte(at))
		if i < 0 {
			f.Fatalf("%q is not in the record", at)
		}
		var e []byte
		for j, c := range b {
			e = binary.BigEndian.AppendUint16(e, uint16(i+d+j))
			e = append(e, c)
		}
		return e
	}
	f.Add(edit(`"RecordFormat":2`, len(`"RecordFormat":`), '1'))
	f.Add(edit(`"Policy":`, 1, 'p', 'o'))                     // re-cased: the same field for encoding/json
	f.Add(edit(`"ValidTo":"0001`, 1, 'v'))                    // a zero field renamed away
	f.Add(edit(`"MAC":"`, len(`"MAC":"`)+42, 'A', 'B'))       // the MAC's last base64 characters
	f.Add(edit(`"Sealed":"`, len(`"Sealed":"`)+4, 'x'))       // the sealed material
	f.Add(edit(`"Enabled"`, 1, 'D', 'i', 's', 'a', 'b', 'l')) // the state changed
	f.Fuzz(func(t *testing.T, edits []byte) {
		v := slices.Clone(orig)
		for i := 0; i+3 <= len(edits); i += 3 {
			v[int(binary.BigEndian.Uint16(edits[i:]))%len(v)] = edits[i+2]
		}
		if bytes.Equal(v, orig) {
			return
		}
		ts.put(t, "kms.keys", ts.a, v)
		defer ts.put(t, "kms.keys", ts.a, orig)
		ts.expect(t, fmt.Sprintf("edits %x", edits), useA, useB)
	})
}
