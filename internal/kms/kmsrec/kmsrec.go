// Package kmsrec is the stored form of package kms's records, shared by every backend that
// keeps them as opaque values (kmsbolt under bbolt keys, pgkms in bytea columns), so that a
// record means the same whatever store holds it and moves between stores unchanged.
//
// A record is the JSON of the kms type, with no version byte: the records of kmsbolt had
// that form before this package existed, and a record carries its own format
// (RecordFormat). A record of the MACed format (kms.RecordFormatMAC and later) must be
// exactly the JSON encoding of what it decodes to, so it has one byte form: a change of its
// bytes that still decodes (a field name re-cased, base64 with other spare bits, an escape)
// is refused, and any other change alters a field its MAC covers (the MAC is made and checked
// above the backend, by package kms). Records from before MACs decode as they always did; the
// kms package upgrades them. A decoder also checks that the record is the one its storage
// key names, so a record copied under another key is damaged, never another key's.
package kmsrec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/coffer/coffer/internal/kms"
)

// errNotCanonical is a record of the MACed format whose bytes are not the JSON encoding of
// what they decode to.
var errNotCanonical = errors.New("the record is not in its one canonical form")

// Encode returns the stored form of a key, alias, grant, custom key store or key usage.
func Encode[T *kms.Key | kms.Alias | kms.Grant | kms.KeyStore | kms.KeyUsage](v T) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("kmsrec: %w", err)
	}
	return b, nil
}

// decode unmarshals a stored record into rec, whose format field is format.
func decode(v []byte, rec any, format *int) error {
	if err := json.Unmarshal(v, rec); err != nil {
		return err
	}
	if *format < kms.RecordFormatMAC {
		return nil
	}
	canon, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if !bytes.Equal(canon, v) {
		return errNotCanonical
	}
	return nil
}

// DecodeKey decodes the record stored for key id (kms.ErrStoreDamaged if it is not one).
func DecodeKey(id string, v []byte) (*kms.Key, error) {
	k := new(kms.Key)
	err := decode(v, k, &k.RecordFormat)
	if err == nil && k.ID != id {
		err = fmt.Errorf("the record is of key %q", k.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("kmsrec: key %s: %w: %v", id, kms.ErrStoreDamaged, err)
	}
	return k, nil
}

// DecodeAlias decodes the record stored for alias name of account (kms.ErrStoreDamaged if
// it is not one).
func DecodeAlias(account, name string, v []byte) (kms.Alias, error) {
	var a kms.Alias
	err := decode(v, &a, &a.RecordFormat)
	if err == nil && (a.Account != account || a.Name != name) {
		err = fmt.Errorf("the record is of alias %q of account %q", a.Name, a.Account)
	}
	if err != nil {
		return kms.Alias{}, fmt.Errorf("kmsrec: alias %s of account %s: %w: %v", name, account, kms.ErrStoreDamaged, err)
	}
	return a, nil
}

// DecodeGrant decodes the record stored for grant grantID of key keyID (kms.ErrStoreDamaged
// if it is not one).
func DecodeGrant(keyID, grantID string, v []byte) (kms.Grant, error) {
	var g kms.Grant
	err := decode(v, &g, &g.RecordFormat)
	if err == nil && (g.KeyID != keyID || g.GrantID != grantID) {
		err = fmt.Errorf("the record is of grant %q of key %q", g.GrantID, g.KeyID)
	}
	if err != nil {
		return kms.Grant{}, fmt.Errorf("kmsrec: grant %s of key %s: %w: %v", grantID, keyID, kms.ErrStoreDamaged, err)
	}
	return g, nil
}

// DecodeKeyStore decodes the record stored for custom key store id (kms.ErrStoreDamaged if
// it is not one).
func DecodeKeyStore(id string, v []byte) (kms.KeyStore, error) {
	var ks kms.KeyStore
	err := decode(v, &ks, &ks.RecordFormat)
	if err == nil && ks.ID != id {
		err = fmt.Errorf("the record is of custom key store %q", ks.ID)
	}
	if err != nil {
		return kms.KeyStore{}, fmt.Errorf("kmsrec: custom key store %s: %w: %v", id, kms.ErrStoreDamaged, err)
	}
	return ks, nil
}

// DecodeUsage decodes a stored key usage. Usage is informational and carries no MAC: a
// damaged one reads as none (ok false), which a later use replaces.
func DecodeUsage(v []byte) (u kms.KeyUsage, ok bool) {
	if v == nil || json.Unmarshal(v, &u) != nil {
		return kms.KeyUsage{}, false
	}
	return u, true
}
