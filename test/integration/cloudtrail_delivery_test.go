package integration

import (
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/audit"
)

// getGunzipped reads an object and decompresses it, returning its metadata too.
func (e *env) getGunzipped(t *testing.T, c *s3.Client, bucket, key string) ([]byte, map[string]string) {
	t.Helper()
	out := must[*s3.GetObjectOutput](t)(c.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}))
	defer out.Body.Close()
	zr, err := gzip.NewReader(out.Body)
	if err != nil {
		t.Fatalf("%s is not gzip: %v", key, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip %s: %v", key, err)
	}
	return b, out.Metadata
}

// trailKeys lists the keys of a bucket.
func (e *env) trailKeys(t *testing.T, c *s3.Client, bucket string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page := must[*s3.ListObjectsV2Output](t)(p.NextPage(ctx(t)))
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// trailRecord is the part of a delivered record the tests read.
type trailRecord struct {
	EventID            string `json:"eventID"`
	EventName          string `json:"eventName"`
	EventSource        string `json:"eventSource"`
	EventTime          string `json:"eventTime"`
	EventCategory      string `json:"eventCategory"`
	RecipientAccountID string `json:"recipientAccountId"`
	Resources          []struct {
		Type string `json:"type"`
		ARN  string `json:"ARN"`
	} `json:"resources"`
}

// trailRecords reads the records of a delivered log file.
func (e *env) trailRecords(t *testing.T, sc *s3.Client, bucket, key string) []trailRecord {
	t.Helper()
	body, _ := e.getGunzipped(t, sc, bucket, key)
	var f struct{ Records []trailRecord }
	if err := json.Unmarshal(body, &f); err != nil || !bytes.HasPrefix(body, []byte(`{"Records":[`)) {
		t.Fatalf("log file %s: %v: %.100s", key, err, body)
	}
	return f.Records
}

// verifyDigestChain checks a trail's digests (given oldest first) as aws-cli's validate-logs
// does: each at its own key, signed SHA256withRSA over CloudTrail's string to sign with the
// key ListPublicKeys publishes under its fingerprint, each listed log file's SHA-256 matching
// its uncompressed bytes, each linked to the one before (the first starting the chain). It
// returns the log files the digests list.
func (e *env) verifyDigestChain(t *testing.T, ct *cloudtrail.Client, sc *s3.Client, bucket string, digests []string, from time.Time) []string {
	t.Helper()
	keys := must[*cloudtrail.ListPublicKeysOutput](t)(ct.ListPublicKeys(ctx(t), &cloudtrail.ListPublicKeysInput{
		StartTime: aws.Time(from), EndTime: aws.Time(time.Now().Add(2 * time.Hour))}))
	pub := map[string]*rsa.PublicKey{}
	for _, k := range keys.PublicKeyList {
		pk, err := x509.ParsePKCS1PublicKey(k.Value)
		if err != nil {
			t.Fatalf("public key %s is not PKCS#1 DER: %v", aws.ToString(k.Fingerprint), err)
		}
		pub[aws.ToString(k.Fingerprint)] = pk
	}
	var logs []string
	var prevBody []byte
	prevKey, prevSig := "", ""
	for i, key := range digests {
		body, meta := e.getGunzipped(t, sc, bucket, key)
		var d audit.Digest
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatalf("digest %s: %v", key, err)
		}
		if d.DigestS3Bucket != bucket || d.DigestS3Object != key || d.DigestSignatureAlgorithm != "SHA256withRSA" || meta["signature-algorithm"] != "SHA256withRSA" {
			t.Fatalf("digest %s names %s/%s (%s, metadata %v)", key, d.DigestS3Bucket, d.DigestS3Object, d.DigestSignatureAlgorithm, meta)
		}
		pk := pub[d.DigestPublicKeyFingerprint]
		if pk == nil {
			t.Fatalf("digest %s: ListPublicKeys has no key %s", key, d.DigestPublicKeyFingerprint)
		}
		prev := "null"
		if d.PreviousDigestSignature != nil {
			prev = *d.PreviousDigestSignature
		}
		sum := sha256.Sum256(body)
		toSign := d.DigestEndTime + "\n" + d.DigestS3Bucket + "/" + d.DigestS3Object + "\n" + hex.EncodeToString(sum[:]) + "\n" + prev
		sig, err := hex.DecodeString(meta["signature"])
		if err != nil {
			t.Fatalf("digest %s: signature %q: %v", key, meta["signature"], err)
		}
		h := sha256.Sum256([]byte(toSign))
		if err := rsa.VerifyPKCS1v15(pk, crypto.SHA256, h[:], sig); err != nil {
			t.Fatalf("digest %s: signature does not verify: %v", key, err)
		}
		if i == 0 {
			if d.PreviousDigestS3Object != nil || d.PreviousDigestSignature != nil {
				t.Fatalf("first digest %s continues a chain: %+v", key, d)
			}
		} else {
			ps := sha256.Sum256(prevBody)
			if aws.ToString(d.PreviousDigestS3Object) != prevKey || aws.ToString(d.PreviousDigestHashValue) != hex.EncodeToString(ps[:]) ||
				aws.ToString(d.PreviousDigestSignature) != prevSig {
				t.Fatalf("digest %s does not link to %s", key, prevKey)
			}
		}
		for _, lf := range d.LogFiles {
			b, _ := e.getGunzipped(t, sc, lf.S3Bucket, lf.S3Object)
			ls := sha256.Sum256(b)
			if hex.EncodeToString(ls[:]) != lf.HashValue {
				t.Fatalf("log file %s: hash %x, digest says %s", lf.S3Object, ls, lf.HashValue)
			}
			logs = append(logs, lf.S3Object)
		}
		prevBody, prevKey, prevSig = body, key, meta["signature"]
	}
	return logs
}

