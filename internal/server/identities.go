package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/coffer/coffer/internal/backend"
	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/cluster"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/sigv4"
)

// openIAM opens the identity service on store, its secrets sealed by the KMS; cfg gives the
// rest (the default account, the root key of the environment, clock, logger).
func openIAM(ctx context.Context, store iam.Store, keySvc *kms.Service, cfg iam.Config) (*iam.Service, error) {
	cfg.Store, cfg.Sealer = store, newIAMSealer(keySvc)
	svc, err := iam.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("iam: %w", err)
	}
	return svc, nil
}

// credentialLookup is the one credential lookup of every request, for the SigV4 verifiers: it
// finds the principal and secret of an access key (checking a session token) and turns the
// directory's error classes into sigv4's.
func credentialLookup(dir iam.Directory) func(ctx context.Context, accessKey, token string) (sigv4.Credential, error) {
	return func(ctx context.Context, accessKey, token string) (sigv4.Credential, error) {
		c, err := dir.Lookup(ctx, accessKey, token)
		switch {
		case errors.Is(err, iam.ErrUnknownAccessKey):
			return sigv4.Credential{}, sigv4.ErrInvalidAccessKeyID
		case errors.Is(err, iam.ErrInvalidToken):
			return sigv4.Credential{}, sigv4.ErrInvalidToken
		case errors.Is(err, iam.ErrExpiredToken):
			return sigv4.Credential{}, sigv4.ErrExpiredToken
		case err != nil:
			return sigv4.Credential{}, err
		}
		return sigv4.Credential{Secret: c.Secret.RevealBytes(), Owner: c.Principal}, nil
	}
}

// startSessionSweep deletes expired role sessions every minute.
func (s *Server) startSessionSweep(ctx context.Context) {
	s.jobs.Go(func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			err := boltfile.Safely(func() error { _, err := s.iam.DeleteExpiredSessions(ctx); return err })
			if err != nil && ctx.Err() == nil {
				s.log.Error("deleting expired role sessions failed", "err", err)
			}
		}
	})
}

// CreateAccount adds an account with a root access key to the running server, for tests of
// several accounts; `coffer admin account create` does the same on a stopped server's data
// directory (see CreateAccountIn).
func (s *Server) CreateAccount(ctx context.Context, name string) (iam.Account, iam.NewAccessKey, error) {
	return s.iam.CreateAccount(ctx, iam.Account{DisplayName: name})
}

// CreateAccountIn adds an account with a root access key to the data directory of a stopped
// server: meta.db is locked by a running one (the open then fails after a second). The KMS root
// key seals the new secret key, so cfg must name it as `coffer server` would.
func CreateAccountIn(ctx context.Context, cfg Config, name string) (iam.Account, iam.NewAccessKey, error) {
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	f, err := readIdentity(cfg.Dir)
	if err != nil {
		return iam.Account{}, iam.NewAccessKey{}, err
	}
	st, err := backend.OpenEmbedded(cfg.Dir)
	if err != nil {
		return iam.Account{}, iam.NewAccessKey{}, fmt.Errorf("%w (is the server still running?)", err)
	}
	s := &Server{stores: st, log: slog.New(slog.DiscardHandler), coord: cluster.NewLocal()}
	defer s.closeStores()
	keySvc, err := s.openKMS(ctx, cfg, st)
	if err != nil {
		return iam.Account{}, iam.NewAccessKey{}, err
	}
	svc, err := openIAM(ctx, st.IAM, keySvc, iam.Config{Default: iam.Account{ID: f.AccountID, DisplayName: f.displayName()}, Logger: s.log})
	if err != nil {
		return iam.Account{}, iam.NewAccessKey{}, err
	}
	return svc.CreateAccount(ctx, iam.Account{DisplayName: name})
}

// Directory is the server's identity directory (its accounts and credentials), for tests and
// tools in the same process.
func (s *Server) Directory() iam.Directory { return s.iam }
