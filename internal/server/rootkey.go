package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/coffer/coffer/internal/backend"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/secret"
)

// rootSetup is what the server knows of the default account and its root key before the stores
// are open: credentials.json, if there is one, and the key of the environment.
type rootSetup struct {
	file  credentialsFile
	found bool // credentials.json exists; otherwise this is a first start
	// joined: a first start of this node on shared stores whose default account another
	// node made (and, with it, the root key whose secret that node showed).
	joined    bool
	envKey    string // COFFER_ACCESS_KEY and COFFER_SECRET_KEY, both or neither
	envSecret string
}

// loadRootSetup reads credentials.json (choosing a new account id on first start) and checks
// that this run has a root key to sign with.
func loadRootSetup(cfg Config) (rootSetup, error) {
	if (cfg.AccessKey == "") != (cfg.SecretKey == "") {
		return rootSetup{}, errors.New("set both COFFER_ACCESS_KEY and COFFER_SECRET_KEY, or neither")
	}
	r := rootSetup{envKey: cfg.AccessKey, envSecret: cfg.SecretKey}
	var err error
	if r.file, r.found, err = readCredentials(cfg.Dir); err != nil {
		return rootSetup{}, err
	}
	path := filepath.Join(cfg.Dir, credentialsName)
	switch {
	case !r.found:
		r.file = credentialsFile{AccountID: iam.NewAccountID()}
	case !iam.ValidAccountID(r.file.AccountID), r.file.AccessKey == "" && r.file.SecretKey != "":
		return rootSetup{}, fmt.Errorf("%s is corrupt", path)
	case r.file.AccessKey == "" && r.envKey == "":
		return rootSetup{}, fmt.Errorf("%s names no root access key and COFFER_ACCESS_KEY is unset", path)
	}
	return r, nil
}

// settleSharedAccount agrees on the default account with the other nodes of shared stores
// (st.DefaultAccount): the first node to start makes it, later ones adopt it, and a node whose
// credentials.json names another account is refused rather than split the deployment in two.
func settleSharedAccount(ctx context.Context, st *backend.Stores, r *rootSetup, dir string) error {
	if st.DefaultAccount == nil {
		return nil
	}
	acct, won, err := st.DefaultAccount(ctx, iam.Account{ID: r.file.AccountID, DisplayName: r.file.displayName()})
	if err != nil {
		return err
	}
	switch {
	case r.found && acct.ID != r.file.AccountID:
		return fmt.Errorf("%s names account %s, but the default account of the shared stores is %s: this data directory belongs to another deployment (start this node with an empty --data directory to join)",
			filepath.Join(dir, credentialsName), r.file.AccountID, acct.ID)
	case !r.found && !won:
		r.file.AccountID, r.file.DisplayName, r.joined = acct.ID, acct.DisplayName, true
	}
	return nil
}

// iamConfig returns the default account and the root key of the environment, which replaces
// the key credentials.json names for this run.
func (r rootSetup) iamConfig() iam.Config {
	c := iam.Config{Default: iam.Account{ID: r.file.AccountID, DisplayName: r.file.displayName()},
		DefaultKey: r.envKey, DefaultSecret: r.envSecret}
	if r.envKey != "" && r.file.AccessKey != r.envKey {
		c.ReplacedKey = r.file.AccessKey
	}
	return c
}

// settleRootKey gives the default account's root key its one home, the IAM store, where it is
// sealed like every access key, and leaves credentials.json naming the account and the key id
// but holding no secret:
//   - on first start without COFFER_ACCESS_KEY a root key is made in the store, and its secret
//     returned in Identity.GeneratedSecret to be shown once;
//   - a credentials.json written before secrets were sealed has its secret_key imported into
//     the store, then the file is rewritten without it.
//
// The store is written first and the file second. A crash between the two leaves either the
// old file, whose secret the next start imports again (ImportRootKey may be repeated), or, on
// a first start, no file: the next start then makes a new default account, and the one left
// in the store has a key whose secret nobody has seen.
//
// The key of the environment is held only in memory (see iamConfig), never stored.
func settleRootKey(ctx context.Context, svc *iam.Service, dir string, r rootSetup, log *slog.Logger) (Identity, error) {
	acct := svc.DefaultAccount()
	id := Identity{AccountID: acct.ID, DisplayName: acct.DisplayName, AccessKey: r.envKey}
	switch {
	case r.file.SecretKey != "":
		sec := secret.BytesFrom([]byte(r.file.SecretKey))
		defer sec.Destroy()
		if err := svc.ImportRootKey(ctx, acct.ID, r.file.AccessKey, sec); err != nil {
			return Identity{}, fmt.Errorf("sealing the root secret key of %s: %w", credentialsName, err)
		}
		if err := writeCredentials(dir, r.file); err != nil {
			return Identity{}, err
		}
		log.Info("the root secret key of credentials.json is now stored sealed, and removed from the file",
			"access_key", r.file.AccessKey)
	case r.joined && r.envKey == "":
		// The node that made the account made its root key and showed the secret; name the
		// key here once it is there (until then a later start joins again).
		keys, err := svc.ListAccessKeys(ctx, acct.ID, "")
		if err != nil {
			return Identity{}, fmt.Errorf("root access keys: %w", err)
		}
		if len(keys) == 0 {
			log.Warn("joined shared stores whose default account has no root access key yet; sign with another key, or set COFFER_ACCESS_KEY and COFFER_SECRET_KEY", "account", acct.ID)
			return id, nil
		}
		r.file.AccessKey = keys[0].ID
		if err := writeCredentials(dir, r.file); err != nil {
			return Identity{}, err
		}
		id.AccessKey = r.file.AccessKey
		return id, nil
	case !r.found && r.envKey == "":
		k, err := svc.CreateAccessKey(ctx, acct.ID, "")
		if err != nil {
			return Identity{}, fmt.Errorf("root access key: %w", err)
		}
		r.file.AccessKey = k.ID
		if err := writeCredentials(dir, r.file); err != nil {
			return Identity{}, err
		}
		id.AccessKey, id.GeneratedSecret = k.ID, secret.BytesFrom([]byte(k.Secret))
		return id, nil
	case !r.found:
		if err := writeCredentials(dir, r.file); err != nil {
			return Identity{}, err
		}
	}
	if id.AccessKey != "" {
		return id, nil
	}
	stored, err := hasRootKey(ctx, svc, acct.ID, r.file.AccessKey)
	if err != nil {
		return Identity{}, err
	}
	if !stored {
		log.Warn("credentials.json names a root access key that is no longer stored (deleted through IAM); sign with another key, or set COFFER_ACCESS_KEY and COFFER_SECRET_KEY",
			"access_key", r.file.AccessKey)
		return id, nil
	}
	id.AccessKey = r.file.AccessKey
	return id, nil
}

// hasRootKey reports whether the account root holds the access key id in the store.
func hasRootKey(ctx context.Context, svc *iam.Service, account, id string) (bool, error) {
	keys, err := svc.ListAccessKeys(ctx, account, "")
	if err != nil {
		return false, fmt.Errorf("root access keys: %w", err)
	}
	for _, k := range keys {
		if k.ID == id {
			return true, nil
		}
	}
	return false, nil
}
