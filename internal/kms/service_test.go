package kms

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// memStore is a Store in memory that keeps every JSON record it was ever given, so tests can
// check what would have reached the disk.
type memStore struct {
	mu      sync.Mutex
	keys    map[string][]byte
	aliases map[string]Alias
	grants  map[string]Grant
	written bytes.Buffer
	canary  []byte
}

func newMemStore() *memStore {
	return &memStore{keys: map[string][]byte{}, aliases: map[string]Alias{}, grants: map[string]Grant{}}
}

func (m *memStore) put(k *Key) error {
	b, err := json.Marshal(k)
	if err != nil {
		return err
	}
	m.keys[k.ID] = b
	m.written.Write(b)
	return nil
}

func (m *memStore) get(id string) (*Key, error) {
	b, ok := m.keys[id]
	if !ok {
		return nil, ErrStoreNoSuchKey
	}
	k := new(Key)
	return k, json.Unmarshal(b, k)
}

func (m *memStore) CreateKey(_ context.Context, k *Key, a *Alias, _ int) error { // no quota: these tests do not reach it
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.keys[k.ID]; ok {
		return ErrStoreKeyExists
	}
	if a != nil {
		m.aliases[a.Account+"/"+a.Name] = *a
	}
	return m.put(k)
}

func (m *memStore) GetKey(_ context.Context, id string) (*Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.get(id)
}

func (m *memStore) UpdateKey(_ context.Context, id string, fn func(*Key) error) (*Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, err := m.get(id)
	if err != nil {
		return nil, err
	}
	if err := fn(k); err != nil {
		return nil, err
	}
	return k, m.put(k)
}

func (m *memStore) DeleteKey(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, id)
	return nil
}

func (m *memStore) ListKeys(_ context.Context, account, after string, limit int) ([]*Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Key
	for id := range m.keys {
		k, _ := m.get(id)
		if k.Account == account && id > after {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *memStore) ScanKeys(_ context.Context, fn func(*Key) bool) error {
	m.mu.Lock()
	var ks []*Key
	for id := range m.keys {
		k, _ := m.get(id)
		ks = append(ks, k)
	}
	m.mu.Unlock()
	for _, k := range ks {
		if !fn(k) {
			break
		}
	}
	return nil
}

func (m *memStore) Canary(context.Context) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.canary, nil
}

func (m *memStore) PutCanary(_ context.Context, sealed []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.canary != nil {
		return ErrStoreKeyExists
	}
	m.canary = sealed
	return nil
}

func (m *memStore) PutAlias(_ context.Context, a Alias, create bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, exists := m.aliases[a.Account+"/"+a.Name]
	if create && exists {
		return ErrStoreAliasExists
	}
	if !create && !exists {
		return ErrStoreNoSuchAlias
	}
	m.aliases[a.Account+"/"+a.Name] = a
	return nil
}

func (m *memStore) GetAlias(_ context.Context, account, name string) (Alias, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.aliases[account+"/"+name]
	if !ok {
		return a, ErrStoreNoSuchAlias
	}
	return a, nil
}

func (m *memStore) DeleteAlias(_ context.Context, account, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.aliases, account+"/"+name)
	return nil
}

func (m *memStore) ListAliases(_ context.Context, account, after string, limit int) ([]Alias, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Alias
	for _, a := range m.aliases {
		if a.Account == account && a.Name > after {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b Alias) int { return strings.Compare(a.Name, b.Name) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *memStore) UpgradeRecords(context.Context, int, func(*Records) (bool, error)) error {
	return nil
}
func (m *memStore) PutGrant(context.Context, Grant) error               { return nil }
func (m *memStore) DeleteGrant(context.Context, string, string) error   { return nil }
func (m *memStore) ListGrants(context.Context, string) ([]Grant, error) { return nil, nil }
func (m *memStore) ScanGrants(context.Context, func(Grant) bool) error  { return nil }
func (m *memStore) PutKeyStore(context.Context, KeyStore, bool) error   { return nil }
func (m *memStore) GetKeyStore(context.Context, string) (KeyStore, error) {
	return KeyStore{}, ErrStoreNoSuchKeyStore
}
func (m *memStore) DeleteKeyStore(context.Context, string) error      { return nil }
func (m *memStore) ListKeyStores(context.Context) ([]KeyStore, error) { return nil, nil }

var _ Store = (*memStore)(nil)

// TestMaterialNeverReachesStoreOrLogs creates a key of every spec, unseals each version's
// material and checks that no record handed to the Store, and no log line, contains it.
func TestMaterialNeverReachesStoreOrLogs(t *testing.T) {
	ctx := context.Background()
	root, err := OpenFileRootKey(filepath.Join(t.TempDir(), "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	store := newMemStore()
	var logs bytes.Buffer
	s, err := New(Config{Store: store, Root: root, Region: "us-east-1", Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	c := Caller{Account: "111122223333", ARN: "arn:aws:iam::111122223333:root"}
	var ids []string
	for spec, sp := range specs {
		if sp.rsaBits > 2048 {
			continue // slow, and the same code path as RSA_2048
		}
		m, err := s.CreateKey(ctx, c, CreateKeyInput{KeySpec: spec, KeyUsage: sp.usages[0]})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.KeyId)
	}
	sym, _ := s.CreateKey(ctx, c, CreateKeyInput{})
	if _, err := s.RotateKeyOnDemand(ctx, c, sym.KeyId); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, sym.KeyId)
	for _, id := range ids {
		e, err := s.load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for i := range e.key.Versions {
			v := &e.key.Versions[i]
			raw, err := root.Open(ctx, v.Sealed, sealAAD(id, v.Number))
			if err != nil {
				t.Fatal(err)
			}
			m, _ := s.material(ctx, e, v)
			if fmt.Sprint(m) != "REDACTED" {
				t.Fatalf("material prints as %q", fmt.Sprint(m))
			}
			for _, form := range [][]byte{raw, []byte(hex.EncodeToString(raw)), []byte(strings.ToUpper(hex.EncodeToString(raw)))} {
				if bytes.Contains(store.written.Bytes(), form) {
					t.Fatalf("material of %s (%s) reached the store", id, e.key.Spec)
				}
				if bytes.Contains(logs.Bytes(), form) {
					t.Fatalf("material of %s reached the logs", id)
				}
			}
			// the JSON encoding of a record carries sealed bytes in base64: check that form too
			b64, _ := json.Marshal(raw)
			if bytes.Contains(store.written.Bytes(), b64[1:len(b64)-1]) {
				t.Fatalf("material of %s reached the store in base64", id)
			}
		}
	}
}
