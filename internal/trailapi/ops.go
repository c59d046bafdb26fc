package trailapi

import (
	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/trail"
)

// opFunc runs one operation of an authenticated call.
type opFunc func(h *Handler, c *call) (any, error)

// empty is the result of operations without output.
type empty struct{}

// operations maps X-Amz-Target operation names to their implementations. It is never
// modified.
var operations = map[string]opFunc{
	"CreateTrail":       (*Handler).createTrail,
	"GetTrail":          (*Handler).getTrail,
	"DescribeTrails":    (*Handler).describeTrails,
	"GetTrailStatus":    (*Handler).getTrailStatus,
	"StartLogging":      (*Handler).startLogging,
	"StopLogging":       (*Handler).stopLogging,
	"DeleteTrail":       (*Handler).deleteTrail,
	"PutEventSelectors": (*Handler).putEventSelectors,
	"GetEventSelectors": (*Handler).getEventSelectors,
	"ListPublicKeys":    (*Handler).listPublicKeys,
	"LookupEvents":      (*Handler).lookupEvents,
}

// trailResource is the ARN a call on the trail named by nameOrARN authorizes against (and
// records as its resource).
func (h *Handler) trailResource(c *call, nameOrARN string) string {
	arn := nameOrARN
	if _, _, _, ok := trail.ParseARN(nameOrARN); !ok {
		arn = trail.ARN(h.cfg.Trails.Region(), c.account(), nameOrARN)
	}
	c.event.Resources = []audit.Resource{{AccountID: c.account(), Type: "AWS::CloudTrail::Trail", ARN: arn}}
	return arn
}

type createTrailInput struct {
	Name                       string
	S3BucketName               string
	S3KeyPrefix                string
	SnsTopicName               string
	IncludeGlobalServiceEvents *bool
	IsMultiRegionTrail         bool
	EnableLogFileValidation    bool
	CloudWatchLogsLogGroupArn  string
	CloudWatchLogsRoleArn      string
	KmsKeyId                   string
	IsOrganizationTrail        bool
	TagsList                   []trail.Tag
}

func (h *Handler) createTrail(c *call) (any, error) {
	var in createTrailInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := h.authorize(c, h.trailResource(c, in.Name)); err != nil {
		return nil, err
	}
	unsupported := ""
	switch {
	case in.SnsTopicName != "":
		unsupported = "SnsTopicName"
	case in.CloudWatchLogsLogGroupArn != "" || in.CloudWatchLogsRoleArn != "":
		unsupported = "CloudWatch Logs delivery"
	case in.KmsKeyId != "":
		unsupported = "KmsKeyId"
	case in.IsOrganizationTrail:
		unsupported = "IsOrganizationTrail"
	}
	t, err := h.cfg.Trails.Create(c.ctx, c.account(), trail.CreateInput{Name: in.Name, S3BucketName: in.S3BucketName,
		S3KeyPrefix: in.S3KeyPrefix, IncludeGlobalServiceEvents: in.IncludeGlobalServiceEvents, IsMultiRegionTrail: in.IsMultiRegionTrail,
		EnableLogFileValidation: in.EnableLogFileValidation, Tags: in.TagsList, Unsupported: unsupported})
	if err != nil {
		return nil, err
	}
	out := createTrailOutput{Name: t.Name, S3BucketName: t.S3BucketName, S3KeyPrefix: t.S3KeyPrefix,
		IncludeGlobalServiceEvents: t.IncludeGlobalServiceEvents, IsMultiRegionTrail: t.IsMultiRegionTrail, TrailARN: t.ARN(),
		LogFileValidationEnabled: t.LogFileValidationEnabled}
	c.event.ResponseElements = map[string]any{"name": t.Name, "s3BucketName": t.S3BucketName, "s3KeyPrefix": t.S3KeyPrefix,
		"includeGlobalServiceEvents": t.IncludeGlobalServiceEvents, "isMultiRegionTrail": t.IsMultiRegionTrail, "trailARN": t.ARN(),
		"logFileValidationEnabled": t.LogFileValidationEnabled, "isOrganizationTrail": false}
	return out, nil
}

type createTrailOutput struct {
	Name                       string
	S3BucketName               string
	S3KeyPrefix                string `json:",omitempty"`
	IncludeGlobalServiceEvents bool
	IsMultiRegionTrail         bool
	TrailARN                   string
	LogFileValidationEnabled   bool
	IsOrganizationTrail        bool
}

