package integration

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

// TestCloudTrailLookupEvents: LookupEvents returns the caller's account's management events,
// newest first, filtered by one lookup attribute and a time range, in pages; another
// account's events never show.
func TestCloudTrailLookupEvents(t *testing.T) {
	e := startServer(t)
	acct := e.account(t, rootCreds)
	ct := e.cloudtrailAs(rootCreds)
	for range 5 {
		must[*cloudtrail.DescribeTrailsOutput](t)(ct.DescribeTrails(ctx(t), &cloudtrail.DescribeTrailsInput{}))
	}
	_, err := ct.GetTrail(ctx(t), &cloudtrail.GetTrailInput{Name: aws.String("absent")})
	wantAPIError(t, err, "TrailNotFoundException", http.StatusBadRequest)
	_, k2, err := e.srv.CreateAccount(ctx(t), "second")
	if err != nil {
		t.Fatal(err)
	}
	other := e.cloudtrailAs(creds{k2.ID, k2.Secret, ""})
	must[*cloudtrail.DescribeTrailsOutput](t)(other.DescribeTrails(ctx(t), &cloudtrail.DescribeTrailsInput{}))

	attr := func(k cttypes.LookupAttributeKey, v string) []cttypes.LookupAttribute {
		return []cttypes.LookupAttribute{{AttributeKey: k, AttributeValue: aws.String(v)}}
	}
	for _, tc := range []struct {
		name  string
		in    cloudtrail.LookupEventsInput
		names map[string]int
	}{
		{"by event name", cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyEventName, "DescribeTrails")}, map[string]int{"DescribeTrails": 5}},
		{"by event source", cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyEventSource, "cloudtrail.amazonaws.com")}, map[string]int{"DescribeTrails": 5, "GetTrail": 1}},
		{"read-only", cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyReadOnly, "true")}, map[string]int{"DescribeTrails": 5, "GetTrail": 1}},
		{"by user", cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyUsername, "root")}, nil},
		{"by access key", cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyAccessKeyId, testAccessKey)}, map[string]int{"DescribeTrails": 5, "GetTrail": 1}},
		{"a range in the future", cloudtrail.LookupEventsInput{StartTime: aws.Time(time.Now().Add(time.Hour)), EndTime: aws.Time(time.Now().Add(2 * time.Hour))}, map[string]int{}},
		{"insight events", cloudtrail.LookupEventsInput{EventCategory: cttypes.EventCategoryInsight}, map[string]int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := must[*cloudtrail.LookupEventsOutput](t)(ct.LookupEvents(ctx(t), &tc.in))
			got := map[string]int{}
			for _, ev := range out.Events {
				got[aws.ToString(ev.EventName)]++
				var rec struct {
					EventID            string `json:"eventID"`
					RecipientAccountID string `json:"recipientAccountId"`
					ErrorCode          string `json:"errorCode"`
				}
				if err := json.Unmarshal([]byte(aws.ToString(ev.CloudTrailEvent)), &rec); err != nil || rec.EventID != aws.ToString(ev.EventId) {
					t.Fatalf("CloudTrailEvent %q does not hold event %s: %v", aws.ToString(ev.CloudTrailEvent), aws.ToString(ev.EventId), err)
				}
				if rec.RecipientAccountID != acct {
					t.Fatalf("event of account %s in the lookup of %s", rec.RecipientAccountID, acct)
				}
				if aws.ToString(ev.EventName) == "GetTrail" && rec.ErrorCode != "TrailNotFoundException" {
					t.Fatalf("the failed GetTrail was recorded with error %q", rec.ErrorCode)
				}
			}
			if tc.names != nil {
				for name, n := range tc.names {
					if got[name] != n {
						t.Fatalf("got %v, want %v", got, tc.names)
					}
				}
				if len(tc.names) == 0 && len(out.Events) != 0 {
					t.Fatalf("got %v, want none", got)
				}
			} else if len(out.Events) == 0 {
				t.Fatal("no events")
			}
		})
	}

	t.Run("pages", func(t *testing.T) {
		in := &cloudtrail.LookupEventsInput{LookupAttributes: attr(cttypes.LookupAttributeKeyEventName, "DescribeTrails"), MaxResults: aws.Int32(2)}
		var ids []string
		var last time.Time
		p := cloudtrail.NewLookupEventsPaginator(ct, in)
		pages := 0
		for p.HasMorePages() {
			out := must[*cloudtrail.LookupEventsOutput](t)(p.NextPage(ctx(t)))
			pages++
			for _, ev := range out.Events {
				if !last.IsZero() && ev.EventTime.After(last) {
					t.Fatalf("events not newest first: %v after %v", ev.EventTime, last)
				}
				last = *ev.EventTime
				ids = append(ids, aws.ToString(ev.EventId))
			}
			// New events meanwhile do not shift the pages.
			must[*cloudtrail.DescribeTrailsOutput](t)(ct.DescribeTrails(ctx(t), &cloudtrail.DescribeTrailsInput{}))
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("event %s on two pages", id)
			}
			seen[id] = true
		}
		if len(ids) != 5 || pages != 3 {
			t.Fatalf("%d events in %d pages, want 5 in 3", len(ids), pages)
		}
	})

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			in   cloudtrail.LookupEventsInput
			code string
		}{
			{"two attributes", cloudtrail.LookupEventsInput{LookupAttributes: append(attr(cttypes.LookupAttributeKeyEventName, "A"), attr(cttypes.LookupAttributeKeyUsername, "b")...)}, "InvalidLookupAttributesException"},
			{"unknown attribute", cloudtrail.LookupEventsInput{LookupAttributes: attr("Colour", "red")}, "InvalidLookupAttributesException"},
			{"start after end", cloudtrail.LookupEventsInput{StartTime: aws.Time(time.Now()), EndTime: aws.Time(time.Now().Add(-time.Hour))}, "InvalidTimeRangeException"},
			{"too many results", cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)}, "InvalidMaxResultsException"},
			{"forged token", cloudtrail.LookupEventsInput{NextToken: aws.String("not-a-token")}, "InvalidNextTokenException"},
			{"unknown category", cloudtrail.LookupEventsInput{EventCategory: "management"}, "InvalidEventCategoryException"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := ct.LookupEvents(ctx(t), &tc.in)
				wantAPIError(t, err, tc.code, http.StatusBadRequest)
			})
		}
		out := must[*cloudtrail.LookupEventsOutput](t)(ct.LookupEvents(ctx(t), &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(1)}))
		_, err := ct.LookupEvents(ctx(t), &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(1), NextToken: out.NextToken,
			LookupAttributes: attr(cttypes.LookupAttributeKeyEventName, "GetTrail")})
		wantAPIError(t, err, "InvalidNextTokenException", http.StatusBadRequest)
	})

	t.Run("ListPublicKeys", func(t *testing.T) {
		out := must[*cloudtrail.ListPublicKeysOutput](t)(ct.ListPublicKeys(ctx(t), &cloudtrail.ListPublicKeysInput{}))
		if len(out.PublicKeyList) != 1 || len(out.PublicKeyList[0].Value) == 0 || aws.ToString(out.PublicKeyList[0].Fingerprint) == "" || out.PublicKeyList[0].ValidityStartTime == nil {
			t.Fatalf("ListPublicKeys = %+v, want the current signing key", out.PublicKeyList)
		}
		old := must[*cloudtrail.ListPublicKeysOutput](t)(ct.ListPublicKeys(ctx(t), &cloudtrail.ListPublicKeysInput{
			StartTime: aws.Time(time.Now().Add(-48 * time.Hour)), EndTime: aws.Time(time.Now().Add(-24 * time.Hour))}))
		if len(old.PublicKeyList) != 0 {
			t.Fatalf("keys for a range before the server existed: %+v", old.PublicKeyList)
		}
		_, err := ct.ListPublicKeys(ctx(t), &cloudtrail.ListPublicKeysInput{StartTime: aws.Time(time.Now()), EndTime: aws.Time(time.Now().Add(-time.Hour))})
		wantAPIError(t, err, "InvalidTimeRangeException", http.StatusBadRequest)
	})
}
