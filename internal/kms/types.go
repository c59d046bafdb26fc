package kms

import "time"

// KeyState is the state of a KMS key (KMS_API.md §2.4).
type KeyState string

// Key states a Coffer key can be in.
const (
	StateEnabled         KeyState = "Enabled"
	StateDisabled        KeyState = "Disabled"
	StatePendingDeletion KeyState = "PendingDeletion"
	StatePendingImport   KeyState = "PendingImport"
)

// Key managers, origins and usages as AWS spells them.
const (
	ManagerCustomer = "CUSTOMER"
	ManagerAWS      = "AWS"

	OriginAWSKMS   = "AWS_KMS"
	OriginExternal = "EXTERNAL"
	OriginCloudHSM = "AWS_CLOUDHSM" // material generated in a custom key store's HSM

	UsageEncryptDecrypt = "ENCRYPT_DECRYPT"
	UsageSignVerify     = "SIGN_VERIFY"
	UsageMac            = "GENERATE_VERIFY_MAC"
	UsageKeyAgreement   = "KEY_AGREEMENT"

	SpecSymmetric = "SYMMETRIC_DEFAULT"
)

// Key is one KMS key as kept in the Store: metadata plus every version of its sealed material.
// Values returned by a Store are owned by the caller.
type Key struct {
	ID      string
	Account string
	// Owned marks a service-owned key: invisible to accounts, used by Coffer itself.
	Owned       bool
	Manager     string
	Description string
	Spec        string
	Usage       string
	Origin      string
	State       KeyState
	Created     time.Time
	// DeletionDate is when a PendingDeletion key is destroyed.
	DeletionDate      time.Time
	PendingWindowDays int
	// ValidTo is when imported material expires; zero when it does not.
	ValidTo         time.Time
	ExpirationModel string
	// ImportFingerprint identifies imported material so a re-import can be checked to be the
	// same material (a domain-separated SHA-256, never the material itself).
	ImportFingerprint []byte
	Rotation          Rotation
	Versions          []Version
	Import            *ImportParams
	Policy            string
	Tags              []Tag
	// CustomKeyStoreID names the custom key store whose HSM holds the key's material (Origin
	// AWS_CLOUDHSM); its versions then carry no sealed material.
	CustomKeyStoreID string `json:",omitempty"`
	// RecordFormat and MAC make the record tamper-evident (SPEC.md §5): the Service sets them
	// on every write and checks them on every read from the Store; a Store keeps them as is.
	RecordFormat int
	MAC          []byte
}

// Rotation is a key's rotation settings.
type Rotation struct {
	Enabled    bool
	PeriodDays int
	// Next is when automatic rotation next fires (zero when disabled).
	Next     time.Time
	OnDemand int // on-demand rotations done so far
}

// Version is one generation of key material. Versions are numbered from 1; the last is current.
type Version struct {
	Number     uint32
	MaterialID string // 64 lowercase hex
	Created    time.Time
	Type       string // "" for the original material, AUTOMATIC or ON_DEMAND for rotations
	Sealed     []byte // material sealed by the RootKey (SPEC.md §2), under a shred key when Slot is set
	// Slot is the Shredder slot of the material's shred key (SPEC.md §8); 0 when the
	// material is sealed by the root key alone.
	Slot uint32 `json:",omitempty"`
}

// ImportParams is the outstanding GetParametersForImport of an EXTERNAL key.
type ImportParams struct {
	TokenID      []byte // random, the import token carries it
	Algorithm    string
	WrappingSpec string
	Sealed       []byte // the RSA wrapping private key (PKCS#8), sealed
	ValidTo      time.Time
	// Slot is the Shredder slot of the wrapping key's shred key, as Version.Slot.
	Slot uint32 `json:",omitempty"`
}

// Tag is one resource tag.
type Tag struct {
	TagKey   string
	TagValue string
}

// Alias names a key within an account.
type Alias struct {
	Account string
	Name    string // "alias/..."
	KeyID   string
	Created time.Time
	Updated time.Time
	// RecordFormat and MAC make the record tamper-evident (SPEC.md §5): the Service sets them
	// on every write and checks them on every read from the Store; a Store keeps them as is.
	RecordFormat int
	MAC          []byte
}

// Grant is a stored grant; authorization applies it (grantauthz.go).
type Grant struct {
	KeyID             string
	GrantID           string
	Token             string
	Name              string
	GranteePrincipal  string
	RetiringPrincipal string
	IssuingAccount    string
	Operations        []string
	Constraints       *GrantConstraints
	Created           time.Time
	// RecordFormat and MAC make the record tamper-evident (SPEC.md §5): the Service sets them
	// on every write and checks them on every read from the Store; a Store keeps them as is.
	RecordFormat int
	MAC          []byte
}

// GrantConstraints are a grant's encryption-context conditions.
type GrantConstraints struct {
	EncryptionContextEquals map[string]string `json:",omitempty"`
	EncryptionContextSubset map[string]string `json:",omitempty"`
}

func (k *Key) current() *Version {
	if len(k.Versions) == 0 {
		return nil
	}
	return &k.Versions[len(k.Versions)-1]
}

func (k *Key) version(n uint32) *Version {
	for i := range k.Versions {
		if k.Versions[i].Number == n {
			return &k.Versions[i]
		}
	}
	return nil
}
