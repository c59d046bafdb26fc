package kms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/coffer/coffer/internal/policy"
)

// KeyMetadata describes a key as DescribeKey returns it. Zero times are absent.
type KeyMetadata struct {
	AWSAccountId                string
	KeyId                       string
	Arn                         string
	CreationDate                time.Time
	Enabled                     bool
	Description                 string
	KeyUsage                    string
	KeyState                    KeyState
	DeletionDate                time.Time
	ValidTo                     time.Time
	Origin                      string
	ExpirationModel             string
	KeyManager                  string
	CustomerMasterKeySpec       string
	KeySpec                     string
	EncryptionAlgorithms        []string
	SigningAlgorithms           []string
	MacAlgorithms               []string
	KeyAgreementAlgorithms      []string
	MultiRegion                 bool
	PendingDeletionWindowInDays int
	CurrentKeyMaterialId        string
	CustomKeyStoreId            string
	CloudHsmClusterId           string
}

// CreateKeyInput holds CreateKey's parameters.
type CreateKeyInput struct {
	Description                    string
	KeyUsage                       string
	KeySpec                        string
	CustomerMasterKeySpec          string
	Origin                         string
	Tags                           []Tag
	Policy                         string
	BypassPolicyLockoutSafetyCheck bool
	MultiRegion                    bool
	CustomKeyStoreId               string
	XksKeyId                       string
}

const maxDescription = 8192

// defaultMaxCustomerKeys is AWS's default quota of customer managed keys per account and Region.
const defaultMaxCustomerKeys = 100000

// CreateKey creates a customer managed key.
func (s *Service) CreateKey(ctx context.Context, c Caller, in CreateKeyInput) (KeyMetadata, error) {
	if in.XksKeyId != "" {
		return KeyMetadata{}, errf(ErrUnsupported, "External key stores are not supported by Coffer.")
	}
	if in.MultiRegion {
		return KeyMetadata{}, errf(ErrUnsupported, "Multi-Region keys are not supported.")
	}
	specName := in.KeySpec
	if in.CustomerMasterKeySpec != "" {
		if in.KeySpec != "" {
			return KeyMetadata{}, errValidation("You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.")
		}
		specName = in.CustomerMasterKeySpec
	}
	if specName == "" {
		specName = SpecSymmetric
	}
	sp, ok := specs[specName]
	if !ok {
		return KeyMetadata{}, errConstraint(specName, "keySpec", "Member must satisfy enum value set")
	}
	if in.CustomerMasterKeySpec != "" && (sp.edwards || sp.mldsa != nil) { // the deprecated twin never gained the newer specs
		return KeyMetadata{}, errConstraint(specName, "customerMasterKeySpec", "Member must satisfy enum value set")
	}
	usage := in.KeyUsage
	if usage == "" {
		if specName != SpecSymmetric {
			return KeyMetadata{}, errValidation("You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.")
		}
		usage = UsageEncryptDecrypt
	}
	if !contains(sp.usages, usage) {
		return KeyMetadata{}, errValidation("KeyUsage %s is not compatible with KeySpec %s", usage, specName)
	}
	origin := in.Origin
	if origin == "" {
		origin = OriginAWSKMS
	}
	if in.CustomKeyStoreId != "" && origin != OriginCloudHSM {
		return KeyMetadata{}, errf(ErrUnsupported, "A key in a custom key store must have Origin AWS_CLOUDHSM.")
	}
	switch origin {
	case OriginAWSKMS:
	case OriginExternal:
		if specName != SpecSymmetric {
			return KeyMetadata{}, errf(ErrUnsupported, "Importing key material is supported only for SYMMETRIC_DEFAULT keys.")
		}
	case OriginCloudHSM:
		if specName != SpecSymmetric {
			return KeyMetadata{}, errf(ErrUnsupported, "Custom key stores support only SYMMETRIC_DEFAULT keys.")
		}
		if in.CustomKeyStoreId == "" {
			return KeyMetadata{}, errf(ErrUnsupported, "Origin AWS_CLOUDHSM requires a CustomKeyStoreId.")
		}
	default:
		return KeyMetadata{}, errf(ErrUnsupported, "Origin %s is not supported.", origin)
	}
	if len(in.Description) > maxDescription {
		return KeyMetadata{}, errConstraint("", "description", "Member must have length less than or equal to 8192")
	}
	if err := validateTags(in.Tags, nil); err != nil {
		return KeyMetadata{}, err
	}
	err := s.authorizeIdentity(c, "CreateKey", "*", map[string][]string{
		condKeySpec: {specName}, condKeyUsage: {usage}, condKeyOrigin: {origin},
		condBypassLockout: {boolCond(in.BypassPolicyLockoutSafetyCheck)},
	})
	if err != nil {
		return KeyMetadata{}, err
	}
	id := newUUID()
	policy := in.Policy
	if policy == "" {
		policy = defaultPolicy(s.partition, c.Account)
	} else if err := s.checkNewPolicy(ctx, c, s.KeyARN(c.Account, id), policy, in.BypassPolicyLockoutSafetyCheck); err != nil {
		return KeyMetadata{}, err
	}
	k := &Key{
		ID: id, Account: c.Account, Manager: ManagerCustomer, Description: in.Description,
		Spec: specName, Usage: usage, Origin: origin, State: StateEnabled, Created: s.now().UTC(),
		Policy: policy, Tags: in.Tags,
	}
	if origin == OriginCloudHSM {
		if err := s.createInKeyStore(ctx, c, in.CustomKeyStoreId, k); err != nil {
			return KeyMetadata{}, err
		}
	} else if origin == OriginExternal {
		k.State = StatePendingImport
	} else if err := s.addVersion(ctx, k, ""); err != nil {
		return KeyMetadata{}, err
	}
	if err := s.store.CreateKey(ctx, k, nil, s.maxKeys); err != nil {
		if k.CustomKeyStoreID != "" {
			s.destroyInHSM(ctx, k) // no record names it: leave no orphan in the HSM
		}
		_ = s.shredSlots(ctx, slotsOf(k)...) // no record names them; a failure leaves them to the start-up sweep
		if errors.Is(err, ErrStoreQuota) {
			return KeyMetadata{}, errf(ErrLimitExceeded, "The number of customer managed keys in account %s exceeds the limit of %d.", c.Account, s.maxKeys)
		}
		return KeyMetadata{}, s.internal("create key", err)
	}
	return s.metadata(k), nil
}