// trailOutput is a trail as GetTrail and DescribeTrails show it.
type trailOutput struct {
	Name                       string
	S3BucketName               string
	S3KeyPrefix                string `json:",omitempty"`
	IncludeGlobalServiceEvents bool
	IsMultiRegionTrail         bool
	HomeRegion                 string
	TrailARN                   string
	LogFileValidationEnabled   bool
	HasCustomEventSelectors    bool
	HasInsightSelectors        bool
	IsOrganizationTrail        bool
}

func wireTrail(t trail.Trail) trailOutput {
	return trailOutput{Name: t.Name, S3BucketName: t.S3BucketName, S3KeyPrefix: t.S3KeyPrefix,
		IncludeGlobalServiceEvents: t.IncludeGlobalServiceEvents, IsMultiRegionTrail: t.IsMultiRegionTrail, HomeRegion: t.HomeRegion,
		TrailARN: t.ARN(), LogFileValidationEnabled: t.LogFileValidationEnabled, HasCustomEventSelectors: t.HasCustomEventSelectors}
}

type nameInput struct{ Name string }

// named decodes a {"Name": ...} request and authorizes it on the trail it names.
func (h *Handler) named(c *call) (string, error) {
	var in nameInput
	if err := c.decode(&in); err != nil {
		return "", err
	}
	return in.Name, h.authorize(c, h.trailResource(c, in.Name))
}

func (h *Handler) getTrail(c *call) (any, error) {
	c.event.ReadOnly = true
	name, err := h.named(c)
	if err != nil {
		return nil, err
	}
	t, err := h.cfg.Trails.Get(c.ctx, c.account(), name)
	if err != nil {
		return nil, err
	}
	return struct{ Trail trailOutput }{wireTrail(t)}, nil
}

