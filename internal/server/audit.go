package server

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/kms"
)

// AuditKeyName names the service-owned KMS key that seals the private key signing the audit
// digests.
const AuditKeyName = "coffer/audit-signing"

// auditSealer adapts the KMS to audit.Sealer, under the service-owned key AuditKeyName.
type auditSealer struct{ owned ownedKey }

var _ audit.Sealer = (*auditSealer)(nil)

// Seal implements audit.Sealer.
func (s *auditSealer) Seal(ctx context.Context, plaintext []byte, ec map[string]string) ([]byte, error) {
	return s.owned.seal(ctx, plaintext, ec)
}

// Open implements audit.Sealer.
func (s *auditSealer) Open(ctx context.Context, sealed []byte, ec map[string]string) ([]byte, error) {
	return s.owned.kms.DecryptOwned(ctx, sealed, ec)
}

// openAudit sets s.audit: audit.Discard with cfg.NoAudit, else a Writer on DIR/audit whose
// digests are signed by a key the KMS seals.
func (s *Server) openAudit(ctx context.Context, cfg Config, keySvc *kms.Service) error {
	if cfg.NoAudit {
		s.audit = audit.Discard{}
		return nil
	}
	dir := filepath.Join(cfg.Dir, "audit")
	sealer := &auditSealer{owned: ownedKey{kms: keySvc, name: AuditKeyName}}
	signer, err := audit.OpenSigner(ctx, dir, sealer)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	w, err := audit.Open(ctx, audit.Config{Dir: dir, Region: cfg.Region, AccountID: s.Identity.AccountID, Signer: signer,
		RollEvery: cfg.AuditRollEvery, RollSize: cfg.AuditRollSize, DigestEvery: cfg.AuditDigestEvery,
		SyncEvery: cfg.AuditSyncEvery, Logger: s.log})
	if err != nil {
		return err
	}
	s.audit, s.auditLog, s.auditSigner, s.auditSealer = w, w, signer, sealer
	return nil
}

// closeAudit finishes the open log file and writes the final digest (after the HTTP servers
// stopped, before the stores close).
func (s *Server) closeAudit(ctx context.Context) error {
	if s.auditLog == nil {
		return nil
	}
	w := s.auditLog
	s.auditLog = nil
	if err := w.Close(ctx); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// AuditDir is the audit directory, DIR/audit ("" with --no-audit).
func (s *Server) AuditDir() string {
	if s.auditLog == nil {
		return ""
	}
	return s.auditLog.Dir()
}

// AuditDigest finishes the open log file and writes a digest now, for tests.
func (s *Server) AuditDigest(ctx context.Context) error {
	if s.auditLog == nil {
		return nil
	}
	return s.auditLog.Digest(ctx)
}

// AuditLog is the audit Writer, nil with --no-audit.
func (s *Server) AuditLog() *audit.Writer { return s.auditLog }