// addVersion generates and seals a new material version and appends it to k.
func (s *Service) addVersion(ctx context.Context, k *Key, typ string) error {
	raw, err := generateMaterial(k.Spec)
	if err != nil {
		return s.internal("generate material", err)
	}
	defer clear(raw) // best effort
	return s.appendSealed(ctx, k, raw, typ)
}

func (s *Service) appendSealed(ctx context.Context, k *Key, raw []byte, typ string) error {
	n := uint32(1)
	if cur := k.current(); cur != nil {
		n = cur.Number + 1
	}
	sealed, slot, err := s.sealMaterial(ctx, raw, k.ID, n)
	if err != nil {
		return s.internal("seal", err)
	}
	mid := make([]byte, 32)
	rand.Read(mid)
	k.Versions = append(k.Versions, Version{
		Number: n, MaterialID: hex.EncodeToString(mid), Created: s.now().UTC(), Type: typ, Sealed: sealed, Slot: slot,
	})
	return nil
}

func (s *Service) metadata(k *Key) KeyMetadata {
	enc, sign, mac, agree := algorithms(k.Spec, k.Usage)
	m := KeyMetadata{
		AWSAccountId: k.Account, KeyId: k.ID, Arn: s.arn(k), CreationDate: k.Created,
		Enabled: k.State == StateEnabled, Description: k.Description, KeyUsage: k.Usage,
		KeyState: k.State, Origin: k.Origin, KeyManager: k.Manager,
		CustomerMasterKeySpec: k.Spec, KeySpec: k.Spec, EncryptionAlgorithms: enc,
		SigningAlgorithms: sign, MacAlgorithms: mac, KeyAgreementAlgorithms: agree,
		CustomKeyStoreId: k.CustomKeyStoreID,
	}
	if k.State == StatePendingDeletion {
		m.DeletionDate = k.DeletionDate
		m.PendingDeletionWindowInDays = k.PendingWindowDays
	}
	if k.Origin == OriginExternal {
		m.ExpirationModel = k.ExpirationModel
		m.ValidTo = k.ValidTo
	}
	if cur := k.current(); cur != nil && k.Spec == SpecSymmetric {
		m.CurrentKeyMaterialId = cur.MaterialID
	}
	return m
}

