package kmsapi

import (
	"net/http"

	"github.com/coffer/coffer/internal/kms"
)

type metadataOut struct{ KeyMetadata keyMetadata }

func opCreateKey(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in kms.CreateKeyInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	m, err := h.svc.CreateKey(r.Context(), c, in)
	if err != nil {
		return nil, err
	}
	return metadataOut{wireMetadata(m)}, nil
}

func opDescribeKey(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in keyIDIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	m, err := h.svc.DescribeKey(r.Context(), c, in.KeyId)
	if err != nil {
		return nil, err
	}
	return metadataOut{wireMetadata(m)}, nil
}

type pageIn struct {
	Limit  int
	Marker string
}

func (p pageIn) page() kms.Page { return kms.Page{Limit: p.Limit, Marker: p.Marker} }

func opListKeys(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in pageIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	keys, next, err := h.svc.ListKeys(r.Context(), c, in.page())
	if err != nil {
		return nil, err
	}
	if keys == nil {
		keys = []kms.KeyListEntry{}
	}
	return struct {
		Keys []kms.KeyListEntry
		page
	}{keys, pageOut(next)}, nil
}

func opUpdateKeyDescription(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct{ KeyId, Description string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return empty{}, h.svc.UpdateKeyDescription(r.Context(), c, in.KeyId, in.Description)
}

func opEnableKey(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in keyIDIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return empty{}, h.svc.EnableKey(r.Context(), c, in.KeyId)
}

func opDisableKey(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in keyIDIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return empty{}, h.svc.DisableKey(r.Context(), c, in.KeyId)
}

func opScheduleKeyDeletion(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct {
		KeyId               string
		PendingWindowInDays int
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	out, err := h.svc.ScheduleKeyDeletion(r.Context(), c, in.KeyId, in.PendingWindowInDays)
	if err != nil {
		return nil, err
	}
	return struct {
		KeyId               string
		DeletionDate        *epoch
		KeyState            string
		PendingWindowInDays int
	}{out.KeyId, ts(out.DeletionDate), string(out.KeyState), out.PendingWindowInDays}, nil
}

func opCancelKeyDeletion(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in keyIDIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	arn, err := h.svc.CancelKeyDeletion(r.Context(), c, in.KeyId)
	if err != nil {
		return nil, err
	}
	return keyIDOut{arn}, nil
}

type aliasIn struct{ AliasName, TargetKeyId string }

func opCreateAlias(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in aliasIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return empty{}, h.svc.CreateAlias(r.Context(), c, in.AliasName, in.TargetKeyId)
}

func opUpdateAlias(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in aliasIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return empty{}, h.svc.UpdateAlias(r.Context(), c, in.AliasName, in.TargetKeyId)
}

func opDeleteAlias(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in aliasIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return empty{}, h.svc.DeleteAlias(r.Context(), c, in.AliasName)
}

type aliasEntry struct {
	AliasName       string
	AliasArn        string
	TargetKeyId     string `json:",omitempty"`
	CreationDate    *epoch `json:",omitempty"`
	LastUpdatedDate *epoch `json:",omitempty"`
}

func opListAliases(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct {
		KeyId string
		pageIn
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	list, next, err := h.svc.ListAliases(r.Context(), c, in.KeyId, in.page())
	if err != nil {
		return nil, err
	}
	out := make([]aliasEntry, 0, len(list))
	for _, a := range list {
		out = append(out, aliasEntry{a.AliasName, a.AliasArn, a.TargetKeyId, ts(a.CreationDate), ts(a.LastUpdatedDate)})
	}
	return struct {
		Aliases []aliasEntry
		page
	}{out, pageOut(next)}, nil
}

func opGetKeyPolicy(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct{ KeyId, PolicyName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	p, err := h.svc.GetKeyPolicy(r.Context(), c, in.KeyId, in.PolicyName)
	if err != nil {
		return nil, err
	}
	return struct{ Policy, PolicyName string }{p, "default"}, nil
}

func opPutKeyPolicy(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct {
		KeyId, PolicyName, Policy      string
		BypassPolicyLockoutSafetyCheck bool
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return empty{}, h.svc.PutKeyPolicy(r.Context(), c, in.KeyId, in.PolicyName, in.Policy, in.BypassPolicyLockoutSafetyCheck)
}

func opListKeyPolicies(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in keyIDIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	names, err := h.svc.ListKeyPolicies(r.Context(), c, in.KeyId)
	if err != nil {
		return nil, err
	}
	return struct {
		PolicyNames []string
		page
	}{names, page{}}, nil
}

func opTagResource(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct {
		KeyId string
		Tags  []kms.Tag
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return empty{}, h.svc.TagResource(r.Context(), c, in.KeyId, in.Tags)
}

func opUntagResource(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct {
		KeyId   string
		TagKeys []string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return empty{}, h.svc.UntagResource(r.Context(), c, in.KeyId, in.TagKeys)
}

func opListResourceTags(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in struct {
		KeyId string
		pageIn
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	tags, next, err := h.svc.ListResourceTags(r.Context(), c, in.KeyId, in.page())
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = []kms.Tag{}
	}
	return struct {
		Tags []kms.Tag
		page
	}{tags, pageOut(next)}, nil
}

// keyLastUsage is KeyLastUsageData: an empty object when the key has not been used.
type keyLastUsage struct {
	Operation         string `json:",omitempty"`
	Timestamp         *epoch `json:",omitempty"`
	CloudTrailEventId string `json:",omitempty"`
	KmsRequestId      string `json:",omitempty"`
}

func opGetKeyLastUsage(h *Handler, r *http.Request, c kms.Caller, body []byte) (any, error) {
	var in keyIDIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	out, err := h.svc.GetKeyLastUsage(r.Context(), c, in.KeyId)
	if err != nil {
		return nil, err
	}
	var last keyLastUsage
	if u := out.Usage; u != nil {
		last = keyLastUsage{Operation: u.Operation, Timestamp: ts(u.Time), CloudTrailEventId: u.EventID, KmsRequestId: u.RequestID}
	}
	return struct {
		KeyId             string
		KeyCreationDate   *epoch
		TrackingStartDate *epoch
		KeyLastUsage      keyLastUsage
	}{out.KeyId, ts(out.KeyCreationDate), ts(out.TrackingStartDate), last}, nil
}
