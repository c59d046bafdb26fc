package server

import (
	"context"
	"time"

	"github.com/coffer/coffer/internal/kms"
)

// timedKMS is a kms.Store whose calls are timed as the metadata and blob stores' are (see
// storemetrics.go). The KMS reads its store on cache misses and writes it on changes; a
// request that finds its key cached does not come here.
type timedKMS struct {
	s kms.Store
	m *serverMetrics
}

// timedKMSUsage is a timedKMS over a store that also keeps key usage (kms.UsageStore), which
// the KMS finds by a type assertion: the decorator must keep offering it.
type timedKMSUsage struct {
	timedKMS
	u kms.UsageStore
}

var (
	_ kms.Store      = timedKMS{}
	_ kms.UsageStore = timedKMSUsage{}
)

// timeKMSStore returns s, timed; s itself when m is nil (a Server opened for an admin
// command, which serves nothing, keeps no metrics).
func (m *serverMetrics) timeKMSStore(s kms.Store) kms.Store {
	if m == nil {
		return s
	}
	t := timedKMS{s: s, m: m}
	if u, ok := s.(kms.UsageStore); ok {
		return timedKMSUsage{timedKMS: t, u: u}
	}
	return t
}

// UpgradeRecords is timed; fn's error is the caller's.
func (t timedKMS) UpgradeRecords(ctx context.Context, format int, fn func(*kms.Records) (bool, error)) error {
	c := t.m.storeCall("kms", "UpgradeRecords")
	err := t.s.UpgradeRecords(ctx, format, func(r *kms.Records) (bool, error) {
		ok, err := fn(r)
		return ok, c.caller(err)
	})
	c.done(err)
	return err
}

func (t timedKMS) CreateKey(ctx context.Context, k *kms.Key, alias *kms.Alias, quota int) error {
	c := t.m.storeCall("kms", "CreateKey")
	err := t.s.CreateKey(ctx, k, alias, quota)
	c.done(err)
	return err
}

func (t timedKMS) GetKey(ctx context.Context, id string) (*kms.Key, error) {
	c := t.m.storeCall("kms", "GetKey")
	r0, err := t.s.GetKey(ctx, id)
	c.done(err)
	return r0, err
}

func (t timedKMS) UpdateKey(ctx context.Context, id string, fn func(*kms.Key) error) (*kms.Key, error) {
	c := t.m.storeCall("kms", "UpdateKey")
	r0, err := t.s.UpdateKey(ctx, id, func(k *kms.Key) error { return c.caller(fn(k)) })
	c.done(err)
	return r0, err
}

func (t timedKMS) DeleteKey(ctx context.Context, id string) error {
	c := t.m.storeCall("kms", "DeleteKey")
	err := t.s.DeleteKey(ctx, id)
	c.done(err)
	return err
}

func (t timedKMS) ListKeys(ctx context.Context, account, after string, limit int) ([]*kms.Key, error) {
	c := t.m.storeCall("kms", "ListKeys")
	r0, err := t.s.ListKeys(ctx, account, after, limit)
	c.done(err)
	return r0, err
}

func (t timedKMS) ScanKeys(ctx context.Context, fn func(*kms.Key) bool) error {
	c := t.m.storeCall("kms", "ScanKeys")
	err := t.s.ScanKeys(ctx, fn)
	c.done(err)
	return err
}

func (t timedKMS) PutAlias(ctx context.Context, a kms.Alias, create bool) error {
	c := t.m.storeCall("kms", "PutAlias")
	err := t.s.PutAlias(ctx, a, create)
	c.done(err)
	return err
}

func (t timedKMS) GetAlias(ctx context.Context, account, name string) (kms.Alias, error) {
	c := t.m.storeCall("kms", "GetAlias")
	r0, err := t.s.GetAlias(ctx, account, name)
	c.done(err)
	return r0, err
}

func (t timedKMS) DeleteAlias(ctx context.Context, account, name string) error {
	c := t.m.storeCall("kms", "DeleteAlias")
	err := t.s.DeleteAlias(ctx, account, name)
	c.done(err)
	return err
}

func (t timedKMS) ListAliases(ctx context.Context, account, after string, limit int) ([]kms.Alias, error) {
	c := t.m.storeCall("kms", "ListAliases")
	r0, err := t.s.ListAliases(ctx, account, after, limit)
	c.done(err)
	return r0, err
}

func (t timedKMS) PutGrant(ctx context.Context, g kms.Grant) error {
	c := t.m.storeCall("kms", "PutGrant")
	err := t.s.PutGrant(ctx, g)
	c.done(err)
	return err
}

func (t timedKMS) DeleteGrant(ctx context.Context, keyID, grantID string) error {
	c := t.m.storeCall("kms", "DeleteGrant")
	err := t.s.DeleteGrant(ctx, keyID, grantID)
	c.done(err)
	return err
}

func (t timedKMS) ListGrants(ctx context.Context, keyID string) ([]kms.Grant, error) {
	c := t.m.storeCall("kms", "ListGrants")
	r0, err := t.s.ListGrants(ctx, keyID)
	c.done(err)
	return r0, err
}

func (t timedKMS) ScanGrants(ctx context.Context, fn func(kms.Grant) bool) error {
	c := t.m.storeCall("kms", "ScanGrants")
	err := t.s.ScanGrants(ctx, fn)
	c.done(err)
	return err
}

func (t timedKMS) PutKeyStore(ctx context.Context, ks kms.KeyStore, create bool) error {
	c := t.m.storeCall("kms", "PutKeyStore")
	err := t.s.PutKeyStore(ctx, ks, create)
	c.done(err)
	return err
}

func (t timedKMS) GetKeyStore(ctx context.Context, id string) (kms.KeyStore, error) {
	c := t.m.storeCall("kms", "GetKeyStore")
	r0, err := t.s.GetKeyStore(ctx, id)
	c.done(err)
	return r0, err
}

func (t timedKMS) DeleteKeyStore(ctx context.Context, id string) error {
	c := t.m.storeCall("kms", "DeleteKeyStore")
	err := t.s.DeleteKeyStore(ctx, id)
	c.done(err)
	return err
}

func (t timedKMS) ListKeyStores(ctx context.Context) ([]kms.KeyStore, error) {
	c := t.m.storeCall("kms", "ListKeyStores")
	r0, err := t.s.ListKeyStores(ctx)
	c.done(err)
	return r0, err
}

func (t timedKMS) Canary(ctx context.Context) ([]byte, error) {
	c := t.m.storeCall("kms", "Canary")
	r0, err := t.s.Canary(ctx)
	c.done(err)
	return r0, err
}

func (t timedKMS) PutCanary(ctx context.Context, sealed []byte) error {
	c := t.m.storeCall("kms", "PutCanary")
	err := t.s.PutCanary(ctx, sealed)
	c.done(err)
	return err
}

func (t timedKMSUsage) PutLastUsage(ctx context.Context, uses map[string]kms.KeyUsage) error {
	c := t.m.storeCall("kms", "PutLastUsage")
	err := t.u.PutLastUsage(ctx, uses)
	c.done(err)
	return err
}

func (t timedKMSUsage) LastUsage(ctx context.Context, id string) (kms.KeyUsage, bool, error) {
	c := t.m.storeCall("kms", "LastUsage")
	r0, r1, err := t.u.LastUsage(ctx, id)
	c.done(err)
	return r0, r1, err
}

func (t timedKMSUsage) TrackingStart(ctx context.Context, now time.Time) (time.Time, error) {
	c := t.m.storeCall("kms", "TrackingStart")
	r0, err := t.u.TrackingStart(ctx, now)
	c.done(err)
	return r0, err
}
