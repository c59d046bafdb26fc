package pgiam

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/iam/iamrec"
	"github.com/coffer/coffer/internal/pgdb"
)

// CreatePolicy implements iam.Store.
func (s *Store) CreatePolicy(ctx context.Context, p iam.ManagedPolicy) error {
	p.Attachments = 0 // counted on read
	rec, err := iamrec.Encode(p)
	if err != nil {
		return err
	}
	err = s.db.Write(ctx, func(tx pgx.Tx) error {
		if err := needAccount(ctx, tx, p.Account); err != nil {
			return err
		}
		return insertNew(ctx, tx, "INSERT INTO iam_policies (account, name_key, rec) VALUES ($1, $2, $3)",
			[]byte(p.Account), nameKey(p.Name), rec)
	})
	if err != nil {
		return fmt.Errorf("pgiam: create policy %s: %w", p.Name, err)
	}
	return nil
}

// policyColumns are a policy row's record and its number of attachments, as scanPolicy reads
// them; the table is p.
const policyColumns = `p.rec, (SELECT count(*) FROM iam_attachments a WHERE a.account = p.account AND a.policy_key = p.name_key)`

// scanPolicy reads a row of policyColumns.
func scanPolicy(row pgx.Row) (iam.ManagedPolicy, error) {
	var rec []byte
	var n int
	var p iam.ManagedPolicy
	if err := row.Scan(&rec, &n); err != nil {
		return p, err
	}
	err := iamrec.Decode(rec, &p)
	p.Attachments = n
	return p, err
}

// readPolicy reads a managed policy with its attachments counted, FOR UPDATE when lock is set
// (iam.ErrNoSuchEntity).
func readPolicy(ctx context.Context, q pgdb.Queryer, account, name string, lock bool) (iam.ManagedPolicy, error) {
	sql := "SELECT " + policyColumns + " FROM iam_policies p WHERE p.account = $1 AND p.name_key = $2"
	if lock {
		sql += " FOR UPDATE"
	}
	p, err := scanPolicy(q.QueryRow(ctx, sql, []byte(account), nameKey(name)))
	if errors.Is(err, pgx.ErrNoRows) {
		err = iam.ErrNoSuchEntity
	}
	if err != nil {
		return iam.ManagedPolicy{}, fmt.Errorf("policy %s: %w", name, err)
	}
	return p, nil
}

// readPolicies reads the policies the query selects, a query of policyColumns.
func readPolicies(ctx context.Context, q pgdb.Queryer, sql string, args ...any) ([]iam.ManagedPolicy, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (iam.ManagedPolicy, error) { return scanPolicy(r) })
}

// GetPolicy implements iam.Store.
func (s *Store) GetPolicy(ctx context.Context, account, name string) (iam.ManagedPolicy, error) {
	if err := s.db.Check(ctx); err != nil {
		return iam.ManagedPolicy{}, err
	}
	p, err := readPolicy(ctx, s.db.Pool, account, name, false)
	if err != nil {
		return iam.ManagedPolicy{}, fmt.Errorf("pgiam: get %w", err)
	}
	return p, nil
}

// ListPolicies implements iam.Store.
func (s *Store) ListPolicies(ctx context.Context, account string) ([]iam.ManagedPolicy, error) {
	if err := s.db.Check(ctx); err != nil {
		return nil, err
	}
	out, err := readPolicies(ctx, s.db.Pool, "SELECT "+policyColumns+" FROM iam_policies p WHERE p.account = $1 ORDER BY p.name_key", []byte(account))
	if err != nil {
		return nil, fmt.Errorf("pgiam: list policies of %s: %w", account, err)
	}
	return out, nil
}

// UpdatePolicy implements iam.Store.
func (s *Store) UpdatePolicy(ctx context.Context, account, name string, fn func(*iam.ManagedPolicy) error) (iam.ManagedPolicy, error) {
	var p iam.ManagedPolicy
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		var err error
		if p, err = readPolicy(ctx, tx, account, name, true); err != nil {
			return err
		}
		if err := fn(&p); err != nil {
			return err
		}
		stored := p
		stored.Attachments = 0
		rec, err := iamrec.Encode(stored)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE iam_policies SET rec = $3 WHERE account = $1 AND name_key = $2", []byte(account), nameKey(name), rec)
		return err
	})
	if err != nil {
		return iam.ManagedPolicy{}, fmt.Errorf("pgiam: update policy %s: %w", name, err)
	}
	return p, nil
}

