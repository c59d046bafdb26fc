package kms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
)

// Custom key store types and connection states as AWS spells them.
const (
	KeyStoreTypeCloudHSM = "AWS_CLOUDHSM"
	KeyStoreTypeExternal = "EXTERNAL_KEY_STORE"

	StateConnected     = "CONNECTED"
	StateConnecting    = "CONNECTING"
	StateDisconnected  = "DISCONNECTED"
	StateDisconnecting = "DISCONNECTING"
	StateFailed        = "FAILED"
)

// KeyStateUnavailable is the state DescribeKey shows for a key whose custom key store is not
// connected; it is never stored.
const KeyStateUnavailable KeyState = "Unavailable"

// keyStoreConns are the live connections of custom key stores, by store id. A store with no
// entry has not been connected during this run.
type keyStoreConns struct {
	hsms  HSMs
	mu    sync.Mutex // guards conns; held across a connection attempt so one store connects once
	conns map[string]*keyStoreConn
}

// keyStoreConn is the connection state of one store.
type keyStoreConn struct {
	state   string // CONNECTED, DISCONNECTED or FAILED
	errCode string // ConnectionErrorCode when FAILED
	err     error  // why it FAILED, for the log (the driver's text names no PIN)
	token   HSMToken
}

// CustomKeyStore describes a custom key store as DescribeCustomKeyStores returns it.
type CustomKeyStore struct {
	CustomKeyStoreId       string
	CustomKeyStoreName     string
	CustomKeyStoreType     string
	CloudHsmClusterId      string
	TrustAnchorCertificate string
	ConnectionState        string
	ConnectionErrorCode    string
	CreationDate           time.Time
}

// CreateCustomKeyStoreInput holds CreateCustomKeyStore's parameters. KeyStorePassword is
// checked as AWS checks it and otherwise unused: Coffer logs in with the PIN configured for
// the HSM, which never travels in a request.
type CreateCustomKeyStoreInput struct {
	CustomKeyStoreName     string
	CustomKeyStoreType     string
	CloudHsmClusterId      string
	TrustAnchorCertificate string
	KeyStorePassword       string
}

