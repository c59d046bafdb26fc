package pgiam

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/iam/iamrec"
	"github.com/coffer/coffer/internal/pgdb"
)

// CreateRole implements iam.Store.
func (s *Store) CreateRole(ctx context.Context, r iam.Role) error {
	rec, err := iamrec.Encode(r)
	if err != nil {
		return err
	}
	err = s.db.Write(ctx, func(tx pgx.Tx) error {
		if err := needAccount(ctx, tx, r.Account); err != nil {
			return err
		}
		return insertNew(ctx, tx, "INSERT INTO iam_roles (account, name_key, rec) VALUES ($1, $2, $3)",
			[]byte(r.Account), nameKey(r.Name), rec)
	})
	if err != nil {
		return fmt.Errorf("pgiam: create role %s: %w", r.Name, err)
	}
	return nil
}

// readRole reads a role, FOR UPDATE when lock is set (iam.ErrNoSuchEntity).
func readRole(ctx context.Context, q pgdb.Queryer, account, name string, lock bool) (iam.Role, error) {
	sql := "SELECT rec FROM iam_roles WHERE account = $1 AND name_key = $2"
	if lock {
		sql += " FOR UPDATE"
	}
	var r iam.Role
	if err := readRecord(ctx, q, &r, sql, []byte(account), nameKey(name)); err != nil {
		return iam.Role{}, fmt.Errorf("role %s: %w", name, err)
	}
	return r, nil
}

// GetRole implements iam.Store.
func (s *Store) GetRole(ctx context.Context, account, name string) (iam.Role, error) {
	if err := s.db.Check(ctx); err != nil {
		return iam.Role{}, err
	}
	r, err := readRole(ctx, s.db.Pool, account, name, false)
	if err != nil {
		return iam.Role{}, fmt.Errorf("pgiam: get %w", err)
	}
	return r, nil
}

// ListRoles implements iam.Store.
func (s *Store) ListRoles(ctx context.Context, account string) ([]iam.Role, error) {
	if err := s.db.Check(ctx); err != nil {
		return nil, err
	}
	out, err := readRecords[iam.Role](ctx, s.db.Pool, "SELECT rec FROM iam_roles WHERE account = $1 ORDER BY name_key", []byte(account))
	if err != nil {
		return nil, fmt.Errorf("pgiam: list roles of %s: %w", account, err)
	}
	return out, nil
}

// UpdateRole implements iam.Store.
func (s *Store) UpdateRole(ctx context.Context, account, name string, fn func(*iam.Role) error) (iam.Role, error) {
	var r iam.Role
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		var err error
		if r, err = readRole(ctx, tx, account, name, true); err != nil {
			return err
		}
		return rewrite(ctx, tx, "iam_roles", &r, fn, func(r iam.Role) [2]string { return [2]string{r.Account, r.Name} })
	})
	if err != nil {
		return iam.Role{}, fmt.Errorf("pgiam: update role %s: %w", name, err)
	}
	return r, nil
}

// DeleteRole implements iam.Store.
func (s *Store) DeleteRole(ctx context.Context, account, name string) error {
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		if _, err := readRole(ctx, tx, account, name, true); err != nil {
			return err
		}
		switch what, err := holds(ctx, tx, iam.Entity{Kind: iam.KindRole, Account: account, Name: name}); {
		case err != nil:
			return err
		case what != "":
			return fmt.Errorf("role %s has %s: %w", name, what, iam.ErrDeleteConflict)
		}
		_, err := tx.Exec(ctx, "DELETE FROM iam_roles WHERE account = $1 AND name_key = $2", []byte(account), nameKey(name))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgiam: delete role %s: %w", name, err)
	}
	return nil
}

// kindKey is the stored form of an entity's kind.
func kindKey(k iam.Kind) []byte { return []byte(k) }

// needEntity returns iam.ErrNoSuchEntity unless the user or role is there (iam.ErrValidation
// for another kind).
func needEntity(ctx context.Context, q pgdb.Queryer, e iam.Entity) error {
	table := "iam_users"
	switch e.Kind {
	case iam.KindUser:
	case iam.KindRole:
		table = "iam_roles"
	default:
		return fmt.Errorf("entity kind %q: %w", e.Kind, iam.ErrValidation)
	}
	ok, err := pgdb.Exists(ctx, q, "SELECT 1 FROM "+table+" WHERE account = $1 AND name_key = $2", []byte(e.Account), nameKey(e.Name))
	if err == nil && !ok {
		err = fmt.Errorf("%s %s: %w", e.Kind, e.Name, iam.ErrNoSuchEntity)
	}
	return err
}

// inlineWhere selects an entity's inline policies; its arguments are inlineArgs.
const inlineWhere = " FROM iam_inline_policies WHERE kind = $1 AND account = $2 AND entity_key = $3"

func inlineArgs(e iam.Entity, more ...any) []any {
	return append([]any{kindKey(e.Kind), []byte(e.Account), nameKey(e.Name)}, more...)
}

// PutInlinePolicy implements iam.Store. Inline policy names are kept as given: two names
// that differ in case are two policies, as in boltiam.
func (s *Store) PutInlinePolicy(ctx context.Context, e iam.Entity, p iam.InlinePolicy) error {
	rec, err := iamrec.Encode(p)
	if err != nil {
		return err
	}
	err = s.db.Write(ctx, func(tx pgx.Tx) error {
		if err := needEntity(ctx, tx, e); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO iam_inline_policies (kind, account, entity_key, name, rec) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (kind, account, entity_key, name) DO UPDATE SET rec = excluded.rec`, inlineArgs(e, []byte(p.Name), rec)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgiam: put inline policy %s of %s %s: %w", p.Name, e.Kind, e.Name, err)
	}
	return nil
}

// GetInlinePolicy implements iam.Store.
func (s *Store) GetInlinePolicy(ctx context.Context, e iam.Entity, name string) (iam.InlinePolicy, error) {
	var p iam.InlinePolicy
	err := s.db.Read(ctx, func(tx pgx.Tx) error {
		if err := needEntity(ctx, tx, e); err != nil {
			return err
		}
		return readRecord(ctx, tx, &p, "SELECT rec"+inlineWhere+" AND name = $4", inlineArgs(e, []byte(name))...)
	})
	if err != nil {
		return iam.InlinePolicy{}, fmt.Errorf("pgiam: get inline policy %s of %s %s: %w", name, e.Kind, e.Name, err)
	}
	return p, nil
}

// ListInlinePolicies implements iam.Store.
func (s *Store) ListInlinePolicies(ctx context.Context, e iam.Entity) ([]iam.InlinePolicy, error) {
	var out []iam.InlinePolicy
	err := s.db.Read(ctx, func(tx pgx.Tx) error {
		if err := needEntity(ctx, tx, e); err != nil {
			return err
		}
		var err error
		out, err = readRecords[iam.InlinePolicy](ctx, tx, "SELECT rec"+inlineWhere+" ORDER BY name", inlineArgs(e)...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pgiam: list inline policies of %s %s: %w", e.Kind, e.Name, err)
	}
	return out, nil
}

// DeleteInlinePolicy implements iam.Store.
func (s *Store) DeleteInlinePolicy(ctx context.Context, e iam.Entity, name string) error {
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		if err := needEntity(ctx, tx, e); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "DELETE"+inlineWhere+" AND name = $4", inlineArgs(e, []byte(name))...)
		if err == nil && tag.RowsAffected() == 0 {
			err = iam.ErrNoSuchEntity
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("pgiam: delete inline policy %s of %s %s: %w", name, e.Kind, e.Name, err)
	}
	return nil
}
