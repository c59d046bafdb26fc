package kms

// op names an operation for the key-state table of KMS_API.md §2.4.
type op int

const (
	opCrypto           op = iota // Encrypt, Decrypt, ReEncrypt, GenerateDataKey*, GenerateDataKeyPair*
	opSignMac                    // GenerateMac, VerifyMac, Sign, Verify, GetPublicKey, DeriveSharedSecret
	opCreateGrant                // CreateGrant
	opAnyState                   // DescribeKey, DeleteAlias, GetKeyPolicy, PutKeyPolicy, ListGrants, Retire/RevokeGrant, ...
	opCancelDeletion             // CancelKeyDeletion
	opCreateAlias                // CreateAlias, UpdateAlias (destination)
	opEnableDisable              // EnableKey, DisableKey
	opRotationConfig             // EnableKeyRotation, DisableKeyRotation
	opRotationStatus             // GetKeyRotationStatus, ListKeyRotations
	opRotateOnDemand             // RotateKeyOnDemand
	opImport                     // GetParametersForImport, ImportKeyMaterial
	opDeleteImported             // DeleteImportedKeyMaterial
	opScheduleDeletion           // ScheduleKeyDeletion
	opModify                     // TagResource, UntagResource, UpdateKeyDescription
)

// checkState enforces the key-state table for one operation on k. Errors are built only on
// failure: this runs on every cryptographic request.
func (s *Service) checkState(k *Key, o op) error {
	switch o {
	case opAnyState:
		return nil
	case opCrypto, opSignMac, opCreateGrant:
		switch k.State {
		case StateDisabled:
			return s.stateErr(k, "disabled")
		case StatePendingDeletion, StatePendingImport:
			return s.stateErr(k, string(k.State))
		}
	case opCancelDeletion:
		if k.State != StatePendingDeletion {
			return errf(ErrInvalidState, "%s is not pending deletion.", s.arn(k))
		}
	case opCreateAlias, opScheduleDeletion, opModify:
		if k.State == StatePendingDeletion {
			return s.stateErr(k, string(k.State))
		}
	case opEnableDisable:
		switch k.State {
		case StatePendingDeletion, StatePendingImport:
			return s.stateErr(k, string(k.State))
		}
	case opRotationConfig, opRotateOnDemand:
		if k.CustomKeyStoreID != "" {
			return errf(ErrUnsupported, "%s is in a custom key store, whose keys cannot be rotated.", s.arn(k))
		}
		if k.Origin == OriginExternal {
			return s.stateErr(k, "external")
		}
		switch k.State {
		case StateDisabled:
			return s.stateErr(k, "disabled")
		case StatePendingDeletion, StatePendingImport:
			return s.stateErr(k, string(k.State))
		}
	case opRotationStatus:
		if k.Origin == OriginExternal {
			return s.stateErr(k, "external")
		}
	case opImport, opDeleteImported:
		if k.Origin != OriginExternal {
			return errf(ErrUnsupported, "%s origin is %s which is not valid for this operation.", s.arn(k), k.Origin)
		}
		if o == opImport && k.State == StatePendingDeletion {
			return s.stateErr(k, string(k.State))
		}
	}
	return nil
}

// stateErr builds the footnoted state errors of KMS_API.md §2.4.
func (s *Service) stateErr(k *Key, why string) error {
	arn := s.arn(k)
	switch why {
	case "disabled":
		return errf(ErrDisabled, "%s is disabled.", arn)
	case string(StatePendingDeletion):
		return errf(ErrInvalidState, "%s is pending deletion.", arn)
	case string(StatePendingImport):
		return errf(ErrInvalidState, "%s is pending import.", arn)
	default: // "external"
		return errf(ErrUnsupported, "%s origin is EXTERNAL which is not valid for this operation.", arn)
	}
}

// needUsage fails with InvalidKeyUsage unless k has usage u.
func (s *Service) needUsage(k *Key, u, opName string) error {
	if k.Usage != u {
		return errf(ErrInvalidKeyUsage, "%s key usage is %s which is not valid for %s.", s.arn(k), k.Usage, opName)
	}
	return nil
}