// CreateCustomKeyStore creates a custom key store over a configured HSM, disconnected.
func (s *Service) CreateCustomKeyStore(ctx context.Context, c Caller, in CreateCustomKeyStoreInput) (string, error) {
	if err := s.authorizeIdentity(c, "CreateCustomKeyStore", "*", nil); err != nil {
		return "", err
	}
	switch in.CustomKeyStoreType {
	case "", KeyStoreTypeCloudHSM:
	case KeyStoreTypeExternal:
		return "", errf(ErrUnsupported, "External key stores are not supported by Coffer.")
	default:
		return "", errConstraint(in.CustomKeyStoreType, "customKeyStoreType", "Member must satisfy enum value set: [EXTERNAL_KEY_STORE, AWS_CLOUDHSM]")
	}
	if err := checkStoreName(in.CustomKeyStoreName); err != nil {
		return "", err
	}
	if in.CloudHsmClusterId == "" || in.TrustAnchorCertificate == "" || in.KeyStorePassword == "" {
		return "", errValidation("CloudHsmClusterId, TrustAnchorCertificate and KeyStorePassword are required for a custom key store of type AWS_CLOUDHSM.")
	}
	if err := checkPassword(in.KeyStorePassword); err != nil {
		return "", err
	}
	if s.hsm.hsms == nil || !s.hsm.hsms.Has(in.CloudHsmClusterId) {
		return "", errf(ErrCloudHsmClusterNotFound, "No CloudHSM cluster with ID %s is configured.", in.CloudHsmClusterId)
	}
	if b, _ := pem.Decode([]byte(in.TrustAnchorCertificate)); b == nil || b.Type != "CERTIFICATE" {
		return "", errf(ErrIncorrectTrustAnchor, "The trust anchor certificate is not a PEM-encoded certificate.")
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	all, err := s.store.ListKeyStores(ctx)
	if err != nil {
		return "", s.internal("list key stores", err)
	}
	for _, ks := range all {
		if ks.Account == c.Account && ks.Name == in.CustomKeyStoreName {
			return "", errf(ErrCustomKeyStoreNameInUse, "A custom key store with name %s already exists.", in.CustomKeyStoreName)
		}
		if ks.ClusterID == in.CloudHsmClusterId {
			return "", errf(ErrCloudHsmClusterInUse, "CloudHSM cluster %s is already associated with a custom key store.", in.CloudHsmClusterId)
		}
	}
	id := make([]byte, 9)
	rand.Read(id)
	ks := KeyStore{
		ID: "cks-" + hex.EncodeToString(id)[:17], Account: c.Account, Name: in.CustomKeyStoreName,
		Type: KeyStoreTypeCloudHSM, ClusterID: in.CloudHsmClusterId, TrustAnchor: in.TrustAnchorCertificate,
		Created: s.now().UTC(),
	}
	if err := s.store.PutKeyStore(ctx, ks, true); err != nil {
		return "", s.internal("create key store", err)
	}
	return ks.ID, nil
}

func checkStoreName(name string) error {
	if len(name) < 1 || len(name) > 256 {
		return errConstraint(name, "customKeyStoreName", "Member must have length between 1 and 256")
	}
	return nil
}

func checkPassword(p string) error {
	if len(p) < 7 || len(p) > 32 {
		return errConstraint("***", "keyStorePassword", "Member must have length between 7 and 32")
	}
	return nil
}

// ownStore returns the caller's key store id (CustomKeyStoreNotFoundException otherwise).
func (s *Service) ownStore(ctx context.Context, c Caller, id string) (KeyStore, error) {
	ks, err := s.store.GetKeyStore(ctx, id)
	if errors.Is(err, ErrStoreNoSuchKeyStore) || err == nil && ks.Account != c.Account {
		return KeyStore{}, errf(ErrCustomKeyStoreNotFound, "Custom key store %s does not exist.", id)
	}
	if err != nil {
		return KeyStore{}, s.internal("get key store", err)
	}
	return ks, nil
}

// DescribeCustomKeyStores lists the caller's custom key stores, or the one named by id or name.
func (s *Service) DescribeCustomKeyStores(ctx context.Context, c Caller, id, name, marker string, limit int) ([]CustomKeyStore, string, error) {
	if err := s.authorizeIdentity(c, "DescribeCustomKeyStores", "*", nil); err != nil {
		return nil, "", err
	}
	if id != "" && name != "" {
		return nil, "", errValidation("You cannot specify both CustomKeyStoreId and CustomKeyStoreName.")
	}
	all, err := s.store.ListKeyStores(ctx)
	if err != nil {
		return nil, "", s.internal("list key stores", err)
	}
	var mine []KeyStore
	for _, ks := range all {
		if ks.Account != c.Account || id != "" && ks.ID != id || name != "" && ks.Name != name {
			continue
		}
		mine = append(mine, ks)
	}
	if len(mine) == 0 && (id != "" || name != "") {
		what := id
		if what == "" {
			what = name
		}
		return nil, "", errf(ErrCustomKeyStoreNotFound, "Custom key store %s does not exist.", what)
	}
	if limit <= 0 {
		limit = 1000
	}
	scope := strings.Join([]string{c.Account, id, name}, "\x00")
	stores, next, err := page(ctx, s, listCustomKeyStore, scope, mine, func(ks KeyStore) string { return ks.ID }, marker, limit)
	if err != nil {
		return nil, "", err
	}
	out := make([]CustomKeyStore, len(stores))
	for i, ks := range stores {
		out[i] = s.describeStore(ctx, ks)
	}
	return out, next, nil
}

func (s *Service) describeStore(ctx context.Context, ks KeyStore) CustomKeyStore {
	conn := s.hsm.connection(ctx, ks)
	if conn.state == StateConnected {
		// A store shows CONNECTED only while its HSM answers: one that dropped (and refuses
		// the new login) is FAILED here, not only at the next use of one of its keys.
		if err := conn.token.Check(ctx); err != nil {
			s.hsmLost(ks.ID, conn.token, err)
			conn = s.hsm.connection(ctx, ks)
		}
	}
	return CustomKeyStore{
		CustomKeyStoreId: ks.ID, CustomKeyStoreName: ks.Name, CustomKeyStoreType: ks.Type,
		CloudHsmClusterId: ks.ClusterID, TrustAnchorCertificate: ks.TrustAnchor,
		ConnectionState: conn.state, ConnectionErrorCode: conn.errCode, CreationDate: ks.Created,
	}
}

// UpdateCustomKeyStoreInput holds UpdateCustomKeyStore's parameters.
type UpdateCustomKeyStoreInput struct {
	CustomKeyStoreId      string
	NewCustomKeyStoreName string
	CloudHsmClusterId     string
	KeyStorePassword      string
}

// UpdateCustomKeyStore renames a store (at any time) or points it at another configured HSM
// (only while it is disconnected).
func (s *Service) UpdateCustomKeyStore(ctx context.Context, c Caller, in UpdateCustomKeyStoreInput) error {
	return s.changeStore(ctx, c, "UpdateCustomKeyStore", in.CustomKeyStoreId, func(ks KeyStore) error {
		return s.updateStore(ctx, c, ks, in)
	})
}

func (s *Service) updateStore(ctx context.Context, c Caller, ks KeyStore, in UpdateCustomKeyStoreInput) error {
	if in.KeyStorePassword != "" {
		if err := checkPassword(in.KeyStorePassword); err != nil {
			return err
		}
	}
	if (in.CloudHsmClusterId != "" || in.KeyStorePassword != "") && s.hsm.connection(ctx, ks).state != StateDisconnected {
		return errf(ErrCustomKeyStoreInvalidState, "Custom key store %s must be disconnected to change its cluster or password.", ks.ID)
	}
	all, err := s.store.ListKeyStores(ctx)
	if err != nil {
		return s.internal("list key stores", err)
	}
	if in.NewCustomKeyStoreName != "" {
		if err := checkStoreName(in.NewCustomKeyStoreName); err != nil {
			return err
		}
		if slices.ContainsFunc(all, func(o KeyStore) bool {
			return o.ID != ks.ID && o.Account == c.Account && o.Name == in.NewCustomKeyStoreName
		}) {
			return errf(ErrCustomKeyStoreNameInUse, "A custom key store with name %s already exists.", in.NewCustomKeyStoreName)
		}
		ks.Name = in.NewCustomKeyStoreName
	}
	if in.CloudHsmClusterId != "" && in.CloudHsmClusterId != ks.ClusterID {
		if s.hsm.hsms == nil || !s.hsm.hsms.Has(in.CloudHsmClusterId) {
			return errf(ErrCloudHsmClusterNotFound, "No CloudHSM cluster with ID %s is configured.", in.CloudHsmClusterId)
		}
		if slices.ContainsFunc(all, func(o KeyStore) bool { return o.ClusterID == in.CloudHsmClusterId }) {
			return errf(ErrCloudHsmClusterInUse, "CloudHSM cluster %s is already associated with a custom key store.", in.CloudHsmClusterId)
		}
		ks.ClusterID = in.CloudHsmClusterId
	}
	if err := s.store.PutKeyStore(ctx, ks, false); err != nil {
		return s.internal("update key store", err)
	}
	return nil
}

// DeleteCustomKeyStore deletes a disconnected store that holds no keys.
func (s *Service) DeleteCustomKeyStore(ctx context.Context, c Caller, id string) error {
	return s.changeStore(ctx, c, "DeleteCustomKeyStore", id, func(ks KeyStore) error { return s.deleteStore(ctx, ks) })
}

func (s *Service) deleteStore(ctx context.Context, ks KeyStore) error {
	id := ks.ID
	if s.hsm.connection(ctx, ks).state != StateDisconnected {
		return errf(ErrCustomKeyStoreInvalidState, "Custom key store %s must be disconnected before it is deleted.", id)
	}
	has := false
	err := s.store.ScanKeys(ctx, func(k *Key) bool {
		has = k.CustomKeyStoreID == id
		return !has
	})
	if err != nil {
		return s.internal("scan keys", err)
	}
	if has {
		return errf(ErrCustomKeyStoreHasCMKs, "Custom key store %s still holds KMS keys.", id)
	}
	if err := s.store.DeleteKeyStore(ctx, id); err != nil {
		return s.internal("delete key store", err)
	}
	return nil
}

// ConnectCustomKeyStore connects a store to its HSM. The attempt finishes before the call
// returns: the store is then CONNECTED, or FAILED with a ConnectionErrorCode (a FAILED store
// must be disconnected before it is connected again, as in AWS).
func (s *Service) ConnectCustomKeyStore(ctx context.Context, c Caller, id string) error {
	return s.changeStore(ctx, c, "ConnectCustomKeyStore", id, func(ks KeyStore) error {
		if st := s.hsm.connection(ctx, ks).state; st == StateFailed {
			return errf(ErrCustomKeyStoreInvalidState, "Custom key store %s is %s: disconnect it first.", id, st)
		}
		if err := s.wantConnected(ctx, &ks, true); err != nil {
			return err
		}
		if conn := s.hsm.connection(ctx, ks); conn.state == StateFailed {
			s.log.WarnContext(ctx, "kms: custom key store failed to connect", "store", id, "hsm", ks.ClusterID, "code", conn.errCode, "err", conn.err)
		}
		return nil
	})
}

// DisconnectCustomKeyStore disconnects a store: its keys are Unavailable until it is
// connected again.
func (s *Service) DisconnectCustomKeyStore(ctx context.Context, c Caller, id string) error {
	return s.changeStore(ctx, c, "DisconnectCustomKeyStore", id, func(ks KeyStore) error {
		if err := s.wantConnected(ctx, &ks, false); err != nil {
			return err
		}
		s.hsm.disconnect(ks.ID)
		return nil
	})
}

// changeStore authorizes op for caller c and runs fn on c's store id, with the service's
// writes serialised.
func (s *Service) changeStore(ctx context.Context, c Caller, op, id string, fn func(KeyStore) error) error {
	if err := s.authorizeIdentity(c, op, "*", nil); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	ks, err := s.ownStore(ctx, c, id)
	if err != nil {
		return err
	}
	return fn(ks)
}

// wantConnected records whether the owner wants ks connected.
func (s *Service) wantConnected(ctx context.Context, ks *KeyStore, connect bool) error {
	if ks.Connect == connect {
		return nil
	}
	ks.Connect = connect
	if err := s.store.PutKeyStore(ctx, *ks, false); err != nil {
		return s.internal("update key store", err)
	}
	return nil
}

// connection returns a store's connection, connecting it first when its record asks for a
// connection that this run has not made yet (after a restart, or a Connect just recorded).
func (h *keyStoreConns) connection(ctx context.Context, ks KeyStore) keyStoreConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	if conn := h.conns[ks.ID]; conn != nil {
		return *conn
	}
	if !ks.Connect || h.hsms == nil {
		return keyStoreConn{state: StateDisconnected}
	}
	tok, err := h.hsms.Connect(ctx, ks.ClusterID)
	conn := &keyStoreConn{state: StateConnected, token: tok}
	if err != nil {
		conn = &keyStoreConn{state: StateFailed, errCode: connectionErrorCode(err), err: err}
	}
	h.conns[ks.ID] = conn
	return *conn
}

