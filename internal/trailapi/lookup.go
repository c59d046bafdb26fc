package trailapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/coffer/coffer/internal/audit"
)

// lookupWindow is how far back LookupEvents looks, as CloudTrail's event history.
const lookupWindow = 90 * 24 * time.Hour

const maxLookupResults = 50

type lookupAttribute struct {
	AttributeKey   string
	AttributeValue string
}

type lookupInput struct {
	LookupAttributes []lookupAttribute
	StartTime        *epoch
	EndTime          *epoch
	EventCategory    *string
	MaxResults       *int
	NextToken        *string
}

type lookupEvent struct {
	EventId         string
	EventName       string
	ReadOnly        string
	AccessKeyId     string `json:",omitempty"`
	EventTime       *epoch
	EventSource     string
	Username        string `json:",omitempty"`
	Resources       []lookupResource
	CloudTrailEvent string
}

type lookupResource struct {
	ResourceType string
	ResourceName string
}

// lookupToken is a NextToken: the page continues after offset events that follow the event
// anchor (the first event of the first page) in newest-first order, for the same parameters
// (params, a hash of them). Anchoring on an event keeps pages stable while new events arrive.
type lookupToken struct {
	Anchor string `json:"a"`
	Offset int    `json:"o"`
	Params string `json:"p"`
}

// filter builds the audit filter of a LookupEvents request of account.
func (in *lookupInput) filter(account string, now time.Time) (f audit.Filter, user string, err error) {
	f = audit.Filter{Account: account, ManagementOnly: true, From: timeOf(in.StartTime), To: timeOf(in.EndTime)}
	if f.From.IsZero() {
		f.From = now.Add(-lookupWindow)
	}
	if !f.To.IsZero() && f.From.After(f.To) {
		return f, "", errTimeRange
	}
	if len(in.LookupAttributes) > 1 {
		return f, "", &detail{errLookupAttributes, "You cannot specify more than one lookup attribute."}
	}
	for _, a := range in.LookupAttributes {
		if a.AttributeValue == "" {
			return f, "", &detail{errLookupAttributes, "AttributeValue must not be empty."}
		}
		v := a.AttributeValue
		switch a.AttributeKey {
		case "EventId":
			f.EventID = v
		case "EventName":
			f.EventName = v
		case "ReadOnly":
			if v != "true" && v != "false" {
				return f, "", &detail{errLookupAttributes, "ReadOnly must be true or false."}
			}
			b := v == "true"
			f.ReadOnly = &b
		case "Username":
			user = v // matched below as LookupEvents shows Username ("root" for the root user)
		case "ResourceType":
			f.ResourceType = v
		case "ResourceName":
			f.ResourceName = v
		case "EventSource":
			f.EventSource = v
		case "AccessKeyId":
			f.AccessKeyID = v
		default:
			return f, "", &detail{errLookupAttributes, "Invalid lookup attribute key: " + a.AttributeKey}
		}
	}
	return f, user, nil
}

