package kms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
)

// createInKeyStore checks that a key can be created in custom key store id for caller c and
// generates its material in the store's HSM, labelled with the key's id (SPEC.md §6).
func (s *Service) createInKeyStore(ctx context.Context, c Caller, id string, k *Key) error {
	ks, err := s.ownStore(ctx, c, id)
	if err != nil {
		return err
	}
	conn := s.hsm.connection(ctx, ks)
	if conn.state != StateConnected {
		return errf(ErrCustomKeyStoreInvalidState, "Custom key store %s is not connected (%s).", id, conn.state)
	}
	if err := conn.token.GenerateKey(ctx, k.ID); err != nil {
		return s.hsmFailure(k, ks.ID, conn.token, "generate key", err)
	}
	mid := make([]byte, 32)
	rand.Read(mid)
	k.CustomKeyStoreID = ks.ID
	k.Versions = []Version{{Number: 1, MaterialID: hex.EncodeToString(mid), Created: s.now().UTC()}}
	return nil
}

// randomInKeyStore returns n random bytes from the HSM of caller c's store id.
func (s *Service) randomInKeyStore(ctx context.Context, c Caller, id string, n int) ([]byte, error) {
	ks, err := s.ownStore(ctx, c, id)
	if err != nil {
		return nil, err
	}
	conn := s.hsm.connection(ctx, ks)
	if conn.state != StateConnected {
		return nil, errf(ErrCustomKeyStoreInvalidState, "Custom key store %s is not connected (%s).", id, conn.state)
	}
	b, err := conn.token.Random(ctx, n)
	if err != nil {
		return nil, s.internal("hsm random", err)
	}
	return b, nil
}

// keyToken returns the HSM connection of a key in a custom key store, or the
// KMSInvalidStateException of an Unavailable key.
func (s *Service) keyToken(ctx context.Context, k *Key) (HSMToken, error) {
	if tok := s.hsm.connected(k.CustomKeyStoreID); tok != nil {
		return tok, nil // the hot path: no store read
	}
	ks, err := s.store.GetKeyStore(ctx, k.CustomKeyStoreID)
	if err != nil {
		return nil, s.internal("get key store", err)
	}
	conn := s.hsm.connection(ctx, ks)
	if conn.state != StateConnected {
		return nil, errf(ErrInvalidState, "%s is unavailable: its custom key store %s is not connected.", s.arn(k), ks.ID)
	}
	return conn.token, nil
}

// hsmFailure classifies an HSM failure on key k of store id, whose connection is tok: a key
// whose material is gone from the HSM is KMSInvalidStateException naming it (the others keep
// working); an HSM that dropped and could not be logged in to again fails the store's
// connection (FAILED, as a failed connection attempt in AWS) and makes its keys Unavailable;
// the rest is internal.
func (s *Service) hsmFailure(k *Key, id string, tok HSMToken, what string, err error) error {
	if s.hsmLost(id, tok, err) {
		return errf(ErrInvalidState, "%s is unavailable: its custom key store %s cannot reach its HSM.", s.arn(k), id)
	}
	switch {
	case errors.Is(err, ErrHSMKeyNotFound):
		s.log.Error("kms: key material missing from its HSM", "key", k.ID, "store", k.CustomKeyStoreID)
		return errf(ErrInvalidState, "The key material of %s is not in the HSM of custom key store %s.", s.arn(k), k.CustomKeyStoreID)
	case errors.Is(err, ErrHSMDisconnected):
		return errf(ErrInvalidState, "%s is unavailable: its custom key store %s cannot reach its HSM.", s.arn(k), k.CustomKeyStoreID)
	}
	return s.internal(what, err)
}

// hsmLost fails the connection of store id when err says that its HSM dropped and could not
// be logged in to again (the token's pool has retried on a new session), and logs it once. It
// reports whether err is such a failure.
func (s *Service) hsmLost(id string, tok HSMToken, err error) bool {
	if !errors.Is(err, ErrHSMUnreachable) && !errors.Is(err, ErrHSMCredentials) && !errors.Is(err, ErrHSMLockedOut) {
		return false
	}
	if s.hsm.lost(id, tok, err) {
		s.log.Error("kms: custom key store lost its HSM; disconnect and connect it once the HSM is back", "store", id,
			"code", connectionErrorCode(err), "err", err)
	}
	return true
}

// sealInHSM makes the ciphertext blob of a key in a custom key store: the blob format of
// SPEC.md §1 with its sealed part made by AES-GCM in the HSM (SPEC.md §6.2).
func (s *Service) sealInHSM(ctx context.Context, e *entry, h blobHeader, aad, plaintext []byte) ([]byte, error) {
	tok, err := s.keyToken(ctx, e.key)
	if err != nil {
		return nil, err
	}
	head := h.marshal()
	sealed, err := tok.Seal(ctx, e.key.ID, h.Seed[:12], append(head[:len(head):len(head)], aad...), plaintext)
	if err != nil {
		return nil, s.hsmFailure(e.key, e.key.CustomKeyStoreID, tok, "hsm seal", err)
	}
	return append(head, sealed...), nil
}

// openInHSM opens the sealed part of a blob of a key in a custom key store.
func (s *Service) openInHSM(ctx context.Context, e *entry, h blobHeader, sealed, aad []byte) ([]byte, error) {
	tok, err := s.keyToken(ctx, e.key)
	if err != nil {
		return nil, err
	}
	head := h.marshal()
	pt, err := tok.Open(ctx, e.key.ID, h.Seed[:12], append(head, aad...), sealed)
	if errors.Is(err, ErrHSMDecrypt) {
		return nil, errCiphertext
	}
	if err != nil {
		return nil, s.hsmFailure(e.key, e.key.CustomKeyStoreID, tok, "hsm open", err)
	}
	return pt, nil
}

// destroyInHSM destroys the HSM key of a key being deleted. A store that is not connected
// cannot reach its HSM: the KMS key is deleted all the same, as in AWS, and the HSM object
// labelled with its id is left for its administrator (logged).
func (s *Service) destroyInHSM(ctx context.Context, k *Key) {
	ks, err := s.store.GetKeyStore(ctx, k.CustomKeyStoreID)
	if err != nil {
		s.log.WarnContext(ctx, "kms: deleted key's custom key store is unreadable; its HSM key remains", "key", k.ID, "store", k.CustomKeyStoreID, "err", err)
		return
	}
	conn := s.hsm.connection(ctx, ks)
	if conn.state != StateConnected {
		s.log.WarnContext(ctx, "kms: deleted key's custom key store is not connected; its HSM key remains", "key", k.ID, "store", ks.ID)
		return
	}
	if err := conn.token.DestroyKey(ctx, k.ID); err != nil && !errors.Is(err, ErrHSMKeyNotFound) {
		s.log.WarnContext(ctx, "kms: destroying a deleted key's HSM key failed", "key", k.ID, "store", ks.ID, "err", err)
	}
}

// shownState is the KeyState DescribeKey shows: Unavailable for a key of a custom key store
// that is not connected.
func (s *Service) shownState(ctx context.Context, k *Key) KeyState {
	if k.CustomKeyStoreID == "" || k.State == StatePendingDeletion {
		return k.State
	}
	ks, err := s.store.GetKeyStore(ctx, k.CustomKeyStoreID)
	if err != nil || s.hsm.connection(ctx, ks).state != StateConnected {
		return KeyStateUnavailable
	}
	return k.State
}
