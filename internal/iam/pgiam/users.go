package pgiam

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/iam/iamrec"
	"github.com/coffer/coffer/internal/pgdb"
)

// CreateUser implements iam.Store.
func (s *Store) CreateUser(ctx context.Context, u iam.User) error {
	rec, err := iamrec.Encode(u)
	if err != nil {
		return err
	}
	err = s.db.Write(ctx, func(tx pgx.Tx) error {
		if err := needAccount(ctx, tx, u.Account); err != nil {
			return err
		}
		return insertNew(ctx, tx, "INSERT INTO iam_users (account, name_key, rec) VALUES ($1, $2, $3)",
			[]byte(u.Account), nameKey(u.Name), rec)
	})
	if err != nil {
		return fmt.Errorf("pgiam: create user %s: %w", u.Name, err)
	}
	return nil
}

// readUser reads a user, FOR UPDATE when lock is set (iam.ErrNoSuchEntity).
func readUser(ctx context.Context, q pgdb.Queryer, account, name string, lock bool) (iam.User, error) {
	sql := "SELECT rec FROM iam_users WHERE account = $1 AND name_key = $2"
	if lock {
		sql += " FOR UPDATE"
	}
	var u iam.User
	err := readRecord(ctx, q, &u, sql, []byte(account), nameKey(name))
	if err != nil {
		return iam.User{}, fmt.Errorf("user %s: %w", name, err)
	}
	return u, nil
}

// GetUser implements iam.Store.
func (s *Store) GetUser(ctx context.Context, account, name string) (iam.User, error) {
	if err := s.db.Check(ctx); err != nil {
		return iam.User{}, err
	}
	u, err := readUser(ctx, s.db.Pool, account, name, false)
	if err != nil {
		return iam.User{}, fmt.Errorf("pgiam: get %w", err)
	}
	return u, nil
}

// ListUsers implements iam.Store.
func (s *Store) ListUsers(ctx context.Context, account string) ([]iam.User, error) {
	if err := s.db.Check(ctx); err != nil {
		return nil, err
	}
	out, err := readRecords[iam.User](ctx, s.db.Pool, "SELECT rec FROM iam_users WHERE account = $1 ORDER BY name_key", []byte(account))
	if err != nil {
		return nil, fmt.Errorf("pgiam: list users of %s: %w", account, err)
	}
	return out, nil
}

// UpdateUser implements iam.Store.
func (s *Store) UpdateUser(ctx context.Context, account, name string, fn func(*iam.User) error) (iam.User, error) {
	var u iam.User
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		var err error
		if u, err = readUser(ctx, tx, account, name, true); err != nil {
			return err
		}
		return rewrite(ctx, tx, "iam_users", &u, fn, func(u iam.User) [2]string { return [2]string{u.Account, u.Name} })
	})
	if err != nil {
		return iam.User{}, fmt.Errorf("pgiam: update user %s: %w", name, err)
	}
	return u, nil
}

// rewrite applies fn to v, the record of a user or role read FOR UPDATE from table, and
// stores the result if fn succeeds and left the record's identity (its account and name)
// alone (iam.ErrValidation).
func rewrite[T iam.User | iam.Role](ctx context.Context, tx pgx.Tx, table string, v *T, fn func(*T) error, identity func(T) [2]string) error {
	was := identity(*v)
	if err := fn(v); err != nil {
		return err
	}
	if identity(*v) != was {
		return fmt.Errorf("renaming: %w", iam.ErrValidation)
	}
	rec, err := iamrec.Encode(*v)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "UPDATE "+table+" SET rec = $3 WHERE account = $1 AND name_key = $2", []byte(was[0]), nameKey(was[1]), rec)
	return err
}

// holds says what of an entity's subordinates keeps it from being deleted: "" for nothing,
// else what it has.
func holds(ctx context.Context, tx pgx.Tx, e iam.Entity) (string, error) {
	entity := []any{kindKey(e.Kind), []byte(e.Account), nameKey(e.Name)}
	type check struct {
		what, sql string
		args      []any
	}
	checks := []check{
		{"inline policies", "SELECT 1 FROM iam_inline_policies WHERE kind = $1 AND account = $2 AND entity_key = $3 LIMIT 1", entity},
		{"attached policies", "SELECT 1 FROM iam_attachments WHERE kind = $1 AND account = $2 AND entity_key = $3 LIMIT 1", entity},
	}
	if e.Kind == iam.KindUser {
		checks = append(checks, check{"access keys", "SELECT 1 FROM iam_access_keys WHERE account = $1 AND user_key = $2 LIMIT 1", entity[1:]})
	}
	for _, c := range checks {
		ok, err := pgdb.Exists(ctx, tx, c.sql, c.args...)
		if err != nil || ok {
			return c.what, err
		}
	}
	return "", nil
}