// TestCloudTrailDelivery: a logging trail's records (its account's management events from
// StartLogging on) reach its bucket as gzip log files in CloudTrail's key layout, and its
// digests form a chain signed with the key ListPublicKeys publishes; StopLogging writes the
// final digest, after which nothing more is delivered.
func TestCloudTrailDelivery(t *testing.T) {
	e := startServer(t)
	acct := e.account(t, rootCreds)
	ct := e.cloudtrailAs(rootCreds)
	sc := e.s3As(rootCreds)
	e.trailBucket(t, rootCreds, "trail-logs", "audit", acct)
	e.newTrail(t, rootCreds, "main", "trail-logs", "audit")
	time.Sleep(time.Second) // records of the second of CreateTrail stay before StartLoggingTime
	started := time.Now()
	must[*cloudtrail.StartLoggingOutput](t)(ct.StartLogging(ctx(t), &cloudtrail.StartLoggingInput{Name: aws.String("main")}))

	_, k2, err := e.srv.CreateAccount(ctx(t), "second")
	if err != nil {
		t.Fatal(err)
	}
	other := e.cloudtrailAs(creds{k2.ID, k2.Secret, ""})
	for range 3 {
		must[*cloudtrail.DescribeTrailsOutput](t)(ct.DescribeTrails(ctx(t), &cloudtrail.DescribeTrailsInput{}))
		must[*cloudtrail.DescribeTrailsOutput](t)(other.DescribeTrails(ctx(t), &cloudtrail.DescribeTrailsInput{}))
	}
	if err := e.srv.DeliverTrails(ctx(t)); err != nil {
		t.Fatal(err)
	}
	must[*cloudtrail.GetTrailOutput](t)(ct.GetTrail(ctx(t), &cloudtrail.GetTrailInput{Name: aws.String("main")}))
	must[*cloudtrail.StopLoggingOutput](t)(ct.StopLogging(ctx(t), &cloudtrail.StopLoggingInput{Name: aws.String("main")}))
	st := must[*cloudtrail.GetTrailStatusOutput](t)(ct.GetTrailStatus(ctx(t), &cloudtrail.GetTrailStatusInput{Name: aws.String("main")}))
	if st.LatestDeliveryTime == nil || st.LatestDigestDeliveryTime == nil || aws.ToString(st.LatestDeliveryError) != "" {
		t.Fatalf("status after delivery: %+v", st)
	}

	region := "us-east-1"
	logRe := regexp.MustCompile(`^audit/AWSLogs/` + acct + `/CloudTrail/` + region + `/\d{4}/\d{2}/\d{2}/` + acct + `_CloudTrail_` + region + `_\d{8}T\d{4}Z_[0-9a-f]{16}\.json\.gz$`)
	digestRe := regexp.MustCompile(`^audit/AWSLogs/` + acct + `/CloudTrail-Digest/` + region + `/\d{4}/\d{2}/\d{2}/` + acct + `_CloudTrail-Digest_` + region + `_main_` + region + `_\d{8}T\d{6}Z\.json\.gz$`)
	var logs, digests []string
	for _, k := range e.trailKeys(t, sc, "trail-logs") {
		switch {
		case logRe.MatchString(k):
			logs = append(logs, k)
		case digestRe.MatchString(k):
			digests = append(digests, k)
		default:
			t.Errorf("unexpected key %s in the trail's bucket", k)
		}
	}
	if len(logs) == 0 || len(digests) != 2 {
		t.Fatalf("delivered %d log files and %d digests (%v), want some and 2 (one at DeliverTrails, the final one)", len(logs), len(digests), digests)
	}
	listed := e.verifyDigestChain(t, ct, sc, "trail-logs", digests, started.Add(-time.Minute))
	slices.Sort(listed)
	if !slices.Equal(listed, logs) {
		t.Fatalf("digests list %v, bucket holds %v", listed, logs)
	}

	names := map[string]int{}
	for _, k := range logs {
		for _, r := range e.trailRecords(t, sc, "trail-logs", k) {
			if r.RecipientAccountID != acct {
				t.Fatalf("log file %s holds a record of account %s", k, r.RecipientAccountID)
			}
			if at, _ := time.Parse(time.RFC3339, r.EventTime); at.Before(started.Truncate(time.Second)) {
				t.Fatalf("log file %s holds %s of %s, before StartLogging", k, r.EventName, r.EventTime)
			}
			names[r.EventSource+" "+r.EventName]++
		}
	}
	if names["cloudtrail.amazonaws.com DescribeTrails"] != 3 || names["cloudtrail.amazonaws.com CreateTrail"] != 0 {
		t.Fatalf("delivered events %v, want the account's 3 DescribeTrails and not the CreateTrail before StartLogging", names)
	}

	// Nothing more is delivered once the trail stopped.
	must[*cloudtrail.DescribeTrailsOutput](t)(ct.DescribeTrails(ctx(t), &cloudtrail.DescribeTrailsInput{}))
	if err := e.srv.DeliverTrails(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if n := len(e.trailKeys(t, sc, "trail-logs")); n != len(logs)+len(digests) {
		t.Fatalf("a stopped trail delivered %d more objects", n-len(logs)-len(digests))
	}

	// Logging again starts a new chain.
	must[*cloudtrail.StartLoggingOutput](t)(ct.StartLogging(ctx(t), &cloudtrail.StartLoggingInput{Name: aws.String("main")}))
	must[*cloudtrail.DeleteTrailOutput](t)(ct.DeleteTrail(ctx(t), &cloudtrail.DeleteTrailInput{Name: aws.String("main")}))
	var fresh []string
	for _, k := range e.trailKeys(t, sc, "trail-logs") {
		if digestRe.MatchString(k) && !slices.Contains(digests, k) {
			fresh = append(fresh, k)
		}
	}
	if len(fresh) != 1 {
		t.Fatalf("DeleteTrail of a logging trail wrote %d digests, want its final one", len(fresh))
	}
	e.verifyDigestChain(t, ct, sc, "trail-logs", fresh, started.Add(-time.Minute))
}

// TestCloudTrailDataEventSelection: the audit Writer asks the trails whether to record an S3
// data event; only a logging trail of the object's account whose selectors cover the object
// (and the read or write) says yes.
func TestCloudTrailDataEventSelection(t *testing.T) {
	e := startServer(t)
	acct := e.account(t, rootCreds)
	ct := e.cloudtrailAs(rootCreds)
	e.trailBucket(t, rootCreds, "trail-logs", "", acct)
	e.newTrail(t, rootCreds, "main", "trail-logs", "")
	w := e.srv.AuditLog()
	obj := "arn:aws:s3:::data/in/file.txt"
	check := func(t *testing.T, account, arn string, readOnly, want bool) {
		t.Helper()
		if got := w.WantsData(account, arn, readOnly); got != want {
			t.Fatalf("WantsData(%s, %s, readOnly=%v) = %v, want %v", account, arn, readOnly, got, want)
		}
	}
	check(t, acct, obj, false, false) // default selectors: management events only
	must[*cloudtrail.PutEventSelectorsOutput](t)(ct.PutEventSelectors(ctx(t), &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("main"),
		EventSelectors: []cttypes.EventSelector{{ReadWriteType: "WriteOnly", DataResources: []cttypes.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3:::data/in/"}}}}}}))
	check(t, acct, obj, false, false) // not logging yet
	must[*cloudtrail.StartLoggingOutput](t)(ct.StartLogging(ctx(t), &cloudtrail.StartLoggingInput{Name: aws.String("main")}))
	for _, tc := range []struct {
		name     string
		account  string
		arn      string
		readOnly bool
		want     bool
	}{
		{"write under the prefix", acct, obj, false, true},
		{"read under the prefix", acct, obj, true, false},
		{"write elsewhere in the bucket", acct, "arn:aws:s3:::data/out/file.txt", false, false},
		{"write in another bucket", acct, "arn:aws:s3:::other/in/file.txt", false, false},
		{"another account's write", "999999999999", obj, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) { check(t, tc.account, tc.arn, tc.readOnly, tc.want) })
	}
	must[*cloudtrail.StopLoggingOutput](t)(ct.StopLogging(ctx(t), &cloudtrail.StopLoggingInput{Name: aws.String("main")}))
	check(t, acct, obj, false, false)
}

// TestCloudTrailDataEventsDelivered: S3 object writes a trail selects reach its bucket as data
// events; reads it does not select, and writes elsewhere, do not.
func TestCloudTrailDataEventsDelivered(t *testing.T) {
	e := startServer(t)
	acct := e.account(t, rootCreds)
	ct := e.cloudtrailAs(rootCreds)
	sc := e.s3As(rootCreds)
	e.trailBucket(t, rootCreds, "trail-logs", "", acct)
	must[*s3.CreateBucketOutput](t)(sc.CreateBucket(ctx(t), &s3.CreateBucketInput{Bucket: aws.String("data")}))
	e.newTrail(t, rootCreds, "main", "trail-logs", "")
	must[*cloudtrail.PutEventSelectorsOutput](t)(ct.PutEventSelectors(ctx(t), &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("main"),
		EventSelectors: []cttypes.EventSelector{{ReadWriteType: "WriteOnly", IncludeManagementEvents: aws.Bool(true),
			DataResources: []cttypes.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3:::data/in/"}}}}}}))
	must[*cloudtrail.StartLoggingOutput](t)(ct.StartLogging(ctx(t), &cloudtrail.StartLoggingInput{Name: aws.String("main")}))
	for _, key := range []string{"in/a.txt", "out/b.txt"} {
		must[*s3.PutObjectOutput](t)(sc.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(key), Body: strings.NewReader("x")}))
	}
	out := must[*s3.GetObjectOutput](t)(sc.GetObject(ctx(t), &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("in/a.txt")}))
	out.Body.Close()
	must[*cloudtrail.StopLoggingOutput](t)(ct.StopLogging(ctx(t), &cloudtrail.StopLoggingInput{Name: aws.String("main")}))

	data := map[string]int{}
	for _, k := range e.trailKeys(t, sc, "trail-logs") {
		if !strings.Contains(k, "/CloudTrail/") {
			continue
		}
		for _, r := range e.trailRecords(t, sc, "trail-logs", k) {
			if r.EventCategory != "Data" {
				continue
			}
			for _, res := range r.Resources {
				if res.Type == "AWS::S3::Object" {
					data[r.EventName+" "+res.ARN]++
				}
			}
		}
	}
	want := map[string]int{"PutObject arn:aws:s3:::data/in/a.txt": 1}
	if len(data) != len(want) || data["PutObject arn:aws:s3:::data/in/a.txt"] != 1 {
		t.Fatalf("delivered data events %v, want %v", data, want)
	}
}

// TestCloudTrailDeliveryError: while the bucket's policy no longer lets CloudTrail write,
// delivery fails, GetTrailStatus says AccessDenied and nothing is lost: once the policy is
// back, the records are delivered.
func TestCloudTrailDeliveryError(t *testing.T) {
	e := startServer(t)
	acct := e.account(t, rootCreds)
	ct := e.cloudtrailAs(rootCreds)
	sc := e.s3As(rootCreds)
	e.trailBucket(t, rootCreds, "trail-logs", "", acct)
	e.newTrail(t, rootCreds, "main", "trail-logs", "")
	must[*cloudtrail.StartLoggingOutput](t)(ct.StartLogging(ctx(t), &cloudtrail.StartLoggingInput{Name: aws.String("main")}))
	must[*s3.DeleteBucketPolicyOutput](t)(sc.DeleteBucketPolicy(ctx(t), &s3.DeleteBucketPolicyInput{Bucket: aws.String("trail-logs")}))
	must[*cloudtrail.DescribeTrailsOutput](t)(ct.DescribeTrails(ctx(t), &cloudtrail.DescribeTrailsInput{}))
	if err := e.srv.DeliverTrails(ctx(t)); err == nil {
		t.Fatal("delivery into a bucket that refuses CloudTrail succeeded")
	}
	st := must[*cloudtrail.GetTrailStatusOutput](t)(ct.GetTrailStatus(ctx(t), &cloudtrail.GetTrailStatusInput{Name: aws.String("main")}))
	if aws.ToString(st.LatestDeliveryError) != "AccessDenied" || st.LatestDeliveryTime != nil {
		t.Fatalf("status %+v, want LatestDeliveryError AccessDenied and no delivery", st)
	}
	if n := len(e.trailKeys(t, sc, "trail-logs")); n != 0 {
		t.Fatalf("%d objects delivered against the bucket's policy", n)
	}
	must[*s3.PutBucketPolicyOutput](t)(sc.PutBucketPolicy(ctx(t), &s3.PutBucketPolicyInput{Bucket: aws.String("trail-logs"),
		Policy: aws.String(trailBucketPolicy("trail-logs", "", acct))}))
	if err := e.srv.DeliverTrails(ctx(t)); err != nil {
		t.Fatal(err)
	}
	st = must[*cloudtrail.GetTrailStatusOutput](t)(ct.GetTrailStatus(ctx(t), &cloudtrail.GetTrailStatusInput{Name: aws.String("main")}))
	if aws.ToString(st.LatestDeliveryError) != "" || st.LatestDeliveryTime == nil {
		t.Fatalf("status after the policy is back: %+v", st)
	}
	found := false
	for _, k := range e.trailKeys(t, sc, "trail-logs") {
		if strings.Contains(k, "/CloudTrail/") {
			for _, r := range e.trailRecords(t, sc, "trail-logs", k) {
				found = found || r.EventName == "DescribeTrails"
			}
		}
	}
	if !found {
		t.Fatal("the DescribeTrails made while delivery failed was never delivered")
	}
}
