package kms

import "context"

// CheckUsable reports whether c could, now, use the symmetric encryption key keyID to make
// data keys (write: GenerateDataKey) or to open them (Decrypt) bound to the encryption
// context ec: the key resolves, c is authorized, the key is in an enabled state and has usage
// ENCRYPT_DECRYPT. It reads only key metadata and policies (no key material, no cryptographic
// operation), for a service that caches data keys and must stop using them once the key is
// disabled or its policy no longer allows the caller.
func (s *Service) CheckUsable(ctx context.Context, c Caller, keyID string, write bool, ec map[string]string) error {
	op := "Decrypt"
	if write {
		op = "GenerateDataKey"
	}
	a := askFor(op).withEC(ec).with(condEncryptionAlgorithm, SpecSymmetric)
	e, err := s.cryptoKey(ctx, c, keyID, opCrypto, UsageEncryptDecrypt, a)
	if err != nil {
		return err
	}
	if e.key.Spec != SpecSymmetric {
		return errf(ErrInvalidKeyUsage, "%s key spec is %s which is not valid for this operation.", s.arn(e.key), e.key.Spec)
	}
	return nil
}
