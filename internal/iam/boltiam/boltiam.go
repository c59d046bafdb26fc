// Package boltiam is the go.etcd.io/bbolt Store of package iam. It shares a *bbolt.DB with the
// other users of meta.db and keeps to top-level buckets whose names start with "iam.".
//
// Layout (names of users, roles and policies are keyed lower-cased: unique ignoring case):
//
//	iam.accounts   <account id>                                  → Account
//	iam.users      <account> 0 <user>                            → User
//	iam.roles      <account> 0 <role>                            → Role
//	iam.keys       <access key id>                               → AccessKey
//	iam.keys.owner <account> 0 <user or ""> 0 <access key id>    → empty
//	iam.inline     <kind> 0 <account> 0 <entity> 0 <policy name> → InlinePolicy
//	iam.policies   <account> 0 <policy>                          → ManagedPolicy
//	iam.attached   <kind> 0 <account> 0 <entity> 0 <policy>      → empty
//	iam.attachedby <account> 0 <policy> 0 <kind> 0 <entity>      → empty
//	iam.sessions   <access key id>                               → Session
//
// Records are package iamrec's: a version byte (1) followed by JSON.
package boltiam

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/iam/iamrec"
)

var (
	bAccounts   = []byte("iam.accounts")
	bUsers      = []byte("iam.users")
	bRoles      = []byte("iam.roles")
	bKeys       = []byte("iam.keys")
	bKeysOwner  = []byte("iam.keys.owner")
	bInline     = []byte("iam.inline")
	bPolicies   = []byte("iam.policies")
	bAttached   = []byte("iam.attached")
	bAttachedBy = []byte("iam.attachedby")
	bSessions   = []byte("iam.sessions")
	allBuckets  = [][]byte{bAccounts, bUsers, bRoles, bKeys, bKeysOwner, bInline, bPolicies, bAttached, bAttachedBy, bSessions}
)

// TopBuckets names the top-level buckets the store keeps, for the file's format record.
func TopBuckets() []string {
	out := make([]string, len(allBuckets))
	for i, b := range allBuckets {
		out[i] = string(b)
	}
	return out
}

// Store is an iam.Store on a bbolt database. It is safe for concurrent use.
type Store struct {
	db *bolt.DB
}

var _ iam.Store = (*Store)(nil)

// New creates the store's buckets in db if needed (on a read-only db it creates nothing, for
// inspection). The caller owns db and closes it.
func New(db *bolt.DB) (*Store, error) {
	if db.IsReadOnly() {
		return &Store{db: db}, nil
	}
	if err := boltfile.CreateBuckets(db, TopBuckets()); err != nil {
		return nil, fmt.Errorf("boltiam: creating buckets: %w", err)
	}
	return &Store{db: db}, nil
}

// key joins parts with 0 bytes.
func key(parts ...string) []byte {
	return []byte(strings.Join(parts, "\x00"))
}

func lower(s string) string { return strings.ToLower(s) }

func entityKey(e iam.Entity) string {
	return string(e.Kind) + "\x00" + e.Account + "\x00" + lower(e.Name)
}

func put[T iamrec.Record](b *bolt.Bucket, k []byte, v T) error {
	data, err := iamrec.Encode(v)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}

func get[T iamrec.Record](b *bolt.Bucket, k []byte, v *T) error {
	data := b.Get(k)
	if data == nil {
		return iam.ErrNoSuchEntity
	}
	if err := iamrec.Decode(data, v); err != nil {
		return fmt.Errorf("boltiam: record %q: %w", k, err)
	}
	return nil
}

// list decodes every record under prefix into a new T each.
func list[T iamrec.Record](b *bolt.Bucket, prefix []byte) ([]T, error) {
	var out []T
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		var v T
		if err := get(b, k, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// hasPrefix reports whether any key of b starts with prefix.
func hasPrefix(b *bolt.Bucket, prefix []byte) bool {
	k, _ := b.Cursor().Seek(prefix)
	return k != nil && bytes.HasPrefix(k, prefix)
}

func countPrefix(b *bolt.Bucket, prefix []byte) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	return n
}

func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

func (s *Store) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(fn)
}

