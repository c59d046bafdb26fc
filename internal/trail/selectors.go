package trail

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coffer/coffer/internal/audit"
)

// Limits of event selectors, as CloudTrail's.
const (
	maxEventSelectors = 5
	maxDataResources  = 250
	maxAdvancedValues = 500
	// maxAdvancedValueLen bounds each value of an advanced field selector, as CloudTrail's
	// model does (the selectors are matched against every data event).
	maxAdvancedValueLen = 2048
	maxAdvancedFilters  = 500
)

// dataResourceTypes are the resource types basic event selectors accept.
var dataResourceTypes = []string{S3ObjectType, "AWS::Lambda::Function", "AWS::DynamoDB::Table"}

// advancedFields are the fields advanced event selectors may test.
var advancedFields = []string{"eventCategory", "eventSource", "eventName", "eventType", "readOnly",
	"resources.type", "resources.ARN", "userIdentity.arn", "errorCode", "sessionCredentialFromConsole", "vpcEndpointId", "eventTypeName"}

// PutEventSelectors replaces the trail's event selectors: basic ones or advanced ones, not
// both; setting one kind clears the other.
func (s *Service) PutEventSelectors(ctx context.Context, account, nameOrARN string, basic []EventSelector, advanced []AdvancedEventSelector, hasBasic, hasAdvanced bool) (Trail, error) {
	if hasBasic == hasAdvanced {
		return Trail{}, errorf(ErrInvalidCombination, "You must specify either EventSelectors or AdvancedEventSelectors, but not both.")
	}
	if hasBasic {
		if err := checkBasic(basic); err != nil {
			return Trail{}, err
		}
	} else if err := checkAdvanced(advanced); err != nil {
		return Trail{}, err
	}
	t, err := s.update(ctx, account, nameOrARN, func(t *Trail) error {
		t.EventSelectors, t.AdvancedEventSelectors, t.HasCustomEventSelectors = basic, advanced, true
		return nil
	})
	s.trailsChanged(ctx)
	return t, err
}

func invalidSelectors(format string, args ...any) error {
	return errorf(ErrInvalidEventSelectors, fmt.Sprintf(format, args...))
}

// checkBasic validates basic event selectors and fills in CloudTrail's defaults.
func checkBasic(sels []EventSelector) error {
	if len(sels) == 0 || len(sels) > maxEventSelectors {
		return invalidSelectors("A trail can have between 1 and %d event selectors; %d were given.", maxEventSelectors, len(sels))
	}
	resources := 0
	for i := range sels {
		es := &sels[i]
		switch es.ReadWriteType {
		case "":
			es.ReadWriteType = ReadWrite
		case ReadOnly, WriteOnly, ReadWrite:
		default:
			return invalidSelectors("Value %s for ReadWriteType is invalid.", es.ReadWriteType)
		}
		for _, src := range es.ExcludeManagementEventSources {
			if src != audit.SourceKMS && src != "rdsdata.amazonaws.com" {
				return invalidSelectors("Value %s for ExcludeManagementEventSources is invalid.", src)
			}
		}
		for _, dr := range es.DataResources {
			if !slices.Contains(dataResourceTypes, dr.Type) {
				return invalidSelectors("Value %s for DataResources.Type is invalid.", dr.Type)
			}
			resources += len(dr.Values)
			for _, v := range dr.Values {
				if dr.Type == S3ObjectType && !validS3Value(v) {
					return invalidSelectors("Value %s for DataResources.Values is invalid.", v)
				}
			}
		}
	}
	if resources > maxDataResources {
		return invalidSelectors("A trail can have at most %d data resources; %d were given.", maxDataResources, resources)
	}
	return nil
}

// validS3Value reports whether v selects S3 objects: every object ("arn:aws:s3", or
// "arn:aws:s3:::"), or those of one bucket under a key prefix ("arn:aws:s3:::bucket/prefix").
func validS3Value(v string) bool {
	if v == "arn:aws:s3" || v == "arn:aws:s3:::" {
		return true
	}
	rest, ok := strings.CutPrefix(v, "arn:aws:s3:::")
	bucket, _, slash := strings.Cut(rest, "/")
	return ok && slash && bucket != ""
}

