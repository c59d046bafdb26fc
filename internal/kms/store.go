package kms

import (
	"context"
	"errors"
)

// Store errors. Backends wrap them with %w.
var (
	ErrStoreNoSuchKey      = errors.New("kms store: no such key")
	ErrStoreKeyExists      = errors.New("kms store: key exists")
	ErrStoreNoSuchAlias    = errors.New("kms store: no such alias")
	ErrStoreAliasExists    = errors.New("kms store: alias exists")
	ErrStoreNoSuchGrant    = errors.New("kms store: no such grant")
	ErrStoreNoSuchKeyStore = errors.New("kms store: no such custom key store")
	ErrStoreAliasNoTarget  = errors.New("kms store: alias target key does not exist")
	// ErrStoreQuota means the account already holds as many customer managed keys as the
	// quota CreateKey was given.
	ErrStoreQuota = errors.New("kms store: customer managed key quota reached")
	// ErrStoreDamaged means a stored record could not be read: that key (or alias, grant)
	// is unusable until restored, the others serve.
	ErrStoreDamaged = errors.New("kms store: damaged record")
)

// Store keeps keys, aliases and grants. Each method is one transaction: it happens whole or
// not at all, and once it returns nil the change is durable. Key material reaches a Store only
// sealed. Every backend must pass the conformance suite in package kmstest.
type Store interface {
	// CreateKey stores a new key (ErrStoreKeyExists if its ID is taken) and, when alias is not
	// nil, an alias to it in the same transaction (ErrStoreAliasExists if the name is taken).
	// When k is customer managed (Manager ManagerCustomer, not Owned) and quota > 0, the store
	// refuses it with ErrStoreQuota if k.Account already holds quota such keys, whatever their
	// state. The count is kept by the store and changed in the transactions that create and
	// delete keys, so that two CreateKey calls cannot both take the last place.
	CreateKey(ctx context.Context, k *Key, alias *Alias, quota int) error
	// GetKey returns the key with id (ErrStoreNoSuchKey; ErrStoreDamaged if its record cannot
	// be read).
	GetKey(ctx context.Context, id string) (*Key, error)
	// UpdateKey reads the key, applies fn and stores the result atomically. If fn returns an
	// error nothing is written and that error is returned. Returns the stored key.
	UpdateKey(ctx context.Context, id string, fn func(*Key) error) (*Key, error)
	// DeleteKey removes the key with its aliases and grants (ErrStoreNoSuchKey).
	DeleteKey(ctx context.Context, id string) error
	// ListKeys returns the keys of account with ID > after, ascending, at most limit (<= 0: all).
	// A key whose record cannot be read is listed with only ID and Account set, so that one
	// damaged record does not hide the others; GetKey on it fails with ErrStoreDamaged.
	ListKeys(ctx context.Context, account, after string, limit int) ([]*Key, error)
	// ScanKeys calls fn for every key of every account until fn returns false. A record that
	// cannot be read is skipped and reported in the returned error after the others were seen.
	ScanKeys(ctx context.Context, fn func(*Key) bool) error

	// PutAlias creates (create true: ErrStoreAliasExists if present) or retargets (create
	// false: ErrStoreNoSuchAlias if absent) an alias. The target key must exist
	// (ErrStoreAliasNoTarget).
	PutAlias(ctx context.Context, a Alias, create bool) error
	// GetAlias returns an alias of account (ErrStoreNoSuchAlias).
	GetAlias(ctx context.Context, account, name string) (Alias, error)
	// DeleteAlias removes an alias (ErrStoreNoSuchAlias).
	DeleteAlias(ctx context.Context, account, name string) error
	// ListAliases returns the aliases of account with Name > after, ascending by name, at most
	// limit (<= 0: all). An alias whose record cannot be read is listed with only Account and
	// Name set (KeyID empty), so that one damaged record does not hide the others.
	ListAliases(ctx context.Context, account, after string, limit int) ([]Alias, error)

	// PutGrant stores a grant; its key must exist (ErrStoreNoSuchKey).
	PutGrant(ctx context.Context, g Grant) error
	// DeleteGrant removes a grant (ErrStoreNoSuchGrant).
	DeleteGrant(ctx context.Context, keyID, grantID string) error
	// ListGrants returns the grants of a key ordered by grant id (ErrStoreDamaged if one
	// cannot be read).
	ListGrants(ctx context.Context, keyID string) ([]Grant, error)
	// ScanGrants calls fn for every grant of every key until fn returns false. A record that
	// cannot be read is skipped and reported in the returned error after the others were seen.
	ScanGrants(ctx context.Context, fn func(Grant) bool) error

	// PutKeyStore creates (create true: ErrStoreKeyExists if the id is taken) or replaces
	// (create false: ErrStoreNoSuchKeyStore if absent) a custom key store record.
	PutKeyStore(ctx context.Context, ks KeyStore, create bool) error
	// GetKeyStore returns a custom key store (ErrStoreNoSuchKeyStore).
	GetKeyStore(ctx context.Context, id string) (KeyStore, error)
	// DeleteKeyStore removes a custom key store (ErrStoreNoSuchKeyStore).
	DeleteKeyStore(ctx context.Context, id string) error
	// ListKeyStores returns every custom key store of every account, ascending by id.
	ListKeyStores(ctx context.Context) ([]KeyStore, error)

	// Canary returns the root-key canary (SPEC.md §2.1), or nil if none is stored yet.
	Canary(ctx context.Context) ([]byte, error)
	// PutCanary stores the root-key canary once (ErrStoreKeyExists if there is one).
	PutCanary(ctx context.Context, sealed []byte) error

	// UpgradeRecords brings the records to record format format: it reads every key, alias
	// and grant record that can be read into one Records and calls fn with it, in one write
	// transaction. When fn returns true, every record of Records is written back in that
	// transaction (fn may change any field but the identity: a key's ID and Account, an
	// alias's Account and Name, a grant's KeyID and GrantID); when it returns false, no record
	// is written. Records that cannot be read are left as they are. When fn returns no error
	// the store also remembers format, in the same transaction, and later calls with that
	// format or an older one return at once without reading any record (the memory only saves
	// the reading: forgetting it is safe). When fn returns an error nothing is written.
	UpgradeRecords(ctx context.Context, format int, fn func(*Records) (bool, error)) error
}

// Records are all the readable records of a Store, for UpgradeRecords.
type Records struct {
	Keys    []*Key
	Aliases []Alias
	Grants  []Grant
}
