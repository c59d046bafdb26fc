package integration

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestCloudTrailTrailLifecycle: a trail is created into a bucket whose policy lets CloudTrail
// write, described, started, stopped and deleted, with CloudTrail's errors for each bad call.
func TestCloudTrailTrailLifecycle(t *testing.T) {
	e := startServer(t)
	acct := e.account(t, rootCreds)
	ct := e.cloudtrailAs(rootCreds)
	e.trailBucket(t, rootCreds, "trail-logs", "audit", acct)
	must[*s3.CreateBucketOutput](t)(e.s3.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("no-policy")}))

	out := e.newTrail(t, rootCreds, "main", "trail-logs", "audit")
	arn := "arn:aws:cloudtrail:us-east-1:" + acct + ":trail/main"
	if aws.ToString(out.TrailARN) != arn || aws.ToString(out.S3KeyPrefix) != "audit" || !aws.ToBool(out.LogFileValidationEnabled) || !aws.ToBool(out.IncludeGlobalServiceEvents) {
		t.Fatalf("CreateTrail = %+v", out)
	}

	refused := []struct {
		name string
		in   cloudtrail.CreateTrailInput
		code string
	}{
		{"existing name", cloudtrail.CreateTrailInput{Name: aws.String("main"), S3BucketName: aws.String("trail-logs")}, "TrailAlreadyExistsException"},
		{"name too short", cloudtrail.CreateTrailInput{Name: aws.String("ab"), S3BucketName: aws.String("trail-logs")}, "InvalidTrailNameException"},
		{"adjacent punctuation", cloudtrail.CreateTrailInput{Name: aws.String("my-_trail"), S3BucketName: aws.String("trail-logs")}, "InvalidTrailNameException"},
		{"IP address name", cloudtrail.CreateTrailInput{Name: aws.String("192.168.5.4"), S3BucketName: aws.String("trail-logs")}, "InvalidTrailNameException"},
		{"missing bucket", cloudtrail.CreateTrailInput{Name: aws.String("other"), S3BucketName: aws.String("nowhere-bucket")}, "S3BucketDoesNotExistException"},
		{"bucket without policy", cloudtrail.CreateTrailInput{Name: aws.String("other"), S3BucketName: aws.String("no-policy")}, "InsufficientS3BucketPolicyException"},
		{"prefix outside the policy", cloudtrail.CreateTrailInput{Name: aws.String("other"), S3BucketName: aws.String("trail-logs"), S3KeyPrefix: aws.String("elsewhere")}, "InsufficientS3BucketPolicyException"},
		{"bad bucket name", cloudtrail.CreateTrailInput{Name: aws.String("other"), S3BucketName: aws.String("Bad_Bucket")}, "InvalidS3BucketNameException"},
		{"SNS topic", cloudtrail.CreateTrailInput{Name: aws.String("other"), S3BucketName: aws.String("trail-logs"), SnsTopicName: aws.String("t")}, "UnsupportedOperationException"},
	}
	for _, tc := range refused {
		t.Run("CreateTrail refused: "+tc.name, func(t *testing.T) {
			_, err := ct.CreateTrail(ctx(t), &tc.in)
			wantAPIError(t, err, tc.code, http.StatusBadRequest)
		})
	}

	t.Run("GetTrail by name and by ARN", func(t *testing.T) {
		for _, name := range []string{"main", arn} {
			got := must[*cloudtrail.GetTrailOutput](t)(ct.GetTrail(ctx(t), &cloudtrail.GetTrailInput{Name: aws.String(name)}))
			tr := got.Trail
			if aws.ToString(tr.Name) != "main" || aws.ToString(tr.TrailARN) != arn || aws.ToString(tr.HomeRegion) != "us-east-1" ||
				aws.ToString(tr.S3BucketName) != "trail-logs" || aws.ToBool(tr.HasCustomEventSelectors) || aws.ToBool(tr.IsMultiRegionTrail) {
				t.Fatalf("GetTrail(%s) = %+v", name, tr)
			}
		}
	})
	t.Run("DescribeTrails", func(t *testing.T) {
		for _, tc := range []struct {
			names []string
			want  int
		}{{nil, 1}, {[]string{"main"}, 1}, {[]string{arn}, 1}, {[]string{"absent"}, 0}} {
			got := must[*cloudtrail.DescribeTrailsOutput](t)(ct.DescribeTrails(ctx(t), &cloudtrail.DescribeTrailsInput{TrailNameList: tc.names}))
			if len(got.TrailList) != tc.want {
				t.Fatalf("DescribeTrails(%v) = %d trails, want %d", tc.names, len(got.TrailList), tc.want)
			}
		}
	})
	t.Run("status follows Start and StopLogging", func(t *testing.T) {
		st := must[*cloudtrail.GetTrailStatusOutput](t)(ct.GetTrailStatus(ctx(t), &cloudtrail.GetTrailStatusInput{Name: aws.String("main")}))
		if aws.ToBool(st.IsLogging) || st.StartLoggingTime != nil {
			t.Fatalf("a new trail's status = %+v, want not logging", st)
		}
		must[*cloudtrail.StartLoggingOutput](t)(ct.StartLogging(ctx(t), &cloudtrail.StartLoggingInput{Name: aws.String(arn)}))
		st = must[*cloudtrail.GetTrailStatusOutput](t)(ct.GetTrailStatus(ctx(t), &cloudtrail.GetTrailStatusInput{Name: aws.String("main")}))
		if !aws.ToBool(st.IsLogging) || st.StartLoggingTime == nil {
			t.Fatalf("after StartLogging: %+v", st)
		}
		must[*cloudtrail.StopLoggingOutput](t)(ct.StopLogging(ctx(t), &cloudtrail.StopLoggingInput{Name: aws.String("main")}))
		st = must[*cloudtrail.GetTrailStatusOutput](t)(ct.GetTrailStatus(ctx(t), &cloudtrail.GetTrailStatusInput{Name: aws.String("main")}))
		if aws.ToBool(st.IsLogging) || st.StopLoggingTime == nil || st.LatestDigestDeliveryTime == nil {
			t.Fatalf("after StopLogging: %+v, want stopped with its final digest delivered", st)
		}
	})
	t.Run("unknown trail and bad ARN", func(t *testing.T) {
		_, err := ct.GetTrail(ctx(t), &cloudtrail.GetTrailInput{Name: aws.String("absent")})
		wantAPIError(t, err, "TrailNotFoundException", http.StatusBadRequest)
		_, err = ct.StartLogging(ctx(t), &cloudtrail.StartLoggingInput{Name: aws.String("arn:aws:cloudtrail:us-east-1:" + acct + ":nottrail")})
		wantAPIError(t, err, "CloudTrailARNInvalidException", http.StatusBadRequest)
		_, err = ct.GetTrailStatus(ctx(t), &cloudtrail.GetTrailStatusInput{Name: aws.String("arn:aws:cloudtrail:us-east-1:999999999999:trail/main")})
		wantAPIError(t, err, "TrailNotFoundException", http.StatusBadRequest)
	})
	t.Run("at most five trails", func(t *testing.T) {
		for i := 2; i <= 5; i++ {
			e.newTrail(t, rootCreds, "trail"+string(rune('0'+i)), "trail-logs", "audit")
		}
		_, err := ct.CreateTrail(ctx(t), &cloudtrail.CreateTrailInput{Name: aws.String("trail6"), S3BucketName: aws.String("trail-logs"), S3KeyPrefix: aws.String("audit")})
		wantAPIError(t, err, "MaximumNumberOfTrailsExceededException", http.StatusBadRequest)
	})
	t.Run("DeleteTrail", func(t *testing.T) {
		must[*cloudtrail.DeleteTrailOutput](t)(ct.DeleteTrail(ctx(t), &cloudtrail.DeleteTrailInput{Name: aws.String("main")}))
		_, err := ct.GetTrail(ctx(t), &cloudtrail.GetTrailInput{Name: aws.String("main")})
		wantAPIError(t, err, "TrailNotFoundException", http.StatusBadRequest)
		_, err = ct.DeleteTrail(ctx(t), &cloudtrail.DeleteTrailInput{Name: aws.String("main")})
		wantAPIError(t, err, "TrailNotFoundException", http.StatusBadRequest)
	})
}

