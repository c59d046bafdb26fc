package kmsapi

import (
	"time"

	"github.com/coffer/coffer/internal/awsjson"

	"github.com/coffer/coffer/internal/kms"
)

// epoch is a timestamp on the wire: seconds since the epoch as a JSON number.
type epoch = awsjson.Epoch

// ts returns nil for the zero time so that omitempty drops it.
func ts(t time.Time) *epoch { return awsjson.Time(t) }

type keyMetadata struct {
	AWSAccountId                string
	KeyId                       string
	Arn                         string
	CreationDate                *epoch `json:",omitempty"`
	Enabled                     bool
	Description                 string
	KeyUsage                    string
	KeyState                    string
	DeletionDate                *epoch `json:",omitempty"`
	ValidTo                     *epoch `json:",omitempty"`
	Origin                      string
	ExpirationModel             string `json:",omitempty"`
	KeyManager                  string
	CustomerMasterKeySpec       string
	KeySpec                     string
	EncryptionAlgorithms        []string `json:",omitempty"`
	SigningAlgorithms           []string `json:",omitempty"`
	MacAlgorithms               []string `json:",omitempty"`
	KeyAgreementAlgorithms      []string `json:",omitempty"`
	MultiRegion                 bool
	PendingDeletionWindowInDays int    `json:",omitempty"`
	CurrentKeyMaterialId        string `json:",omitempty"`
	CustomKeyStoreId            string `json:",omitempty"`
	CloudHsmClusterId           string `json:",omitempty"`
}

func wireMetadata(m kms.KeyMetadata) keyMetadata {
	return keyMetadata{
		AWSAccountId: m.AWSAccountId, KeyId: m.KeyId, Arn: m.Arn, CreationDate: ts(m.CreationDate),
		Enabled: m.Enabled, Description: m.Description, KeyUsage: m.KeyUsage, KeyState: string(m.KeyState),
		DeletionDate: ts(m.DeletionDate), ValidTo: ts(m.ValidTo), Origin: m.Origin, ExpirationModel: m.ExpirationModel,
		KeyManager: m.KeyManager, CustomerMasterKeySpec: m.CustomerMasterKeySpec, KeySpec: m.KeySpec,
		EncryptionAlgorithms: m.EncryptionAlgorithms, SigningAlgorithms: m.SigningAlgorithms,
		MacAlgorithms: m.MacAlgorithms, KeyAgreementAlgorithms: m.KeyAgreementAlgorithms,
		PendingDeletionWindowInDays: m.PendingDeletionWindowInDays, CurrentKeyMaterialId: m.CurrentKeyMaterialId,
		CustomKeyStoreId: m.CustomKeyStoreId, CloudHsmClusterId: m.CloudHsmClusterId,
	}
}

// page is the paging part of list responses.
type page struct {
	NextMarker string `json:",omitempty"`
	Truncated  bool
}

func pageOut(next string) page { return page{NextMarker: next, Truncated: next != ""} }