func accountExists(tx *bolt.Tx, id string) bool { return tx.Bucket(bAccounts).Get([]byte(id)) != nil }

// CreateAccount implements iam.Store.
func (s *Store) CreateAccount(ctx context.Context, a iam.Account) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		if accountExists(tx, a.ID) {
			return fmt.Errorf("account %s: %w", a.ID, iam.ErrEntityExists)
		}
		return put(tx.Bucket(bAccounts), []byte(a.ID), a)
	})
}

// GetAccount implements iam.Store.
func (s *Store) GetAccount(ctx context.Context, id string) (iam.Account, error) {
	var a iam.Account
	err := s.view(ctx, func(tx *bolt.Tx) error { return get(tx.Bucket(bAccounts), []byte(id), &a) })
	return a, err
}

// ListAccounts implements iam.Store.
func (s *Store) ListAccounts(ctx context.Context) ([]iam.Account, error) {
	var out []iam.Account
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		out, err = list[iam.Account](tx.Bucket(bAccounts), nil)
		return err
	})
	return out, err
}

// CreateUser implements iam.Store.
func (s *Store) CreateUser(ctx context.Context, u iam.User) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		if !accountExists(tx, u.Account) {
			return fmt.Errorf("account %s: %w", u.Account, iam.ErrNoSuchEntity)
		}
		b, k := tx.Bucket(bUsers), key(u.Account, lower(u.Name))
		if b.Get(k) != nil {
			return fmt.Errorf("user %s: %w", u.Name, iam.ErrEntityExists)
		}
		return put(b, k, u)
	})
}

// GetUser implements iam.Store.
func (s *Store) GetUser(ctx context.Context, account, name string) (iam.User, error) {
	var u iam.User
	err := s.view(ctx, func(tx *bolt.Tx) error { return get(tx.Bucket(bUsers), key(account, lower(name)), &u) })
	return u, err
}

// ListUsers implements iam.Store.
func (s *Store) ListUsers(ctx context.Context, account string) ([]iam.User, error) {
	var out []iam.User
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		out, err = list[iam.User](tx.Bucket(bUsers), key(account, ""))
		return err
	})
	return out, err
}

// UpdateUser implements iam.Store.
func (s *Store) UpdateUser(ctx context.Context, account, name string, fn func(*iam.User) error) (iam.User, error) {
	var u iam.User
	err := s.update(ctx, func(tx *bolt.Tx) error {
		return updateNamed(tx.Bucket(bUsers), key(account, lower(name)), &u, fn, func(u iam.User) string { return u.Account + "\x00" + u.Name })
	})
	return u, err
}

// updateNamed reads the record at k into v, applies fn and writes v back if fn succeeds and
// left the record's identity (its account and name) alone.
func updateNamed[T iamrec.Record](b *bolt.Bucket, k []byte, v *T, fn func(*T) error, identity func(T) string) error {
	if err := get(b, k, v); err != nil {
		return err
	}
	was := identity(*v)
	if err := fn(v); err != nil {
		return err
	}
	if identity(*v) != was {
		return fmt.Errorf("boltiam: record %q: renaming: %w", k, iam.ErrValidation)
	}
	return put(b, k, *v)
}

// DeleteUser implements iam.Store.
func (s *Store) DeleteUser(ctx context.Context, account, name string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		b, k := tx.Bucket(bUsers), key(account, lower(name))
		var u iam.User
		if err := get(b, k, &u); err != nil {
			return err
		}
		e := entityKey(iam.Entity{Kind: iam.KindUser, Account: account, Name: name})
		switch {
		case hasPrefix(tx.Bucket(bKeysOwner), key(account, u.Name, "")):
			return fmt.Errorf("user %s has access keys: %w", name, iam.ErrDeleteConflict)
		case hasPrefix(tx.Bucket(bInline), []byte(e+"\x00")):
			return fmt.Errorf("user %s has inline policies: %w", name, iam.ErrDeleteConflict)
		case hasPrefix(tx.Bucket(bAttached), []byte(e+"\x00")):
			return fmt.Errorf("user %s has attached policies: %w", name, iam.ErrDeleteConflict)
		}
		return b.Delete(k)
	})
}