// DeletePolicy implements iam.Store.
func (s *Store) DeletePolicy(ctx context.Context, account, name string) error {
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		p, err := readPolicy(ctx, tx, account, name, true)
		if err != nil {
			return err
		}
		if p.Attachments > 0 {
			return fmt.Errorf("policy %s is attached: %w", name, iam.ErrDeleteConflict)
		}
		_, err = tx.Exec(ctx, "DELETE FROM iam_policies WHERE account = $1 AND name_key = $2", []byte(account), nameKey(name))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgiam: delete policy %s: %w", name, err)
	}
	return nil
}

// AttachPolicy implements iam.Store.
func (s *Store) AttachPolicy(ctx context.Context, e iam.Entity, policyName string) error {
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		if err := needEntity(ctx, tx, e); err != nil {
			return err
		}
		if _, err := readPolicy(ctx, tx, e.Account, policyName, false); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO iam_attachments (kind, account, entity_key, policy_key) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, kindKey(e.Kind), []byte(e.Account), nameKey(e.Name), nameKey(policyName))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgiam: attach policy %s to %s %s: %w", policyName, e.Kind, e.Name, err)
	}
	return nil
}

// DetachPolicy implements iam.Store.
func (s *Store) DetachPolicy(ctx context.Context, e iam.Entity, policyName string) error {
	err := s.db.Write(ctx, func(tx pgx.Tx) error {
		if err := needEntity(ctx, tx, e); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "DELETE FROM iam_attachments WHERE kind = $1 AND account = $2 AND entity_key = $3 AND policy_key = $4",
			kindKey(e.Kind), []byte(e.Account), nameKey(e.Name), nameKey(policyName))
		if err == nil && tag.RowsAffected() == 0 {
			err = fmt.Errorf("not attached: %w", iam.ErrNoSuchEntity)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("pgiam: detach policy %s from %s %s: %w", policyName, e.Kind, e.Name, err)
	}
	return nil
}

// ListPolicyEntities implements iam.Store.
func (s *Store) ListPolicyEntities(ctx context.Context, account, policyName string) ([]iam.Entity, error) {
	var out []iam.Entity
	err := s.db.Read(ctx, func(tx pgx.Tx) error {
		if _, err := readPolicy(ctx, tx, account, policyName, false); err != nil {
			return err
		}
		// Users first, as IAM lists them, each kind in order of name.
		rows, err := tx.Query(ctx, `SELECT a.kind, u.rec, r.rec FROM iam_attachments a
			LEFT JOIN iam_users u ON a.kind = $3 AND u.account = a.account AND u.name_key = a.entity_key
			LEFT JOIN iam_roles r ON a.kind = $4 AND r.account = a.account AND r.name_key = a.entity_key
			WHERE a.account = $1 AND a.policy_key = $2
			ORDER BY a.kind <> $3, a.entity_key`,
			[]byte(account), nameKey(policyName), kindKey(iam.KindUser), kindKey(iam.KindRole))
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (iam.Entity, error) {
			var kind, userRec, roleRec []byte
			if err := row.Scan(&kind, &userRec, &roleRec); err != nil {
				return iam.Entity{}, err
			}
			return attachedEntity(account, iam.Kind(kind), userRec, roleRec)
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pgiam: list entities of policy %s: %w", policyName, err)
	}
	return out, nil
}

// attachedEntity is the entity of an attachment, named as its user or role record names it.
func attachedEntity(account string, kind iam.Kind, userRec, roleRec []byte) (iam.Entity, error) {
	e := iam.Entity{Kind: kind, Account: account}
	switch {
	case kind == iam.KindUser && userRec != nil:
		var u iam.User
		err := iamrec.Decode(userRec, &u)
		e.Name = u.Name
		return e, err
	case kind == iam.KindRole && roleRec != nil:
		var r iam.Role
		err := iamrec.Decode(roleRec, &r)
		e.Name = r.Name
		return e, err
	}
	return e, fmt.Errorf("attachment to a missing %s: %w", kind, iam.ErrDamaged)
}

// ListAttachedPolicies implements iam.Store.
func (s *Store) ListAttachedPolicies(ctx context.Context, e iam.Entity) ([]iam.ManagedPolicy, error) {
	var out []iam.ManagedPolicy
	err := s.db.Read(ctx, func(tx pgx.Tx) error {
		if err := needEntity(ctx, tx, e); err != nil {
			return err
		}
		var err error
		out, err = readPolicies(ctx, tx, "SELECT "+policyColumns+` FROM iam_attachments t
			JOIN iam_policies p ON p.account = t.account AND p.name_key = t.policy_key
			WHERE t.kind = $1 AND t.account = $2 AND t.entity_key = $3 ORDER BY t.policy_key`,
			kindKey(e.Kind), []byte(e.Account), nameKey(e.Name))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pgiam: list policies attached to %s %s: %w", e.Kind, e.Name, err)
	}
	return out, nil
}
