package trail

import (
	"errors"
	"testing"

	"github.com/coffer/coffer/internal/audit"
)

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"main", true}, {"a.b_c-d", true}, {"ab", false}, {"-main", false}, {"main-", false},
		{"my--trail", false}, {"my-_trail", false}, {"my trail", false}, {"192.168.5.4", false},
		{"1.2.3", true}, {string(make([]byte, 129)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ValidName(tc.name); got != tc.ok {
				t.Fatalf("ValidName(%q) = %v, want %v", tc.name, got, tc.ok)
			}
		})
	}
}

func TestParseARN(t *testing.T) {
	for _, tc := range []struct {
		arn                   string
		region, account, name string
		ok                    bool
	}{
		{"arn:aws:cloudtrail:us-east-1:111122223333:trail/main", "us-east-1", "111122223333", "main", true},
		{"arn:aws:cloudtrail:us-east-1:111122223333:trail/", "", "", "", false},
		{"arn:aws:cloudtrail:us-east-1:11112222333:trail/main", "", "", "", false},
		{"arn:aws:cloudtrail:us-east-1:111122223333:eventdatastore/x", "", "", "", false},
		{"arn:aws:s3:::bucket", "", "", "", false},
	} {
		t.Run(tc.arn, func(t *testing.T) {
			r, a, n, ok := ParseARN(tc.arn)
			if ok != tc.ok || r != tc.region || a != tc.account || n != tc.name {
				t.Fatalf("ParseARN = %q %q %q %v", r, a, n, ok)
			}
		})
	}
}

// TestSelects: which records a trail's selectors select, as CloudTrail decides it.
func TestSelects(t *testing.T) {
	kms := record{EventSource: audit.SourceKMS, EventName: "Decrypt", ManagementEvent: true, EventCategory: audit.CategoryManagement, ReadOnly: true}
	iamWrite := record{EventSource: audit.SourceIAM, EventName: "CreateUser", ManagementEvent: true, EventCategory: audit.CategoryManagement}
	put := record{EventSource: audit.SourceS3, EventName: "PutObject", EventCategory: audit.CategoryData,
		Resources: []audit.Resource{{Type: "AWS::S3::Bucket", ARN: "arn:aws:s3:::data"}, {Type: S3ObjectType, ARN: "arn:aws:s3:::data/in/a"}}}
	get := put
	get.EventName, get.ReadOnly = "GetObject", true
	dataSel := func(rw string, mgmt bool, values ...string) []EventSelector {
		return []EventSelector{{ReadWriteType: rw, IncludeManagementEvents: mgmt, DataResources: []DataResource{{Type: S3ObjectType, Values: values}}}}
	}
	field := func(f string, eq ...string) FieldSelector { return FieldSelector{Field: f, Equals: eq} }
	for _, tc := range []struct {
		name  string
		trail Trail
		rec   record
		want  bool
	}{
		{"default: management events", Trail{IncludeGlobalServiceEvents: true}, kms, true},
		{"default: no data events", Trail{IncludeGlobalServiceEvents: true}, put, false},
		{"global service events left out", Trail{}, iamWrite, false},
		{"read-only selector drops writes", Trail{HasCustomEventSelectors: true, IncludeGlobalServiceEvents: true, EventSelectors: []EventSelector{{ReadWriteType: ReadOnly, IncludeManagementEvents: true}}}, iamWrite, false},
		{"KMS events excluded", Trail{HasCustomEventSelectors: true, EventSelectors: []EventSelector{{ReadWriteType: ReadWrite, IncludeManagementEvents: true, ExcludeManagementEventSources: []string{audit.SourceKMS}}}}, kms, false},
		{"data: write under the prefix", Trail{HasCustomEventSelectors: true, EventSelectors: dataSel(WriteOnly, false, "arn:aws:s3:::data/in/")}, put, true},
		{"data: read is not a write", Trail{HasCustomEventSelectors: true, EventSelectors: dataSel(WriteOnly, false, "arn:aws:s3:::data/in/")}, get, false},
		{"data: other prefix", Trail{HasCustomEventSelectors: true, EventSelectors: dataSel(ReadWrite, false, "arn:aws:s3:::data/out/")}, put, false},
		{"data: every bucket", Trail{HasCustomEventSelectors: true, EventSelectors: dataSel(ReadWrite, false, "arn:aws:s3")}, get, true},
		{"data selector without management events", Trail{HasCustomEventSelectors: true, EventSelectors: dataSel(ReadWrite, false, "arn:aws:s3")}, kms, false},
		{"advanced: S3 writes", Trail{AdvancedEventSelectors: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{
			field("eventCategory", "Data"), field("resources.type", S3ObjectType), field("readOnly", "false")}}}}, put, true},
		{"advanced: S3 writes, not reads", Trail{AdvancedEventSelectors: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{
			field("eventCategory", "Data"), field("resources.type", S3ObjectType), field("readOnly", "false")}}}}, get, false},
		{"advanced: NotStartsWith", Trail{AdvancedEventSelectors: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{
			field("eventCategory", "Data"), {Field: "resources.ARN", NotStartsWith: []string{"arn:aws:s3:::data/"}}}}}}, put, false},
		{"advanced: management only", Trail{IncludeGlobalServiceEvents: true, AdvancedEventSelectors: []AdvancedEventSelector{{FieldSelectors: []FieldSelector{
			field("eventCategory", "Management")}}}}, kms, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.trail.selects(&tc.rec, false); got != tc.want {
				t.Fatalf("selects = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCheckSelectors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		basic    []EventSelector
		advanced []AdvancedEventSelector
		isBasic  bool
		ok       bool
	}{
		{"one basic selector", []EventSelector{{}}, nil, true, true},
		{"none", nil, nil, true, false},
		{"bad read/write type", []EventSelector{{ReadWriteType: "Sometimes"}}, nil, true, false},
		{"bucket without a slash", []EventSelector{{DataResources: []DataResource{{Type: S3ObjectType, Values: []string{"arn:aws:s3:::b"}}}}}, nil, true, false},
		{"251 data resources", []EventSelector{{DataResources: []DataResource{{Type: S3ObjectType, Values: make251()}}}}, nil, true, false},
		{"advanced", nil, []AdvancedEventSelector{{FieldSelectors: []FieldSelector{{Field: "eventCategory", Equals: []string{"Data"}}}}}, false, true},
		{"advanced eventCategory StartsWith", nil, []AdvancedEventSelector{{FieldSelectors: []FieldSelector{{Field: "eventCategory", StartsWith: []string{"D"}}}}}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.isBasic {
				err = checkBasic(tc.basic)
			} else {
				err = checkAdvanced(tc.advanced)
			}
			if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrInvalidEventSelectors) {
				t.Fatalf("check = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func make251() []string {
	out := make([]string, 251)
	for i := range out {
		out[i] = "arn:aws:s3:::b/"
	}
	return out
}