// CreateAccessKey implements iam.Store.
func (s *Store) CreateAccessKey(ctx context.Context, k iam.AccessKey, max int) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		if !accountExists(tx, k.Account) {
			return fmt.Errorf("account %s: %w", k.Account, iam.ErrNoSuchEntity)
		}
		if k.UserName != "" {
			var u iam.User
			if err := get(tx.Bucket(bUsers), key(k.Account, lower(k.UserName)), &u); err != nil {
				return fmt.Errorf("user %s: %w", k.UserName, err)
			}
			k.UserName = u.Name
		}
		keys, owner := tx.Bucket(bKeys), tx.Bucket(bKeysOwner)
		if keys.Get([]byte(k.ID)) != nil {
			return fmt.Errorf("access key %s: %w", k.ID, iam.ErrEntityExists)
		}
		if max > 0 && countPrefix(owner, key(k.Account, k.UserName, "")) >= max {
			return fmt.Errorf("access keys of %q: %w", k.UserName, iam.ErrLimitExceeded)
		}
		if err := owner.Put(key(k.Account, k.UserName, k.ID), nil); err != nil {
			return err
		}
		return put(keys, []byte(k.ID), k)
	})
}

// GetAccessKey implements iam.Store.
func (s *Store) GetAccessKey(ctx context.Context, id string) (iam.AccessKey, error) {
	var k iam.AccessKey
	err := s.view(ctx, func(tx *bolt.Tx) error { return get(tx.Bucket(bKeys), []byte(id), &k) })
	return k, err
}

// ListAccessKeys implements iam.Store.
func (s *Store) ListAccessKeys(ctx context.Context, account, user string) ([]iam.AccessKey, error) {
	var out []iam.AccessKey
	err := s.view(ctx, func(tx *bolt.Tx) error {
		name, err := canonicalUser(tx, account, user)
		if err != nil {
			return err
		}
		prefix := key(account, name, "")
		keys := tx.Bucket(bKeys)
		c := tx.Bucket(bKeysOwner).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var ak iam.AccessKey
			if err := get(keys, k[len(prefix):], &ak); err != nil {
				return err
			}
			out = append(out, ak)
		}
		return nil
	})
	return out, err
}

// canonicalUser returns the stored spelling of a user's name ("" stays "": the root).
func canonicalUser(tx *bolt.Tx, account, user string) (string, error) {
	if user == "" {
		return "", nil
	}
	var u iam.User
	if err := get(tx.Bucket(bUsers), key(account, lower(user)), &u); err != nil {
		return "", fmt.Errorf("user %s: %w", user, err)
	}
	return u.Name, nil
}

// ownedKey reads a key and checks that it belongs to account and user.
func ownedKey(tx *bolt.Tx, account, user, id string) (iam.AccessKey, error) {
	var k iam.AccessKey
	if err := get(tx.Bucket(bKeys), []byte(id), &k); err != nil {
		return k, err
	}
	if k.Account != account || !strings.EqualFold(k.UserName, user) {
		return k, fmt.Errorf("access key %s: %w", id, iam.ErrNoSuchEntity)
	}
	return k, nil
}

// SetAccessKeyStatus implements iam.Store.
func (s *Store) SetAccessKeyStatus(ctx context.Context, account, user, id, status string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		k, err := ownedKey(tx, account, user, id)
		if err != nil {
			return err
		}
		k.Status = status
		return put(tx.Bucket(bKeys), []byte(id), k)
	})
}

// DeleteAccessKey implements iam.Store.
func (s *Store) DeleteAccessKey(ctx context.Context, account, user, id string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		k, err := ownedKey(tx, account, user, id)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bKeysOwner).Delete(key(k.Account, k.UserName, k.ID)); err != nil {
			return err
		}
		return tx.Bucket(bKeys).Delete([]byte(id))
	})
}

