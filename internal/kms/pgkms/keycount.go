package pgkms

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kms/kmsrec"
)

// counted reports whether k counts against its account's quota of customer managed keys.
func counted(k *kms.Key) bool { return k.Manager == kms.ManagerCustomer && !k.Owned }

// readKeyCount reads the count row of account FOR UPDATE: the row every CreateKey and
// DeleteKey of the account's counted keys rewrites, so that they queue on it (the
// SERIALIZABLE transaction is what keeps two from both taking the last place); found false
// without one.
func readKeyCount(ctx context.Context, tx pgx.Tx, account string) (n int64, found bool, err error) {
	err = tx.QueryRow(ctx, "SELECT n FROM kms_key_counts WHERE account = $1 FOR UPDATE", []byte(account)).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	return n, err == nil, err
}

// keyCount returns the number of customer managed keys of account. Without a count row
// (lost, or removed by an operator) the keys are counted once, in this transaction, and the
// caller stores the result; a damaged key record counts, so that damage never lets an
// account past its quota.
func keyCount(ctx context.Context, tx pgx.Tx, account string) (int64, error) {
	n, found, err := readKeyCount(ctx, tx, account)
	if err != nil || found {
		return n, err
	}
	rows, err := tx.Query(ctx, "SELECT id, rec FROM kms_keys WHERE account = $1", []byte(account))
	if err != nil {
		return 0, err
	}
	keys, err := pgx.CollectRows(rows, pgx.RowToStructByPos[keyRow])
	if err != nil {
		return 0, err
	}
	for _, r := range keys {
		k, err := kmsrec.DecodeKey(string(r.ID), r.Rec)
		if err != nil || counted(k) {
			n++
		}
	}
	return n, nil
}

// addKeyCount counts one more customer managed key of account, or fails with
// kms.ErrStoreQuota when quota > 0 and the account already has quota of them.
func addKeyCount(ctx context.Context, tx pgx.Tx, account string, quota int) error {
	n, err := keyCount(ctx, tx, account)
	if err != nil {
		return fmt.Errorf("key count of %s: %w", account, err)
	}
	if quota > 0 && n >= int64(quota) {
		return kms.ErrStoreQuota
	}
	_, err = tx.Exec(ctx, `INSERT INTO kms_key_counts (account, n) VALUES ($1, $2)
		ON CONFLICT (account) DO UPDATE SET n = EXCLUDED.n`, []byte(account), n+1)
	return err
}

// dropKeyCount counts one customer managed key of account fewer. An account without the
// count is left without it: the next CreateKey counts what is there.
func dropKeyCount(ctx context.Context, tx pgx.Tx, account string) error {
	n, found, err := readKeyCount(ctx, tx, account)
	switch {
	case err != nil || !found:
		return err
	case n <= 0:
		// An impossible count is dropped and recounted by the next CreateKey.
		_, err = tx.Exec(ctx, "DELETE FROM kms_key_counts WHERE account = $1", []byte(account))
	default:
		_, err = tx.Exec(ctx, "UPDATE kms_key_counts SET n = $2 WHERE account = $1", []byte(account), n-1)
	}
	return err
}
