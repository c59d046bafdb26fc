package kmsapi

import (
	"net/http"

	"github.com/coffer/coffer/internal/kms"
)

type customKeyStoreIDIn struct{ CustomKeyStoreId string }

func opCreateCustomKeyStore(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in kms.CreateCustomKeyStoreInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	id, err := h.svc.CreateCustomKeyStore(r.Context(), c, in)
	if err != nil {
		return nil, err
	}
	return customKeyStoreIDIn{CustomKeyStoreId: id}, nil
}

// customKeyStore is one entry of DescribeCustomKeyStores.
type customKeyStore struct {
	CustomKeyStoreId       string
	CustomKeyStoreName     string
	CustomKeyStoreType     string
	CloudHsmClusterId      string `json:",omitempty"`
	TrustAnchorCertificate string `json:",omitempty"`
	ConnectionState        string
	ConnectionErrorCode    string `json:",omitempty"`
	CreationDate           *epoch
}

func opDescribeCustomKeyStores(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct {
		CustomKeyStoreId   string
		CustomKeyStoreName string
		Limit              int
		Marker             string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	stores, next, err := h.svc.DescribeCustomKeyStores(r.Context(), c, in.CustomKeyStoreId, in.CustomKeyStoreName, in.Marker, in.Limit)
	if err != nil {
		return nil, err
	}
	out := struct {
		CustomKeyStores []customKeyStore
		page
	}{CustomKeyStores: []customKeyStore{}, page: pageOut(next)}
	for _, ks := range stores {
		out.CustomKeyStores = append(out.CustomKeyStores, customKeyStore{
			CustomKeyStoreId: ks.CustomKeyStoreId, CustomKeyStoreName: ks.CustomKeyStoreName,
			CustomKeyStoreType: ks.CustomKeyStoreType, CloudHsmClusterId: ks.CloudHsmClusterId,
			TrustAnchorCertificate: ks.TrustAnchorCertificate, ConnectionState: ks.ConnectionState,
			ConnectionErrorCode: ks.ConnectionErrorCode, CreationDate: ts(ks.CreationDate),
		})
	}
	return out, nil
}

func opUpdateCustomKeyStore(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in kms.UpdateCustomKeyStoreInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return empty{}, h.svc.UpdateCustomKeyStore(r.Context(), c, in)
}

func opDeleteCustomKeyStore(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in customKeyStoreIDIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return empty{}, h.svc.DeleteCustomKeyStore(r.Context(), c, in.CustomKeyStoreId)
}

func opConnectCustomKeyStore(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in customKeyStoreIDIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return empty{}, h.svc.ConnectCustomKeyStore(r.Context(), c, in.CustomKeyStoreId)
}

func opDisconnectCustomKeyStore(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in customKeyStoreIDIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return empty{}, h.svc.DisconnectCustomKeyStore(r.Context(), c, in.CustomKeyStoreId)
}