// CreateRole implements iam.Store.
func (s *Store) CreateRole(ctx context.Context, r iam.Role) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		if !accountExists(tx, r.Account) {
			return fmt.Errorf("account %s: %w", r.Account, iam.ErrNoSuchEntity)
		}
		b, k := tx.Bucket(bRoles), key(r.Account, lower(r.Name))
		if b.Get(k) != nil {
			return fmt.Errorf("role %s: %w", r.Name, iam.ErrEntityExists)
		}
		return put(b, k, r)
	})
}

// GetRole implements iam.Store.
func (s *Store) GetRole(ctx context.Context, account, name string) (iam.Role, error) {
	var r iam.Role
	err := s.view(ctx, func(tx *bolt.Tx) error { return get(tx.Bucket(bRoles), key(account, lower(name)), &r) })
	return r, err
}

// ListRoles implements iam.Store.
func (s *Store) ListRoles(ctx context.Context, account string) ([]iam.Role, error) {
	var out []iam.Role
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		out, err = list[iam.Role](tx.Bucket(bRoles), key(account, ""))
		return err
	})
	return out, err
}

// UpdateRole implements iam.Store.
func (s *Store) UpdateRole(ctx context.Context, account, name string, fn func(*iam.Role) error) (iam.Role, error) {
	var r iam.Role
	err := s.update(ctx, func(tx *bolt.Tx) error {
		return updateNamed(tx.Bucket(bRoles), key(account, lower(name)), &r, fn, func(r iam.Role) string { return r.Account + "\x00" + r.Name })
	})
	return r, err
}

// DeleteRole implements iam.Store.
func (s *Store) DeleteRole(ctx context.Context, account, name string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		b, k := tx.Bucket(bRoles), key(account, lower(name))
		if b.Get(k) == nil {
			return fmt.Errorf("role %s: %w", name, iam.ErrNoSuchEntity)
		}
		e := entityKey(iam.Entity{Kind: iam.KindRole, Account: account, Name: name})
		switch {
		case hasPrefix(tx.Bucket(bInline), []byte(e+"\x00")):
			return fmt.Errorf("role %s has inline policies: %w", name, iam.ErrDeleteConflict)
		case hasPrefix(tx.Bucket(bAttached), []byte(e+"\x00")):
			return fmt.Errorf("role %s has attached policies: %w", name, iam.ErrDeleteConflict)
		}
		return b.Delete(k)
	})
}

// entityExists checks that a user or role exists.
func entityExists(tx *bolt.Tx, e iam.Entity) error {
	b := bUsers
	if e.Kind == iam.KindRole {
		b = bRoles
	} else if e.Kind != iam.KindUser {
		return fmt.Errorf("entity kind %q: %w", e.Kind, iam.ErrValidation)
	}
	if tx.Bucket(b).Get(key(e.Account, lower(e.Name))) == nil {
		return fmt.Errorf("%s %s: %w", e.Kind, e.Name, iam.ErrNoSuchEntity)
	}
	return nil
}

// PutInlinePolicy implements iam.Store.
func (s *Store) PutInlinePolicy(ctx context.Context, e iam.Entity, p iam.InlinePolicy) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		if err := entityExists(tx, e); err != nil {
			return err
		}
		return put(tx.Bucket(bInline), []byte(entityKey(e)+"\x00"+p.Name), p)
	})
}

// GetInlinePolicy implements iam.Store.
func (s *Store) GetInlinePolicy(ctx context.Context, e iam.Entity, name string) (iam.InlinePolicy, error) {
	var p iam.InlinePolicy
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if err := entityExists(tx, e); err != nil {
			return err
		}
		return get(tx.Bucket(bInline), []byte(entityKey(e)+"\x00"+name), &p)
	})
	return p, err
}

