package kmsapi

import (
	"net/http"
	"time"

	"github.com/coffer/coffer/internal/kms"
)

func opEnableKeyRotation(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct {
		KeyId                string
		RotationPeriodInDays int
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return empty{}, h.svc.EnableKeyRotation(r.Context(), c, in.KeyId, in.RotationPeriodInDays)
}

func opDisableKeyRotation(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in keyIDIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return empty{}, h.svc.DisableKeyRotation(r.Context(), c, in.KeyId)
}

func opGetKeyRotationStatus(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in keyIDIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	st, err := h.svc.GetKeyRotationStatus(r.Context(), c, in.KeyId)
	if err != nil {
		return nil, err
	}
	return struct {
		KeyId                string
		KeyRotationEnabled   bool
		RotationPeriodInDays int    `json:",omitempty"`
		NextRotationDate     *epoch `json:",omitempty"`
	}{st.KeyId, st.KeyRotationEnabled, st.RotationPeriodInDays, ts(st.NextRotationDate)}, nil
}

func opRotateKeyOnDemand(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in keyIDIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	arn, err := h.svc.RotateKeyOnDemand(r.Context(), c, in.KeyId)
	if err != nil {
		return nil, err
	}
	return keyIDOut{arn}, nil
}

type rotationEntry struct {
	KeyId         string
	KeyMaterialId string
	RotationDate  *epoch
	RotationType  string
}

func opListKeyRotations(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct {
		KeyId string
		pageIn
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	list, next, err := h.svc.ListKeyRotations(r.Context(), c, in.KeyId, in.page())
	if err != nil {
		return nil, err
	}
	out := make([]rotationEntry, 0, len(list))
	for _, e := range list {
		out = append(out, rotationEntry{e.KeyId, e.KeyMaterialId, ts(e.RotationDate), e.RotationType})
	}
	return struct {
		Rotations []rotationEntry
		page
	}{out, pageOut(next)}, nil
}

func opCreateGrant(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in kms.CreateGrantInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	tok, id, err := h.svc.CreateGrant(r.Context(), c, in)
	if err != nil {
		return nil, err
	}
	return struct{ GrantToken, GrantId string }{tok, id}, nil
}

type grantEntry struct {
	KeyId             string
	GrantId           string
	Name              string `json:",omitempty"`
	CreationDate      *epoch
	GranteePrincipal  string
	RetiringPrincipal string `json:",omitempty"`
	IssuingAccount    string
	Operations        []string
	Constraints       *kms.GrantConstraints `json:",omitempty"`
}

func grantsOut(list []kms.GrantEntry, next string) any {
	out := make([]grantEntry, 0, len(list))
	for _, g := range list {
		out = append(out, grantEntry{g.KeyId, g.GrantId, g.Name, ts(g.CreationDate), g.GranteePrincipal,
			g.RetiringPrincipal, g.IssuingAccount, g.Operations, g.Constraints})
	}
	return struct {
		Grants []grantEntry
		page
	}{out, pageOut(next)}
}

func opListGrants(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct {
		KeyId, GrantId, GranteePrincipal string
		pageIn
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	list, next, err := h.svc.ListGrants(r.Context(), c, in.KeyId, in.GrantId, in.GranteePrincipal, in.page())
	if err != nil {
		return nil, err
	}
	return grantsOut(list, next), nil
}

func opListRetirableGrants(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct {
		RetiringPrincipal string
		pageIn
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	list, next, err := h.svc.ListRetirableGrants(r.Context(), c, in.RetiringPrincipal, in.page())
	if err != nil {
		return nil, err
	}
	return grantsOut(list, next), nil
}

func opRetireGrant(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct {
		GrantToken, KeyId, GrantId string
		DryRun                     bool
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return empty{}, h.svc.RetireGrant(r.Context(), c, in.GrantToken, in.KeyId, in.GrantId, in.DryRun)
}

func opRevokeGrant(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct {
		KeyId, GrantId string
		DryRun         bool
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return empty{}, h.svc.RevokeGrant(r.Context(), c, in.KeyId, in.GrantId, in.DryRun)
}

func opGetParametersForImport(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct{ KeyId, WrappingAlgorithm, WrappingKeySpec string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	out, err := h.svc.GetParametersForImport(r.Context(), c, in.KeyId, in.WrappingAlgorithm, in.WrappingKeySpec)
	if err != nil {
		return nil, err
	}
	return struct {
		KeyId             string
		ImportToken       []byte
		PublicKey         []byte
		ParametersValidTo *epoch
	}{out.KeyId, out.ImportToken, out.PublicKey, ts(out.ParametersValidTo)}, nil
}

func opImportKeyMaterial(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct {
		KeyId                string
		ImportToken          []byte
		EncryptedKeyMaterial []byte
		ValidTo              *epoch
		ExpirationModel      string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var validTo time.Time
	if in.ValidTo != nil {
		validTo = time.Time(*in.ValidTo)
	}
	arn, err := h.svc.ImportKeyMaterial(r.Context(), c, kms.ImportKeyMaterialInput{KeyId: in.KeyId, ImportToken: in.ImportToken,
		EncryptedKeyMaterial: in.EncryptedKeyMaterial, ValidTo: validTo, ExpirationModel: in.ExpirationModel})
	if err != nil {
		return nil, err
	}
	return keyIDOut{arn}, nil
}

func opDeleteImportedKeyMaterial(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in keyIDIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return empty{}, h.svc.DeleteImportedKeyMaterial(r.Context(), c, in.KeyId)
}