// checkAdvanced validates advanced event selectors.
func checkAdvanced(sels []AdvancedEventSelector) error {
	values := 0
	for _, a := range sels {
		if len(a.FieldSelectors) == 0 {
			return invalidSelectors("An advanced event selector needs at least one field selector.")
		}
		category := false
		for _, f := range a.FieldSelectors {
			if !slices.Contains(advancedFields, f.Field) {
				return invalidSelectors("Field %s is not valid.", f.Field)
			}
			n := 0
			for _, vs := range [][]string{f.Equals, f.StartsWith, f.EndsWith, f.NotEquals, f.NotStartsWith, f.NotEndsWith} {
				for _, v := range vs {
					if v == "" || len(v) > maxAdvancedValueLen {
						return invalidSelectors("A value of field %s must be between 1 and %d characters long.", f.Field, maxAdvancedValueLen)
					}
				}
				n += len(vs)
			}
			if n == 0 {
				return invalidSelectors("Field %s has no condition.", f.Field)
			}
			values += n
			if f.Field == "eventCategory" {
				category = true
				if len(f.Equals) == 0 || n != len(f.Equals) {
					return invalidSelectors("eventCategory supports only the Equals operator.")
				}
			}
		}
		if !category {
			return invalidSelectors("Each advanced event selector must have an eventCategory field selector.")
		}
	}
	if values > maxAdvancedValues {
		return invalidSelectors("A trail can have at most %d values for all conditions and selectors.", maxAdvancedValues)
	}
	return nil
}

// record is what selection reads of an audit record.
type record struct {
	EventTime          string           `json:"eventTime"`
	EventSource        string           `json:"eventSource"`
	EventName          string           `json:"eventName"`
	EventType          string           `json:"eventType"`
	EventCategory      string           `json:"eventCategory"`
	ManagementEvent    bool             `json:"managementEvent"`
	ReadOnly           bool             `json:"readOnly"`
	ErrorCode          string           `json:"errorCode"`
	RecipientAccountID string           `json:"recipientAccountId"`
	Resources          []audit.Resource `json:"resources"`
	UserIdentity       struct {
		ARN string `json:"arn"`
	} `json:"userIdentity"`
}

func (r *record) data() bool { return r.EventCategory == audit.CategoryData }

// selects reports whether the trail's selectors select r (r is of the trail's account).
// partial is set when r is only what WantsData knows before the request runs (no event name,
// no error): conditions on fields it lacks then count as met.
func (t *Trail) selects(r *record, partial bool) bool {
	if !r.data() && !t.IncludeGlobalServiceEvents && (r.EventSource == audit.SourceIAM || r.EventSource == audit.SourceSTS) {
		return false
	}
	switch {
	case len(t.AdvancedEventSelectors) > 0:
		for _, a := range t.AdvancedEventSelectors {
			if a.selects(r, partial) {
				return true
			}
		}
		return false
	case !t.HasCustomEventSelectors:
		return !r.data() // by default every management event, no data event
	}
	for _, es := range t.EventSelectors {
		if es.selects(r) {
			return true
		}
	}
	return false
}

func (es *EventSelector) selects(r *record) bool {
	switch {
	case es.ReadWriteType == ReadOnly && !r.ReadOnly, es.ReadWriteType == WriteOnly && r.ReadOnly:
		return false
	case !r.data():
		return es.IncludeManagementEvents && !slices.Contains(es.ExcludeManagementEventSources, r.EventSource)
	}
	for _, dr := range es.DataResources {
		for _, res := range r.Resources {
			if res.Type != dr.Type {
				continue
			}
			for _, v := range dr.Values {
				if v == "arn:aws:s3" || strings.HasPrefix(res.ARN, v) {
					return true
				}
			}
		}
	}
	return false
}

func (a *AdvancedEventSelector) selects(r *record, partial bool) bool {
	var types []string // the resource types the selector names: resources.ARN tests their ARNs
	for _, f := range a.FieldSelectors {
		if f.Field == "resources.type" {
			types = f.Equals
		}
	}
	for _, f := range a.FieldSelectors {
		var values []string
		switch f.Field {
		case "eventCategory":
			values = []string{r.EventCategory}
		case "eventSource":
			values = []string{r.EventSource}
		case "eventType":
			values = []string{r.EventType}
		case "readOnly":
			values = []string{fmt.Sprint(r.ReadOnly)}
		case "resources.type":
			for _, res := range r.Resources {
				values = append(values, res.Type)
			}
		case "resources.ARN":
			for _, res := range r.Resources {
				if len(types) == 0 || slices.Contains(types, res.Type) {
					values = append(values, res.ARN)
				}
			}
		case "eventName", "errorCode", "userIdentity.arn":
			if partial {
				continue
			}
			values = []string{map[string]string{"eventName": r.EventName, "errorCode": r.ErrorCode, "userIdentity.arn": r.UserIdentity.ARN}[f.Field]}
		default:
			continue // fields no Coffer record carries: not a condition Coffer can test
		}
		if !f.matches(values) {
			return false
		}
	}
	return true
}