// DeleteUser implements iam.Store.
func (s *Store) DeleteUser(ctx context.Context, account, name string) error {
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		if _, err := readUser(ctx, tx, account, name, true); err != nil {
			return err
		}
		switch what, err := holds(ctx, tx, iam.Entity{Kind: iam.KindUser, Account: account, Name: name}); {
		case err != nil:
			return err
		case what != "":
			return fmt.Errorf("user %s has %s: %w", name, what, iam.ErrDeleteConflict)
		}
		_, err := tx.Exec(ctx, "DELETE FROM iam_users WHERE account = $1 AND name_key = $2", []byte(account), nameKey(name))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgiam: delete user %s: %w", name, err)
	}
	return nil
}

// CreateAccessKey implements iam.Store. The key takes its user's name as stored.
func (s *Store) CreateAccessKey(ctx context.Context, k iam.AccessKey, max int) error {
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		if err := needAccount(ctx, tx, k.Account); err != nil {
			return err
		}
		if k.UserName != "" {
			u, err := readUser(ctx, tx, k.Account, k.UserName, false)
			if err != nil {
				return err
			}
			k.UserName = u.Name
		}
		taken, err := pgdb.Exists(ctx, tx, "SELECT 1 FROM iam_access_keys WHERE id = $1", []byte(k.ID))
		if err != nil {
			return err
		}
		if taken {
			return fmt.Errorf("access key %s: %w", k.ID, iam.ErrEntityExists)
		}
		owner := []any{[]byte(k.Account), nameKey(k.UserName)}
		if max > 0 {
			var n int
			err := tx.QueryRow(ctx, "SELECT count(*) FROM iam_access_keys WHERE account = $1 AND user_key = $2", owner...).Scan(&n)
			if err != nil {
				return err
			}
			if n >= max {
				return fmt.Errorf("access keys of %q: %w", k.UserName, iam.ErrLimitExceeded)
			}
		}
		rec, err := iamrec.Encode(k)
		if err != nil {
			return err
		}
		return insertNew(ctx, tx, "INSERT INTO iam_access_keys (id, account, user_key, rec) VALUES ($1, $2, $3, $4)",
			append([]any{[]byte(k.ID)}, append(owner, rec)...)...)
	})
	if err != nil {
		return fmt.Errorf("pgiam: create access key %s: %w", k.ID, err)
	}
	return nil
}

// GetAccessKey implements iam.Store.
func (s *Store) GetAccessKey(ctx context.Context, id string) (iam.AccessKey, error) {
	var k iam.AccessKey
	if err := s.db.Check(ctx); err != nil {
		return k, err
	}
	if err := readRecord(ctx, s.db.Pool, &k, "SELECT rec FROM iam_access_keys WHERE id = $1", []byte(id)); err != nil {
		return iam.AccessKey{}, fmt.Errorf("pgiam: get access key %s: %w", id, err)
	}
	return k, nil
}

// ListAccessKeys implements iam.Store.
func (s *Store) ListAccessKeys(ctx context.Context, account, user string) ([]iam.AccessKey, error) {
	var out []iam.AccessKey
	err := s.db.Read(ctx, func(tx pgx.Tx) error {
		if user != "" {
			if _, err := readUser(ctx, tx, account, user, false); err != nil {
				return err
			}
		}
		var err error
		out, err = readRecords[iam.AccessKey](ctx, tx, "SELECT rec FROM iam_access_keys WHERE account = $1 AND user_key = $2 ORDER BY id",
			[]byte(account), nameKey(user))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pgiam: list access keys of %q: %w", user, err)
	}
	return out, nil
}

// ownedKey reads a key FOR UPDATE and checks that it belongs to account and user.
func ownedKey(ctx context.Context, tx pgx.Tx, account, user, id string) (iam.AccessKey, error) {
	var k iam.AccessKey
	if err := readRecord(ctx, tx, &k, "SELECT rec FROM iam_access_keys WHERE id = $1 FOR UPDATE", []byte(id)); err != nil {
		return k, err
	}
	if k.Account != account || !strings.EqualFold(k.UserName, user) {
		return k, fmt.Errorf("not a key of %q: %w", user, iam.ErrNoSuchEntity)
	}
	return k, nil
}

// SetAccessKeyStatus implements iam.Store.
func (s *Store) SetAccessKeyStatus(ctx context.Context, account, user, id, status string) error {
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		k, err := ownedKey(ctx, tx, account, user, id)
		if err != nil {
			return err
		}
		k.Status = status
		rec, err := iamrec.Encode(k)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE iam_access_keys SET rec = $2 WHERE id = $1", []byte(id), rec)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgiam: set status of access key %s: %w", id, err)
	}
	return nil
}

// DeleteAccessKey implements iam.Store.
func (s *Store) DeleteAccessKey(ctx context.Context, account, user, id string) error {
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		if _, err := ownedKey(ctx, tx, account, user, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "DELETE FROM iam_access_keys WHERE id = $1", []byte(id))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgiam: delete access key %s: %w", id, err)
	}
	return nil
}