// paramsHash ties a NextToken to the request it came from.
func (in *lookupInput) paramsHash() string {
	b, _ := json.Marshal([]any{in.LookupAttributes, timeOf(in.StartTime).Unix(), timeOf(in.EndTime).Unix(), in.EventCategory})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func (h *Handler) lookupEvents(c *call) (any, error) {
	c.event.ReadOnly = true
	var in lookupInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := h.authorize(c, "*"); err != nil {
		return nil, err
	}
	f, user, err := in.filter(c.account(), c.req.Time)
	if err != nil {
		return nil, err
	}
	limit := maxLookupResults
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxLookupResults {
			return nil, errMaxResults
		}
		limit = *in.MaxResults
	}
	var tok lookupToken
	if in.NextToken != nil {
		b, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		if err != nil || json.Unmarshal(b, &tok) != nil || tok.Params != in.paramsHash() || tok.Anchor == "" || tok.Offset < 0 {
			return nil, errNextToken
		}
	}
	out := struct {
		Events    []lookupEvent
		NextToken string `json:",omitempty"`
	}{Events: []lookupEvent{}}
	if in.EventCategory != nil {
		if *in.EventCategory != "insight" {
			return nil, errEventCategory
		}
		return out, nil // Coffer makes no Insights events
	}
	if h.cfg.Events == nil {
		return out, nil
	}
	// Events come newest first: a page skips those before the anchor (newer than the first
	// page) and the offset already returned after it.
	anchor, found, pos, more := tok.Anchor, tok.Anchor == "", 0, false
	err = h.cfg.Events.Events(c.ctx, f, func(e *audit.Event) bool {
		if user != "" && username(e.UserIdentity) != user {
			return true
		}
		if !found {
			if e.EventID != anchor {
				return true
			}
			found = true
		}
		if anchor == "" {
			anchor = e.EventID
		}
		if pos < tok.Offset {
			pos++
			return true
		}
		if len(out.Events) == limit {
			more = true
			return false
		}
		out.Events = append(out.Events, wireEvent(e))
		pos++
		return true
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errNextToken // the anchor is gone
	}
	if more {
		b, _ := json.Marshal(lookupToken{Anchor: anchor, Offset: tok.Offset + len(out.Events), Params: in.paramsHash()})
		out.NextToken = base64.RawURLEncoding.EncodeToString(b)
	}
	return out, nil
}

// wireEvent is a record as LookupEvents returns it, the record itself as CloudTrailEvent.
func wireEvent(e *audit.Event) lookupEvent {
	raw, _ := json.Marshal(e)
	out := lookupEvent{EventId: e.EventID, EventName: e.EventName, ReadOnly: "false", AccessKeyId: e.UserIdentity.AccessKeyID,
		EventSource: e.EventSource, Username: username(e.UserIdentity), Resources: []lookupResource{}, CloudTrailEvent: string(raw)}
	if e.ReadOnly {
		out.ReadOnly = "true"
	}
	if t, err := time.Parse(time.RFC3339, e.EventTime); err == nil {
		out.EventTime = ts(t)
	}
	for _, r := range e.Resources {
		out.Resources = append(out.Resources, lookupResource{ResourceType: r.Type, ResourceName: r.ARN})
	}
	return out
}

// username is the user name LookupEvents shows: the IAM user's, "root" for the account root,
// the role's for a role session.
func username(u audit.UserIdentity) string {
	switch {
	case u.UserName != "":
		return u.UserName
	case u.Type == "Root":
		return "root"
	case u.SessionContext != nil && u.SessionContext.SessionIssuer != nil:
		return u.SessionContext.SessionIssuer.UserName
	}
	return u.ARN[strings.LastIndexByte(u.ARN, '/')+1:]
}

type publicKeyOutput struct {
	Value             []byte // base64 on the wire: the PKCS#1 RSAPublicKey DER
	ValidityStartTime *epoch
	ValidityEndTime   *epoch `json:",omitempty"`
	Fingerprint       string
}

func (h *Handler) listPublicKeys(c *call) (any, error) {
	c.event.ReadOnly = true
	var in struct {
		StartTime *epoch
		EndTime   *epoch
		NextToken *string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := h.authorize(c, "*"); err != nil {
		return nil, err
	}
	if in.NextToken != nil {
		return nil, errInvalidToken // CloudTrail reserves NextToken; every key fits one page
	}
	start, end := timeOf(in.StartTime), timeOf(in.EndTime)
	if start.IsZero() {
		start = c.req.Time
	}
	if end.IsZero() {
		end = c.req.Time
	}
	if start.After(end) {
		return nil, errTimeRange
	}
	out := struct{ PublicKeyList []publicKeyOutput }{PublicKeyList: []publicKeyOutput{}}
	if h.cfg.PublicKeys == nil {
		return out, nil
	}
	keys, err := h.cfg.PublicKeys(c.ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		// A key signs from ValidFrom until a newer one replaces it (ValidTo, zero while it is
		// the current key): listed when that overlaps the range asked for.
		if k.ValidFrom.After(end) || !k.ValidTo.IsZero() && k.ValidTo.Before(start) {
			continue
		}
		out.PublicKeyList = append(out.PublicKeyList, publicKeyOutput{Value: k.DER, ValidityStartTime: ts(k.ValidFrom),
			ValidityEndTime: ts(k.ValidTo), Fingerprint: k.Fingerprint})
	}
	return out, nil
}