// DescribeKey returns a key's metadata. keyID may be a key id, key ARN, alias or alias ARN.
func (s *Service) DescribeKey(ctx context.Context, c Caller, keyID string) (KeyMetadata, error) {
	e, err := s.resolve(ctx, c, keyID, optsAny, askFor("DescribeKey"))
	if err != nil {
		return KeyMetadata{}, err
	}
	m := s.metadata(e.key)
	if m.CustomKeyStoreId != "" {
		m.KeyState = s.shownState(ctx, e.key)
		if ks, err := s.store.GetKeyStore(ctx, m.CustomKeyStoreId); err == nil {
			m.CloudHsmClusterId = ks.ClusterID
		}
	}
	return m, nil
}

// KeyListEntry is one ListKeys result.
type KeyListEntry struct {
	KeyId  string
	KeyArn string
}

// Page selects a page of a listing: Limit 1–1000 (0: the default), Marker from a previous page.
type Page struct {
	Limit  int
	Marker string
}

func (p Page) limit(def int) (int, error) {
	if p.Limit == 0 {
		return def, nil
	}
	if p.Limit < 1 || p.Limit > 1000 {
		return 0, errConstraint(p.Limit, "limit", "Member must have value between 1 and 1000")
	}
	return p.Limit, nil
}

// ListKeys lists the caller's keys (customer and AWS managed), by key id.
func (s *Service) ListKeys(ctx context.Context, c Caller, p Page) (keys []KeyListEntry, next string, err error) {
	limit, err := p.limit(100)
	if err != nil {
		return nil, "", err
	}
	if err := s.authorizeIdentity(c, "ListKeys", "*", nil); err != nil {
		return nil, "", err
	}
	after, err := s.markerAfter(ctx, listKeys, c.Account, p.Marker)
	if err != nil {
		return nil, "", err
	}
	ks, err := s.store.ListKeys(ctx, c.Account, after, limit+1)
	if err != nil {
		return nil, "", s.internal("list keys", err)
	}
	for _, k := range ks[:min(limit, len(ks))] {
		keys = append(keys, KeyListEntry{KeyId: k.ID, KeyArn: s.arn(k)})
	}
	if len(ks) > limit {
		next, err = s.newMarker(ctx, listKeys, c.Account, ks[limit-1].ID)
	}
	return keys, next, err
}

// manageable resolves a key for a management operation: key id or ARN only, customer managed.
func (s *Service) manageable(ctx context.Context, c Caller, keyID, opName string, o op) (*entry, error) {
	return s.manageableAs(ctx, c, keyID, askFor(opName), o)
}

// manageableAs is manageable for an operation with request condition keys.
func (s *Service) manageableAs(ctx context.Context, c Caller, keyID string, a ask, o op) (*entry, error) {
	opName := a.op
	e, err := s.resolve(ctx, c, keyID, optsKeyOnly, a)
	if err != nil {
		return nil, err
	}
	if e.key.Manager == ManagerAWS {
		return nil, s.denied(c, e.key, opName)
	}
	if err := s.checkState(e.key, o); err != nil {
		return nil, err
	}
	return e, nil
}

func (s *Service) denied(c Caller, k *Key, opName string) error {
	return errf(ErrAccessDenied, "%s", policy.DeniedMessage(c.ARN, "kms:"+opName, s.arn(k), false, policy.DeniedByResource))
}

// modify runs fn on a manageable key in one transaction, re-checking the state inside it.
func (s *Service) modify(ctx context.Context, c Caller, keyID, opName string, o op, fn func(*Key) error) (*entry, error) {
	return s.modifyAs(ctx, c, keyID, askFor(opName), o, fn)
}