func (h *Handler) describeTrails(c *call) (any, error) {
	c.event.ReadOnly = true
	var in struct {
		TrailNameList       []string `json:"trailNameList"`
		IncludeShadowTrails *bool    `json:"includeShadowTrails"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := h.authorize(c, "*"); err != nil {
		return nil, err
	}
	ts, err := h.cfg.Trails.Describe(c.ctx, c.account(), in.TrailNameList)
	if err != nil {
		return nil, err
	}
	out := struct {
		TrailList []trailOutput `json:"trailList"`
	}{TrailList: []trailOutput{}}
	for _, t := range ts {
		out.TrailList = append(out.TrailList, wireTrail(t))
	}
	return out, nil
}

type trailStatusOutput struct {
	IsLogging                      bool
	LatestDeliveryError            string `json:",omitempty"`
	LatestDeliveryTime             *epoch `json:",omitempty"`
	StartLoggingTime               *epoch `json:",omitempty"`
	StopLoggingTime                *epoch `json:",omitempty"`
	LatestDigestDeliveryTime       *epoch `json:",omitempty"`
	LatestDigestDeliveryError      string `json:",omitempty"`
	LatestDeliveryAttemptTime      string `json:",omitempty"`
	LatestDeliveryAttemptSucceeded string `json:",omitempty"`
	TimeLoggingStarted             string `json:",omitempty"`
	TimeLoggingStopped             string `json:",omitempty"`
}

func (h *Handler) getTrailStatus(c *call) (any, error) {
	c.event.ReadOnly = true
	name, err := h.named(c)
	if err != nil {
		return nil, err
	}
	t, err := h.cfg.Trails.Get(c.ctx, c.account(), name)
	if err != nil {
		return nil, err
	}
	st := t.Status
	out := trailStatusOutput{IsLogging: st.IsLogging, LatestDeliveryError: st.LatestDeliveryError,
		LatestDeliveryTime: ts(st.LatestDeliveryTime), StartLoggingTime: ts(st.StartLoggingTime), StopLoggingTime: ts(st.StopLoggingTime),
		LatestDigestDeliveryTime: ts(st.LatestDigestDeliveryTime), LatestDigestDeliveryError: st.LatestDigestDeliveryError,
		LatestDeliveryAttemptTime: textTime(st.LatestDeliveryAttemptTime), TimeLoggingStarted: textTime(st.StartLoggingTime),
		TimeLoggingStopped: textTime(st.StopLoggingTime)}
	if !st.LatestDeliveryAttemptTime.IsZero() {
		out.LatestDeliveryAttemptSucceeded = textTime(st.LatestDeliveryTime)
	}
	return out, nil
}

func (h *Handler) startLogging(c *call) (any, error) {
	name, err := h.named(c)
	if err != nil {
		return nil, err
	}
	return empty{}, h.cfg.Trails.StartLogging(c.ctx, c.account(), name)
}

func (h *Handler) stopLogging(c *call) (any, error) {
	name, err := h.named(c)
	if err != nil {
		return nil, err
	}
	return empty{}, h.cfg.Trails.StopLogging(c.ctx, c.account(), name)
}

func (h *Handler) deleteTrail(c *call) (any, error) {
	name, err := h.named(c)
	if err != nil {
		return nil, err
	}
	return empty{}, h.cfg.Trails.Delete(c.ctx, c.account(), name)
}

type selectorsInput struct {
	TrailName              string
	EventSelectors         *[]eventSelector
	AdvancedEventSelectors *[]trail.AdvancedEventSelector
}

// eventSelector is a basic event selector on the wire: IncludeManagementEvents defaults to
// true.
type eventSelector struct {
	ReadWriteType                 string               `json:",omitempty"`
	IncludeManagementEvents       *bool                `json:",omitempty"`
	DataResources                 []trail.DataResource `json:",omitempty"`
	ExcludeManagementEventSources []string             `json:",omitempty"`
}

type selectorsOutput struct {
	TrailARN               string
	EventSelectors         []eventSelector               `json:",omitempty"`
	AdvancedEventSelectors []trail.AdvancedEventSelector `json:",omitempty"`
}

func wireSelectors(t trail.Trail) selectorsOutput {
	out := selectorsOutput{TrailARN: t.ARN(), AdvancedEventSelectors: t.AdvancedEventSelectors}
	if len(t.AdvancedEventSelectors) > 0 {
		return out
	}
	sels := t.EventSelectors
	if !t.HasCustomEventSelectors {
		sels = []trail.EventSelector{{ReadWriteType: trail.ReadWrite, IncludeManagementEvents: true}}
	}
	for _, es := range sels {
		mgmt := es.IncludeManagementEvents
		dr := es.DataResources
		if dr == nil {
			dr = []trail.DataResource{}
		}
		out.EventSelectors = append(out.EventSelectors, eventSelector{ReadWriteType: es.ReadWriteType, IncludeManagementEvents: &mgmt,
			DataResources: dr, ExcludeManagementEventSources: es.ExcludeManagementEventSources})
	}
	return out
}

func (h *Handler) putEventSelectors(c *call) (any, error) {
	var in selectorsInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := h.authorize(c, h.trailResource(c, in.TrailName)); err != nil {
		return nil, err
	}
	var basic []trail.EventSelector
	if in.EventSelectors != nil {
		for _, es := range *in.EventSelectors {
			basic = append(basic, trail.EventSelector{ReadWriteType: es.ReadWriteType, IncludeManagementEvents: es.IncludeManagementEvents == nil || *es.IncludeManagementEvents,
				DataResources: es.DataResources, ExcludeManagementEventSources: es.ExcludeManagementEventSources})
		}
	}
	var advanced []trail.AdvancedEventSelector
	if in.AdvancedEventSelectors != nil {
		advanced = *in.AdvancedEventSelectors
	}
	t, err := h.cfg.Trails.PutEventSelectors(c.ctx, c.account(), in.TrailName, basic, advanced, in.EventSelectors != nil, in.AdvancedEventSelectors != nil)
	if err != nil {
		return nil, err
	}
	out := wireSelectors(t)
	c.event.ResponseElements = map[string]any{"trailARN": out.TrailARN}
	return out, nil
}

func (h *Handler) getEventSelectors(c *call) (any, error) {
	c.event.ReadOnly = true
	var in struct{ TrailName string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := h.authorize(c, h.trailResource(c, in.TrailName)); err != nil {
		return nil, err
	}
	t, err := h.cfg.Trails.Get(c.ctx, c.account(), in.TrailName)
	if err != nil {
		return nil, err
	}
	return wireSelectors(t), nil
}