// connected returns the token of a store connected during this run, nil otherwise.
func (h *keyStoreConns) connected(id string) HSMToken {
	h.mu.Lock()
	defer h.mu.Unlock()
	if conn := h.conns[id]; conn != nil && conn.state == StateConnected {
		return conn.token
	}
	return nil
}

// lost records that the connected store id's HSM dropped under tok and could not be logged in
// to again: the store is FAILED with the ConnectionErrorCode of err, and tok is closed. It
// reports false when the store's connection had already changed.
func (h *keyStoreConns) lost(id string, tok HSMToken, err error) bool {
	h.mu.Lock()
	conn := h.conns[id]
	if conn == nil || conn.state != StateConnected || conn.token != tok {
		h.mu.Unlock()
		return false
	}
	h.conns[id] = &keyStoreConn{state: StateFailed, errCode: connectionErrorCode(err), err: err}
	h.mu.Unlock()
	tok.Close()
	return true
}

// disconnect closes a store's connection, if any.
func (h *keyStoreConns) disconnect(id string) {
	h.mu.Lock()
	conn := h.conns[id]
	delete(h.conns, id)
	h.mu.Unlock()
	if conn != nil && conn.token != nil {
		conn.token.Close()
	}
}

// close closes every connection, for Service.Close.
func (h *keyStoreConns) close() {
	h.mu.Lock()
	conns := h.conns
	h.conns = make(map[string]*keyStoreConn)
	h.mu.Unlock()
	for _, conn := range conns {
		if conn.token != nil {
			conn.token.Close()
		}
	}
}

// CloseKeyStores closes the HSM connections of every custom key store, for shutdown; a store
// whose record asks for a connection connects again when next used.
func (s *Service) CloseKeyStores() { s.hsm.close() }