// ListInlinePolicies implements iam.Store.
func (s *Store) ListInlinePolicies(ctx context.Context, e iam.Entity) ([]iam.InlinePolicy, error) {
	var out []iam.InlinePolicy
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		if err := entityExists(tx, e); err != nil {
			return err
		}
		out, err = list[iam.InlinePolicy](tx.Bucket(bInline), []byte(entityKey(e)+"\x00"))
		return err
	})
	return out, err
}

// DeleteInlinePolicy implements iam.Store.
func (s *Store) DeleteInlinePolicy(ctx context.Context, e iam.Entity, name string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		if err := entityExists(tx, e); err != nil {
			return err
		}
		b, k := tx.Bucket(bInline), []byte(entityKey(e)+"\x00"+name)
		if b.Get(k) == nil {
			return fmt.Errorf("policy %s: %w", name, iam.ErrNoSuchEntity)
		}
		return b.Delete(k)
	})
}

func attachedByPrefix(account, policy string) []byte {
	return key(account, lower(policy), "")
}

// CreatePolicy implements iam.Store.
func (s *Store) CreatePolicy(ctx context.Context, p iam.ManagedPolicy) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		if !accountExists(tx, p.Account) {
			return fmt.Errorf("account %s: %w", p.Account, iam.ErrNoSuchEntity)
		}
		b, k := tx.Bucket(bPolicies), key(p.Account, lower(p.Name))
		if b.Get(k) != nil {
			return fmt.Errorf("policy %s: %w", p.Name, iam.ErrEntityExists)
		}
		p.Attachments = 0
		return put(b, k, p)
	})
}

func getPolicy(tx *bolt.Tx, account, name string) (iam.ManagedPolicy, error) {
	var p iam.ManagedPolicy
	if err := get(tx.Bucket(bPolicies), key(account, lower(name)), &p); err != nil {
		return p, fmt.Errorf("policy %s: %w", name, err)
	}
	p.Attachments = countPrefix(tx.Bucket(bAttachedBy), attachedByPrefix(account, name))
	return p, nil
}

// GetPolicy implements iam.Store.
func (s *Store) GetPolicy(ctx context.Context, account, name string) (iam.ManagedPolicy, error) {
	var p iam.ManagedPolicy
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		p, err = getPolicy(tx, account, name)
		return err
	})
	return p, err
}

// ListPolicies implements iam.Store.
func (s *Store) ListPolicies(ctx context.Context, account string) ([]iam.ManagedPolicy, error) {
	var out []iam.ManagedPolicy
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		out, err = list[iam.ManagedPolicy](tx.Bucket(bPolicies), key(account, ""))
		for i := range out {
			out[i].Attachments = countPrefix(tx.Bucket(bAttachedBy), attachedByPrefix(account, out[i].Name))
		}
		return err
	})
	return out, err
}

// UpdatePolicy implements iam.Store.
func (s *Store) UpdatePolicy(ctx context.Context, account, name string, fn func(*iam.ManagedPolicy) error) (iam.ManagedPolicy, error) {
	var p iam.ManagedPolicy
	err := s.update(ctx, func(tx *bolt.Tx) (err error) {
		if p, err = getPolicy(tx, account, name); err != nil {
			return err
		}
		if err := fn(&p); err != nil {
			return err
		}
		n := p.Attachments
		p.Attachments = 0
		err = put(tx.Bucket(bPolicies), key(account, lower(name)), p)
		p.Attachments = n
		return err
	})
	return p, err
}

// DeletePolicy implements iam.Store.
func (s *Store) DeletePolicy(ctx context.Context, account, name string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		p, err := getPolicy(tx, account, name)
		if err != nil {
			return err
		}
		if p.Attachments > 0 {
			return fmt.Errorf("policy %s is attached: %w", name, iam.ErrDeleteConflict)
		}
		return tx.Bucket(bPolicies).Delete(key(account, lower(name)))
	})
}