// TestCloudTrailAuthorization: an IAM user needs cloudtrail:<Operation> in its identity
// policies; another account's root sees none of the account's trails.
func TestCloudTrailAuthorization(t *testing.T) {
	e := startServer(t)
	acct := e.account(t, rootCreds)
	e.trailBucket(t, rootCreds, "trail-logs", "", acct)
	e.newTrail(t, rootCreds, "main", "trail-logs", "")
	reader, _ := e.newUser(t, rootCreds, "reader")
	e.putUserPolicy(t, rootCreds, "reader", "read", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudtrail:GetTrail","cloudtrail:Describe*"],"Resource":"*"}]}`)
	ct := e.cloudtrailAs(reader)

	must[*cloudtrail.GetTrailOutput](t)(ct.GetTrail(ctx(t), &cloudtrail.GetTrailInput{Name: aws.String("main")}))
	must[*cloudtrail.DescribeTrailsOutput](t)(ct.DescribeTrails(ctx(t), &cloudtrail.DescribeTrailsInput{}))
	_, err := ct.StopLogging(ctx(t), &cloudtrail.StopLoggingInput{Name: aws.String("main")})
	wantAPIError(t, err, "AccessDeniedException", http.StatusBadRequest)
	if !strings.Contains(err.Error(), "cloudtrail:StopLogging") {
		t.Fatalf("AccessDenied message %v does not name the action", err)
	}
	_, err = ct.LookupEvents(ctx(t), &cloudtrail.LookupEventsInput{})
	wantAPIError(t, err, "AccessDeniedException", http.StatusBadRequest)

	_, k2, err := e.srv.CreateAccount(ctx(t), "second")
	if err != nil {
		t.Fatal(err)
	}
	other := e.cloudtrailAs(creds{k2.ID, k2.Secret, ""})
	got := must[*cloudtrail.DescribeTrailsOutput](t)(other.DescribeTrails(ctx(t), &cloudtrail.DescribeTrailsInput{}))
	if len(got.TrailList) != 0 {
		t.Fatalf("another account describes %d trails, want none", len(got.TrailList))
	}
	_, err = other.GetTrail(ctx(t), &cloudtrail.GetTrailInput{Name: aws.String("arn:aws:cloudtrail:us-east-1:" + acct + ":trail/main")})
	wantAPIError(t, err, "TrailNotFoundException", http.StatusBadRequest)
}

// TestCloudTrailEventSelectors: PutEventSelectors and GetEventSelectors, basic and advanced,
// with CloudTrail's defaults and validation.
func TestCloudTrailEventSelectors(t *testing.T) {
	e := startServer(t)
	acct := e.account(t, rootCreds)
	ct := e.cloudtrailAs(rootCreds)
	e.trailBucket(t, rootCreds, "trail-logs", "", acct)
	e.newTrail(t, rootCreds, "main", "trail-logs", "")

	got := must[*cloudtrail.GetEventSelectorsOutput](t)(ct.GetEventSelectors(ctx(t), &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("main")}))
	if len(got.EventSelectors) != 1 || got.EventSelectors[0].ReadWriteType != cttypes.ReadWriteTypeAll || !aws.ToBool(got.EventSelectors[0].IncludeManagementEvents) || len(got.EventSelectors[0].DataResources) != 0 {
		t.Fatalf("default selectors = %+v, want all management events", got.EventSelectors)
	}

	basic := []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeWriteOnly, IncludeManagementEvents: aws.Bool(false),
		DataResources: []cttypes.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3:::data/in/"}}}}}
	put := must[*cloudtrail.PutEventSelectorsOutput](t)(ct.PutEventSelectors(ctx(t), &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("main"), EventSelectors: basic}))
	if aws.ToString(put.TrailARN) != "arn:aws:cloudtrail:us-east-1:"+acct+":trail/main" || len(put.EventSelectors) != 1 {
		t.Fatalf("PutEventSelectors = %+v", put)
	}
	got = must[*cloudtrail.GetEventSelectorsOutput](t)(ct.GetEventSelectors(ctx(t), &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("main")}))
	if es := got.EventSelectors; len(es) != 1 || es[0].ReadWriteType != cttypes.ReadWriteTypeWriteOnly || aws.ToBool(es[0].IncludeManagementEvents) ||
		len(es[0].DataResources) != 1 || es[0].DataResources[0].Values[0] != "arn:aws:s3:::data/in/" || len(got.AdvancedEventSelectors) != 0 {
		t.Fatalf("GetEventSelectors = %+v", got)
	}
	tr := must[*cloudtrail.GetTrailOutput](t)(ct.GetTrail(ctx(t), &cloudtrail.GetTrailInput{Name: aws.String("main")}))
	if !aws.ToBool(tr.Trail.HasCustomEventSelectors) {
		t.Fatal("HasCustomEventSelectors is false after PutEventSelectors")
	}

	advanced := []cttypes.AdvancedEventSelector{{Name: aws.String("s3 writes"), FieldSelectors: []cttypes.AdvancedFieldSelector{
		{Field: aws.String("eventCategory"), Equals: []string{"Data"}},
		{Field: aws.String("resources.type"), Equals: []string{"AWS::S3::Object"}},
		{Field: aws.String("resources.ARN"), StartsWith: []string{"arn:aws:s3:::data/"}},
		{Field: aws.String("readOnly"), Equals: []string{"false"}},
	}}}
	must[*cloudtrail.PutEventSelectorsOutput](t)(ct.PutEventSelectors(ctx(t), &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("main"), AdvancedEventSelectors: advanced}))
	got = must[*cloudtrail.GetEventSelectorsOutput](t)(ct.GetEventSelectors(ctx(t), &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("main")}))
	if len(got.EventSelectors) != 0 || len(got.AdvancedEventSelectors) != 1 || len(got.AdvancedEventSelectors[0].FieldSelectors) != 4 {
		t.Fatalf("after advanced selectors: %+v", got)
	}

	for _, tc := range []struct {
		name string
		in   cloudtrail.PutEventSelectorsInput
		code string
	}{
		{"both kinds", cloudtrail.PutEventSelectorsInput{EventSelectors: basic, AdvancedEventSelectors: advanced}, "InvalidParameterCombinationException"},
		{"bucket without a slash", cloudtrail.PutEventSelectorsInput{EventSelectors: []cttypes.EventSelector{{DataResources: []cttypes.DataResource{
			{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3:::data"}}}}}}, "InvalidEventSelectorsException"},
		{"unknown resource type", cloudtrail.PutEventSelectorsInput{EventSelectors: []cttypes.EventSelector{{DataResources: []cttypes.DataResource{
			{Type: aws.String("AWS::S3::Bucket"), Values: []string{"arn:aws:s3:::data/"}}}}}}, "InvalidEventSelectorsException"},
		{"six selectors", cloudtrail.PutEventSelectorsInput{EventSelectors: make([]cttypes.EventSelector, 6)}, "InvalidEventSelectorsException"},
		{"advanced without eventCategory", cloudtrail.PutEventSelectorsInput{AdvancedEventSelectors: []cttypes.AdvancedEventSelector{{FieldSelectors: []cttypes.AdvancedFieldSelector{
			{Field: aws.String("eventName"), Equals: []string{"PutObject"}}}}}}, "InvalidEventSelectorsException"},
		{"advanced unknown field", cloudtrail.PutEventSelectorsInput{AdvancedEventSelectors: []cttypes.AdvancedEventSelector{{FieldSelectors: []cttypes.AdvancedFieldSelector{
			{Field: aws.String("eventCategory"), Equals: []string{"Data"}}, {Field: aws.String("colour"), Equals: []string{"red"}}}}}}, "InvalidEventSelectorsException"},
		{"advanced value over 2048 characters", cloudtrail.PutEventSelectorsInput{AdvancedEventSelectors: []cttypes.AdvancedEventSelector{{FieldSelectors: []cttypes.AdvancedFieldSelector{
			{Field: aws.String("eventCategory"), Equals: []string{"Data"}}, {Field: aws.String("resources.ARN"), StartsWith: []string{"arn:aws:s3:::" + strings.Repeat("b", 2036)}}}}}}, "InvalidEventSelectorsException"},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			tc.in.TrailName = aws.String("main")
			_, err := ct.PutEventSelectors(ctx(t), &tc.in)
			wantAPIError(t, err, tc.code, http.StatusBadRequest)
		})
	}
	_, err := ct.GetEventSelectors(ctx(t), &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("absent")})
	wantAPIError(t, err, "TrailNotFoundException", http.StatusBadRequest)
}
