package integration

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/server"
	"github.com/coffer/coffer/internal/trail"
	"github.com/coffer/coffer/internal/trail/bolttrail"
)

// startStoppable runs a server on dir that the test stops itself (stop), for restarts.
func startStoppable(t *testing.T, dir string) (e *env, stop func()) {
	t.Helper()
	return startStoppableWith(t, server.Config{Dir: dir})
}

// startStoppableWith runs a server with cfg (on loopback, with the test credentials) that the
// test stops itself.
func startStoppableWith(t *testing.T, cfg server.Config) (e *env, stop func()) {
	t.Helper()
	cfg.Listen, cfg.Region, cfg.AccessKey, cfg.SecretKey = "127.0.0.1:0", "us-east-1", testAccessKey, testSecretKey
	srv, err := server.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e = &env{t: t, dir: cfg.Dir, srv: srv, region: "us-east-1"}
	e.s3 = e.client(testAccessKey, testSecretKey, nil)
	return e, func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(c); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	}
}

// trailState reads (and with set, rewrites) a trail's stored record in a stopped server's
// meta.db.
func trailState(t *testing.T, dir, account string, set *trail.Trail) trail.Trail {
	t.Helper()
	db, err := boltfile.Open(filepath.Join(dir, "meta.db"), server.TopBuckets())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := bolttrail.New(db)
	if err != nil {
		t.Fatal(err)
	}
	if set != nil {
		if _, err := st.Update(context.Background(), account, set.Name, func(tr *trail.Trail) error { *tr = *set; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := st.Get(context.Background(), account, "main")
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestCloudTrailShutdownDigestAndRedelivery: a clean shutdown writes a logging trail's digest
// (the chain goes on after the restart); a delivery redone after a crash between writing a log
// file and recording it (simulated by restoring the trail's stored state and removing the
// digest written after it) rewrites the same object, and the next digest lists it once.
func TestCloudTrailShutdownDigestAndRedelivery(t *testing.T) {
	dir := t.TempDir()
	e, stop := startStoppable(t, dir)
	acct := e.account(t, rootCreds)
	e.trailBucket(t, rootCreds, "trail-logs", "", acct)
	e.newTrail(t, rootCreds, "main", "trail-logs", "")
	started := time.Now()
	must[*cloudtrail.StartLoggingOutput](t)(e.cloudtrailAs(rootCreds).StartLogging(ctx(t), &cloudtrail.StartLoggingInput{Name: aws.String("main")}))
	must[*cloudtrail.DescribeTrailsOutput](t)(e.cloudtrailAs(rootCreds).DescribeTrails(ctx(t), &cloudtrail.DescribeTrailsInput{}))
	stop()
	before := trailState(t, dir, acct, nil)
	if before.Delivery.Previous == nil || !before.Status.IsLogging {
		t.Fatalf("after a clean shutdown the trail has no digest: %+v", before.Delivery)
	}
	firstDigest := before.Delivery.Previous.S3Object

	e, stop = startStoppable(t, dir)
	for range 3 {
		must[*cloudtrail.GetTrailOutput](t)(e.cloudtrailAs(rootCreds).GetTrail(ctx(t), &cloudtrail.GetTrailInput{Name: aws.String("main")}))
	}
	stop()
	after := trailState(t, dir, acct, nil)
	if len(after.Delivery.Pending) != 0 || after.Delivery.Previous == nil || after.Delivery.Previous.S3Object == firstDigest {
		t.Fatalf("the second shutdown wrote no digest: %+v", after.Delivery)
	}

	// The crash: the log files of the second run were written, but neither the cursor nor the
	// digest after them were recorded.
	trailState(t, dir, acct, &before)
	e, stop = startStoppable(t, dir)
	defer stop()
	sc := e.s3As(rootCreds)
	must[*s3.DeleteObjectOutput](t)(sc.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String("trail-logs"), Key: aws.String(after.Delivery.Previous.S3Object)}))
	logsBefore := 0
	for _, k := range e.trailKeys(t, sc, "trail-logs") {
		if strings.Contains(k, "/CloudTrail/") {
			logsBefore++
		}
	}
	ct := e.cloudtrailAs(rootCreds)
	must[*cloudtrail.StopLoggingOutput](t)(ct.StopLogging(ctx(t), &cloudtrail.StopLoggingInput{Name: aws.String("main")}))

	var logs, digests []string
	for _, k := range e.trailKeys(t, sc, "trail-logs") {
		if strings.Contains(k, "/CloudTrail-Digest/") {
			digests = append(digests, k)
		} else {
			logs = append(logs, k)
		}
	}
	if len(digests) != 2 || digests[0] != firstDigest {
		t.Fatalf("digests %v, want the first shutdown's and StopLogging's", digests)
	}
	listed := e.verifyDigestChain(t, ct, sc, "trail-logs", digests, started.Add(-time.Minute))
	slices.Sort(listed)
	if !slices.Equal(listed, slices.Compact(slices.Clone(listed))) {
		t.Fatalf("a log file is listed twice: %v", listed)
	}
	if !slices.Equal(listed, logs) {
		t.Fatalf("digests list %v, bucket holds %v", listed, logs)
	}
	// The redone delivery rewrote the second run's log files rather than adding copies: no
	// record is in two log files, and only the third run's own records can add a file.
	seen := map[string]string{}
	for _, k := range logs {
		for _, r := range e.trailRecords(t, sc, "trail-logs", k) {
			if other, ok := seen[r.EventID]; ok {
				t.Fatalf("record %s delivered twice: in %s and %s", r.EventID, other, k)
			}
			seen[r.EventID] = k
		}
	}
	if len(logs) > logsBefore+1 {
		t.Fatalf("%d log files after the redelivery, %d before it", len(logs), logsBefore)
	}
}

// TestCloudTrailPeriodicDigests: without StopLogging or shutdown, the background delivery
// writes a logging trail's log files and a digest each period (AuditDigestEvery, an hour by
// default), chained.
func TestCloudTrailPeriodicDigests(t *testing.T) {
	e := startServerWith(t, server.Config{Dir: t.TempDir(), AuditRollEvery: 200 * time.Millisecond, AuditDigestEvery: time.Second,
		TrailDeliverEvery: 100 * time.Millisecond})
	acct := e.account(t, rootCreds)
	ct := e.cloudtrailAs(rootCreds)
	sc := e.s3As(rootCreds)
	e.trailBucket(t, rootCreds, "trail-logs", "", acct)
	e.newTrail(t, rootCreds, "main", "trail-logs", "")
	started := time.Now()
	must[*cloudtrail.StartLoggingOutput](t)(ct.StartLogging(ctx(t), &cloudtrail.StartLoggingInput{Name: aws.String("main")}))
	must[*cloudtrail.DescribeTrailsOutput](t)(ct.DescribeTrails(ctx(t), &cloudtrail.DescribeTrailsInput{}))
	var logs, digests []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		logs, digests = nil, nil
		for _, k := range e.trailKeys(t, sc, "trail-logs") {
			if strings.Contains(k, "/CloudTrail-Digest/") {
				digests = append(digests, k)
			} else {
				logs = append(logs, k)
			}
		}
		if len(digests) >= 2 && len(logs) > 0 {
			break
		}
	}
	if len(digests) < 2 || len(logs) == 0 {
		t.Fatalf("after 30s of 1s periods: %d digests and %d log files", len(digests), len(logs))
	}
	listed := e.verifyDigestChain(t, ct, sc, "trail-logs", digests, started.Add(-time.Minute))
	if len(listed) == 0 {
		t.Fatal("no digest lists the delivered log files")
	}
}