// matches reports whether a field with values meets f: one of the values meets the positive
// operators (Equals, StartsWith, EndsWith: one of the listed strings each), and none of them
// meets a negative one (NotEquals, NotStartsWith, NotEndsWith).
func (f *FieldSelector) matches(values []string) bool {
	anyOf := func(v string, vals []string, fn func(string, string) bool) bool {
		return slices.ContainsFunc(vals, func(x string) bool { return fn(v, x) })
	}
	eq := func(a, b string) bool { return a == b }
	positive := func(v string) bool {
		return (len(f.Equals) == 0 || anyOf(v, f.Equals, eq)) &&
			(len(f.StartsWith) == 0 || anyOf(v, f.StartsWith, strings.HasPrefix)) &&
			(len(f.EndsWith) == 0 || anyOf(v, f.EndsWith, strings.HasSuffix))
	}
	negative := func(v string) bool {
		return anyOf(v, f.NotEquals, eq) || anyOf(v, f.NotStartsWith, strings.HasPrefix) || anyOf(v, f.NotEndsWith, strings.HasSuffix)
	}
	return slices.ContainsFunc(values, positive) && !slices.ContainsFunc(values, negative)
}

// WantsData implements audit.DataSelector: whether a logging trail of account selects the
// data event of a read (readOnly) or write of the S3 object objectARN. It answers from a
// snapshot of the logging trails, reloaded when this Service changes a trail and otherwise at
// most SelectorTTL old, so a change made through another node sharing the store applies
// within SelectorTTL.
func (s *Service) WantsData(account, objectARN string, readOnly bool) bool {
	trails := s.sel.get(s)
	r := record{EventCategory: audit.CategoryData, EventSource: audit.SourceS3, EventType: audit.TypeAPICall, ReadOnly: readOnly,
		RecipientAccountID: account, Resources: []audit.Resource{{Type: S3ObjectType, ARN: objectARN}}}
	for i := range trails[account] {
		if trails[account][i].selects(&r, true) {
			return true
		}
	}
	return false
}

// Invalidate makes the next WantsData read the trails again: another node sharing the store
// changed them (TopicTrails).
func (s *Service) Invalidate() { s.sel.invalidate() }

// trailsChanged reloads this node's view of the trails and tells the other nodes.
func (s *Service) trailsChanged(ctx context.Context) {
	s.sel.invalidate()
	if s.cfg.Changed != nil {
		s.cfg.Changed(ctx, TopicTrails, "")
	}
}

// selectorCache is WantsData's snapshot of the logging trails that select data events, by
// account. Reads are lock-free; one caller at a time reloads a stale snapshot while the others
// keep answering from it.
type selectorCache struct {
	ttl    time.Duration
	snap   atomic.Pointer[selectorSnapshot]
	reload sync.Mutex
}

type selectorSnapshot struct {
	loaded time.Time
	trails map[string][]Trail
}

// invalidate makes the next get reload.
func (c *selectorCache) invalidate() { c.snap.Store(nil) }

// get returns the snapshot, reloading it from the store when it is stale (or gone). A failed
// reload keeps the old snapshot (logged) and is retried on the next call.
func (c *selectorCache) get(s *Service) map[string][]Trail {
	cur := c.snap.Load()
	if cur != nil && time.Since(cur.loaded) < c.ttl {
		return cur.trails
	}
	if cur != nil {
		if !c.reload.TryLock() {
			return cur.trails // another caller is reloading it
		}
	} else {
		c.reload.Lock()
	}
	defer c.reload.Unlock()
	if now := c.snap.Load(); now != nil && now != cur {
		return now.trails
	}
	all, err := s.cfg.Store.List(context.Background(), "")
	if err != nil {
		s.log.Error("trail: reading the trails for data event selection failed", "err", err)
		if cur == nil {
			return nil
		}
		return cur.trails
	}
	m := map[string][]Trail{}
	for _, t := range all {
		if t.Status.IsLogging && (len(t.AdvancedEventSelectors) > 0 || slices.ContainsFunc(t.EventSelectors, func(es EventSelector) bool { return len(es.DataResources) > 0 })) {
			m[t.Account] = append(m[t.Account], t)
		}
	}
	c.snap.Store(&selectorSnapshot{loaded: time.Now(), trails: m})
	return m
}
