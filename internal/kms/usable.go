package kms

import "context"

// CheckUsable reports whether c could use the symmetric encryption key keyID for Decrypt and
// GenerateDataKey now: it resolves, is in an enabled state and has usage ENCRYPT_DECRYPT. It
// reads only key metadata (no key material, no cryptographic operation), for a service that
// caches data keys and must stop using them once the key is disabled.
func (s *Service) CheckUsable(ctx context.Context, c Caller, keyID string) error {
	e, err := s.cryptoKey(ctx, c, keyID, opCrypto, UsageEncryptDecrypt, "Decrypt")
	if err != nil {
		return err
	}
	if e.key.Spec != SpecSymmetric {
		return errf(ErrInvalidKeyUsage, "%s key spec is %s which is not valid for this operation.", s.arn(e.key), e.key.Spec)
	}
	return nil
}