// AttachPolicy implements iam.Store.
func (s *Store) AttachPolicy(ctx context.Context, e iam.Entity, policyName string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		if err := entityExists(tx, e); err != nil {
			return err
		}
		if _, err := getPolicy(tx, e.Account, policyName); err != nil {
			return err
		}
		if err := tx.Bucket(bAttached).Put([]byte(entityKey(e)+"\x00"+lower(policyName)), nil); err != nil {
			return err
		}
		by := string(attachedByPrefix(e.Account, policyName)) + string(e.Kind) + "\x00" + lower(e.Name)
		return tx.Bucket(bAttachedBy).Put([]byte(by), nil)
	})
}

// DetachPolicy implements iam.Store.
func (s *Store) DetachPolicy(ctx context.Context, e iam.Entity, policyName string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		if err := entityExists(tx, e); err != nil {
			return err
		}
		b, k := tx.Bucket(bAttached), []byte(entityKey(e)+"\x00"+lower(policyName))
		if b.Get(k) == nil {
			return fmt.Errorf("policy %s is not attached to %s: %w", policyName, e.Name, iam.ErrNoSuchEntity)
		}
		if err := b.Delete(k); err != nil {
			return err
		}
		by := string(attachedByPrefix(e.Account, policyName)) + string(e.Kind) + "\x00" + lower(e.Name)
		return tx.Bucket(bAttachedBy).Delete([]byte(by))
	})
}

// ListPolicyEntities implements iam.Store.
func (s *Store) ListPolicyEntities(ctx context.Context, account, policyName string) ([]iam.Entity, error) {
	var out []iam.Entity
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if _, err := getPolicy(tx, account, policyName); err != nil {
			return err
		}
		prefix := attachedByPrefix(account, policyName)
		c := tx.Bucket(bAttachedBy).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			kind, name, ok := strings.Cut(string(k[len(prefix):]), "\x00")
			if !ok {
				return fmt.Errorf("boltiam: attachment %q: %w", k, iam.ErrDamaged)
			}
			e := iam.Entity{Kind: iam.Kind(kind), Account: account, Name: name}
			var err error
			if e.Kind == iam.KindRole {
				var r iam.Role
				err = get(tx.Bucket(bRoles), key(account, name), &r)
				e.Name = r.Name
			} else {
				var u iam.User
				err = get(tx.Bucket(bUsers), key(account, name), &u)
				e.Name = u.Name
			}
			if err != nil {
				return fmt.Errorf("boltiam: attachment %q: %w", k, err)
			}
			out = append(out, e)
		}
		return nil
	})
	// Keys sort "role" before "user": IAM lists users first.
	sort.SliceStable(out, func(i, j int) bool { return out[i].Kind == iam.KindUser && out[j].Kind != iam.KindUser })
	return out, err
}

// ListAttachedPolicies implements iam.Store.
func (s *Store) ListAttachedPolicies(ctx context.Context, e iam.Entity) ([]iam.ManagedPolicy, error) {
	var out []iam.ManagedPolicy
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if err := entityExists(tx, e); err != nil {
			return err
		}
		prefix := []byte(entityKey(e) + "\x00")
		c := tx.Bucket(bAttached).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			p, err := getPolicy(tx, e.Account, string(k[len(prefix):]))
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// PutSession implements iam.Store.
func (s *Store) PutSession(ctx context.Context, ss iam.Session) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bSessions)
		if b.Get([]byte(ss.AccessKeyID)) != nil {
			return fmt.Errorf("session %s: %w", ss.AccessKeyID, iam.ErrEntityExists)
		}
		return put(b, []byte(ss.AccessKeyID), ss)
	})
}

// GetSession implements iam.Store.
func (s *Store) GetSession(ctx context.Context, id string) (iam.Session, error) {
	var ss iam.Session
	err := s.view(ctx, func(tx *bolt.Tx) error { return get(tx.Bucket(bSessions), []byte(id), &ss) })
	return ss, err
}

// DeleteExpiredSessions implements iam.Store.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bSessions)
		var expired [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var ss iam.Session
			if err := get(b, k, &ss); err != nil || ss.Expires.Before(now) {
				expired = append(expired, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range expired {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(expired)
		return nil
	})
	return n, err
}