// modifyAs is modify for an operation with request condition keys.
func (s *Service) modifyAs(ctx context.Context, c Caller, keyID string, a ask, o op, fn func(*Key) error) (*entry, error) {
	e, err := s.manageableAs(ctx, c, keyID, a, o)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, e.key.ID, func(k *Key) error {
		if err := s.checkState(k, o); err != nil {
			return err
		}
		return fn(k)
	})
}

// storeErr turns store failures into internal errors, passing client errors through.
func (s *Service) storeErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var ke *Error
	if errors.As(err, &ke) {
		return err
	}
	if errors.Is(err, ErrStoreNoSuchKey) {
		return errf(ErrNotFound, "Key does not exist")
	}
	return s.internal(op, err)
}

// UpdateKeyDescription replaces a key's description.
func (s *Service) UpdateKeyDescription(ctx context.Context, c Caller, keyID, description string) error {
	if len(description) > maxDescription {
		return errConstraint("", "description", "Member must have length less than or equal to 8192")
	}
	_, err := s.modify(ctx, c, keyID, "UpdateKeyDescription", opModify, func(k *Key) error {
		k.Description = description
		return nil
	})
	return s.storeErr("update description", err)
}

// EnableKey moves a key to Enabled.
func (s *Service) EnableKey(ctx context.Context, c Caller, keyID string) error {
	_, err := s.modify(ctx, c, keyID, "EnableKey", opEnableDisable, func(k *Key) error {
		k.State = StateEnabled
		return nil
	})
	return s.storeErr("enable key", err)
}

// DisableKey moves a key to Disabled.
func (s *Service) DisableKey(ctx context.Context, c Caller, keyID string) error {
	_, err := s.modify(ctx, c, keyID, "DisableKey", opEnableDisable, func(k *Key) error {
		k.State = StateDisabled
		return nil
	})
	return s.storeErr("disable key", err)
}

// ScheduleKeyDeletionOutput is ScheduleKeyDeletion's result.
type ScheduleKeyDeletionOutput struct {
	KeyId               string
	DeletionDate        time.Time
	KeyState            KeyState
	PendingWindowInDays int
}

// ScheduleKeyDeletion puts a key in PendingDeletion; the scheduler destroys it after days
// (7–30; 0 means 30).
func (s *Service) ScheduleKeyDeletion(ctx context.Context, c Caller, keyID string, days int) (ScheduleKeyDeletionOutput, error) {
	if days == 0 {
		days = 30
	}
	if days < 7 || days > 30 {
		return ScheduleKeyDeletionOutput{}, errConstraint(days, "pendingWindowInDays", "Member must have value between 7 and 30")
	}
	e, err := s.modify(ctx, c, keyID, "ScheduleKeyDeletion", opScheduleDeletion, func(k *Key) error {
		k.State = StatePendingDeletion
		k.PendingWindowDays = days
		k.DeletionDate = s.now().UTC().Add(time.Duration(days) * 24 * time.Hour)
		return nil
	})
	if err != nil {
		return ScheduleKeyDeletionOutput{}, s.storeErr("schedule deletion", err)
	}
	return ScheduleKeyDeletionOutput{KeyId: s.arn(e.key), DeletionDate: e.key.DeletionDate, KeyState: e.key.State, PendingWindowInDays: days}, nil
}

// CancelKeyDeletion takes a key out of PendingDeletion; it becomes Disabled (PendingImport if
// it has no material).
func (s *Service) CancelKeyDeletion(ctx context.Context, c Caller, keyID string) (string, error) {
	e, err := s.modify(ctx, c, keyID, "CancelKeyDeletion", opCancelDeletion, func(k *Key) error {
		k.State = StateDisabled
		if len(k.Versions) == 0 {
			k.State = StatePendingImport
		}
		k.DeletionDate = time.Time{}
		k.PendingWindowDays = 0
		return nil
	})
	if err != nil {
		return "", s.storeErr("cancel deletion", err)
	}
	return s.arn(e.key), nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
